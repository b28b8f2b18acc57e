/* SPDX-License-Identifier: MIT */
/*
 * For the CLI tests: an LD_PRELOAD shim that makes pread() fail the way a
 * driver refuses a sysfs read (amdgpu's EBUSY while the GPU is runtime-
 * suspended), which no file of a fake tree can do. While the file named by
 * $JOULES_FAULT_FLAG exists, pread on a file whose path ends with
 * $JOULES_FAULT_SUFFIX fails with errno $JOULES_FAULT_ERRNO. The C tests
 * use tests/faults.c (the linker's --wrap) instead.
 */
/* Both pread and pread64 are defined here: no redirection of one to the other. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off);
EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off);

/* The errno to fail a pread of fd with, or 0. */
static int fault_of(int fd)
{
	const char *suffix = getenv("JOULES_FAULT_SUFFIX"), *flag = getenv("JOULES_FAULT_FLAG");
	const char *e = getenv("JOULES_FAULT_ERRNO");
	if (!suffix || !flag || !e || access(flag, F_OK) != 0)
		return 0;
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t k = readlink(link, path, sizeof path - 1);
	if (k <= 0)
		return 0;
	path[k] = '\0';
	size_t ls = strlen(suffix);
	return (size_t)k >= ls && strcmp(path + k - ls, suffix) == 0 ? atoi(e) : 0;
}

static ssize_t faulty(const char *name, int fd, void *buf, size_t n, off_t off)
{
	int e = fault_of(fd);
	if (e) {
		errno = e;
		return -1;
	}
	pread_fn real = (pread_fn)dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return faulty("pread", fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return faulty("pread64", fd, buf, n, off);
}
