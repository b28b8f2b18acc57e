/* SPDX-License-Identifier: MIT */
/*
 * What a snapshot costs over the least work that could produce it.
 *
 * On a fake two-socket Intel tree (8 powercap zones, on tmpfs like real
 * sysfs is in memory), it times
 *   floor:       pread + parse of each already-open energy_uj file, the
 *                same files joules opens: nothing less can read them;
 *   joules_read: one snapshot of every sensor through the library.
 * Both run in the same process, interleaved round by round so drift hits
 * both alike, and the medians are compared as a ratio: absolute times
 * differ between machines, the ratio is the library's overhead. Nothing is
 * asserted about time; it prints one line for a person to judge.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"
#include "joules.h"

#define ROUNDS 501 /* timed rounds; the median of them is reported */
#define BATCH 100  /* snapshots per round, so the clock's cost vanishes */
#define WARMUP 20  /* untimed rounds first: caches, page cache, branch predictors */
#define TARGET 1.3 /* the overhead the library is held to */

static volatile uint64_t sink; /* keeps the floor's parsing from being optimised away */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The floor: the bare minimum to read n open counters once. */
static void floor_snapshot(const int *fds, size_t n)
{
	char buf[32];
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		ssize_t len = pread(fds[i], buf, sizeof buf - 1, 0);
		uint64_t v = 0;
		for (ssize_t k = 0; k < len && buf[k] >= '0' && buf[k] <= '9'; k++)
			v = v * 10 + (uint64_t)(buf[k] - '0');
		sum += v;
	}
	sink += sum;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return v[n / 2];
}

/* Open the layout's energy_uj files: the ones the powercap backend reads. */
static size_t open_counters(const char *root, int **fds)
{
	char pattern[4096];
	glob_t g;
	snprintf(pattern, sizeof pattern, "%s/class/powercap/*/energy_uj", root);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	*fds = calloc(g.gl_pathc, sizeof **fds);
	size_t n = 0;
	for (size_t i = 0; *fds && i < g.gl_pathc; i++) {
		int fd = open(g.gl_pathv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "snapshot: %s: %s\n", g.gl_pathv[i], strerror(errno));
			continue;
		}
		(*fds)[n++] = fd;
	}
	globfree(&g);
	return n;
}

/* tmpfs like sysfs, so the floor is not a disk's page cache. */
static struct fakesys *make_tree(void)
{
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	struct fakesys *fs = fakesys_new();
	if (!fs) {
		perror("snapshot: cannot make a fake tree");
		return NULL;
	}
	if (fakesys_layout(fs, "intel-2s") < 0) {
		perror("snapshot: cannot build the intel-2s layout");
		fakesys_free(fs);
		return NULL;
	}
	/*
	 * The tree stands for the whole machine: a real GPU (found through
	 * NVML, not sysfs) must not join the sensors. The tree holds no NVML.
	 */
	char nvml[4096];
	snprintf(nvml, sizeof nvml, "%s/no-nvml/libnvidia-ml.so.1", fakesys_root(fs));
	setenv("JOULES_NVML_LIBRARY", nvml, 1);
	return fs;
}

static int run(joules_ctx *ctx, const int *fds, size_t n)
{
	struct joules_reading *out = calloc(n, sizeof *out);
	uint64_t *floor_ns = calloc(ROUNDS, sizeof *floor_ns);
	uint64_t *read_ns = calloc(ROUNDS, sizeof *read_ns);
	int rc = 1;
	if (!out || !floor_ns || !read_ns) {
		fputs("snapshot: out of memory\n", stderr);
		goto out;
	}
	for (int r = -WARMUP; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int b = 0; b < BATCH; b++)
			floor_snapshot(fds, n);
		uint64_t t1 = now_ns();
		for (int b = 0; b < BATCH; b++)
			joules_read(ctx, out, n);
		uint64_t t2 = now_ns();
		if (r >= 0) {
			floor_ns[r] = (t1 - t0) / BATCH;
			read_ns[r] = (t2 - t1) / BATCH;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].status != 0) {
			fprintf(stderr, "snapshot: sensor %s failed: %s\n", joules_sensor(ctx, i)->id,
				joules_sensor_error(ctx, i));
			goto out;
		}
	}
	double f = (double)median(floor_ns, ROUNDS), j = (double)median(read_ns, ROUNDS);
	printf("snapshot: %zu sensors, floor %.2f µs, joules_read %.2f µs, ratio %.2f "
	       "(target <= %.1f)\n",
	       n, f / 1000, j / 1000, j / f, TARGET);
	rc = 0;
out:
	free(out);
	free(floor_ns);
	free(read_ns);
	return rc;
}

int main(void)
{
	struct fakesys *fs = make_tree();
	if (!fs)
		return 1;
	joules_ctx *ctx = NULL;
	int *fds = NULL;
	size_t nfds = 0;
	int rc = 1;
	int r = joules_open(&ctx, fakesys_root(fs));
	if (r < 0) {
		fprintf(stderr, "snapshot: joules_open: %s\n", joules_strerror(r));
		goto out;
	}
	nfds = open_counters(fakesys_root(fs), &fds);
	size_t n = joules_sensor_count(ctx);
	/* Same files, same count, or the ratio means nothing. */
	if (n != nfds || n == 0) {
		fprintf(stderr, "snapshot: joules sees %zu sensors but the tree has %zu counters\n",
			n, nfds);
		goto out;
	}
	rc = run(ctx, fds, n);
out:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	free(fds);
	joules_close(ctx);
	fakesys_free(fs);
	return rc;
}
