/* SPDX-License-Identifier: MIT */
#include "fakesys.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fakesys {
	char root[PATH_MAX];
};

struct fakesys *fakesys_new(void)
{
	struct fakesys *fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	const char *tmp = getenv("TMPDIR");
	snprintf(fs->root, sizeof fs->root, "%s/joules-fakesys-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fs->root) || chmod(fs->root, 0755) < 0) {
		free(fs);
		return NULL;
	}
	return fs;
}

struct fakesys *fakesys_attach(const char *root)
{
	struct fakesys *fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	if (snprintf(fs->root, sizeof fs->root, "%s", root) >= (int)sizeof fs->root) {
		free(fs);
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fs;
}

void fakesys_detach(struct fakesys *fs)
{
	free(fs);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fakesys_free(struct fakesys *fs)
{
	if (!fs)
		return;
	nftw(fs->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fs);
}

const char *fakesys_root(const struct fakesys *fs)
{
	return fs->root;
}

static int full_path(const struct fakesys *fs, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", fs->root, rel);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p of every directory above `path`. */
static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int fakesys_mkdir(struct fakesys *fs, const char *rel)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0 || make_parents(path) < 0)
		return -1;
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int fakesys_write(struct fakesys *fs, const char *rel, const char *content)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0 || make_parents(path) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t len = strlen(content);
	int r = pwrite(fd, content, len, 0) == (ssize_t)len && ftruncate(fd, (off_t)len) == 0 ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int fakesys_write_u64(struct fakesys *fs, const char *rel, uint64_t v)
{
	char text[32];
	snprintf(text, sizeof text, "%" PRIu64 "\n", v);
	return fakesys_write(fs, rel, text);
}

int fakesys_read_u64(struct fakesys *fs, const char *rel, uint64_t *v)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int r = fscanf(f, "%" SCNu64, v) == 1 ? 0 : -1;
	fclose(f);
	if (r < 0)
		errno = EINVAL;
	return r;
}

int fakesys_advance(struct fakesys *fs, const char *rel, uint64_t delta, uint64_t modulus)
{
	uint64_t v;
	if (fakesys_read_u64(fs, rel, &v) < 0)
		return -1;
	if (modulus)
		v = (uint64_t)(((unsigned __int128)v + delta) % modulus);
	else
		v += delta;
	return fakesys_write_u64(fs, rel, v);
}

int fakesys_remove(struct fakesys *fs, const char *rel)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0)
		return -1;
	if (truncate(path, 0) < 0)
		return -1;
	return unlink(path);
}

int fakesys_chmod(struct fakesys *fs, const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0)
		return -1;
	return chmod(path, mode);
}

int fakesys_symlink(struct fakesys *fs, const char *rel, const char *target)
{
	char path[PATH_MAX];
	if (full_path(fs, rel, path, sizeof path) < 0 || make_parents(path) < 0)
		return -1;
	return symlink(target, path);
}

int fakesys_powercap_zone(struct fakesys *fs, const char *dir, const char *name,
			  uint64_t energy_uj, uint64_t max_range_uj)
{
	char rel[PATH_MAX];
	snprintf(rel, sizeof rel, "class/powercap/%s/name", dir);
	char text[128];
	snprintf(text, sizeof text, "%s\n", name);
	if (fakesys_write(fs, rel, text) < 0)
		return -1;
	snprintf(rel, sizeof rel, "class/powercap/%s/energy_uj", dir);
	if (fakesys_write_u64(fs, rel, energy_uj) < 0)
		return -1;
	snprintf(rel, sizeof rel, "class/powercap/%s/enabled", dir);
	if (fakesys_write(fs, rel, "1\n") < 0)
		return -1;
	if (!max_range_uj)
		return 0;
	snprintf(rel, sizeof rel, "class/powercap/%s/max_energy_range_uj", dir);
	return fakesys_write_u64(fs, rel, max_range_uj);
}
