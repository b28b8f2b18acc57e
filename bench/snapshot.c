/* SPDX-License-Identifier: MIT */
/*
 * What a snapshot costs over the least work that could produce it.
 *
 * On a fake eight-socket Intel tree (8 packages x 4 RAPL domains: 32
 * powercap zones, on tmpfs like real sysfs is in memory; --layout picks
 * another), it times
 *   floor:       pread + parse of each already-open energy_uj file, the
 *                same files joules opens: nothing less can read them;
 *   joules_read: one snapshot of every sensor through the library,
 * and counts the allocations joules_read makes (target: none).
 * Both run in the same process, interleaved round by round so drift hits
 * both alike, and the medians are compared as a ratio: absolute times
 * differ between machines, the ratio is the library's overhead.
 *
 * With --root DIR --region (python_measure.py's floor): on that existing
 * tree, joules_region_begin + joules_region_end, the calls a Python
 * `with joules.measure()` makes, against two direct snapshots.
 *
 * Nothing is asserted about time; it prints report.h lines for bench/run.
 * Usage: bench_snapshot [--layout NAME] | --root DIR --region
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc_count.h"
#include "fakesys.h"
#include "joules.h"
#include "report.h"

#define ROUNDS 501 /* timed rounds; the median of them is reported */
#define BATCH 100  /* snapshots per round, so the clock's cost vanishes */
#define WARMUP 20  /* untimed rounds first: caches, page cache, branch predictors */
#define REGION_ROUNDS 101 /* region rounds (each a begin and an end of a region) */

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
static struct fakesys *make_tree(const char *layout)
{
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	struct fakesys *fs = fakesys_new();
	if (!fs) {
		perror("snapshot: cannot make a fake tree");
		return NULL;
	}
	if (fakesys_layout(fs, layout) < 0) {
		fprintf(stderr, "snapshot: cannot build the %s layout: %s\n", layout, strerror(errno));
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

static int sensors_ok(joules_ctx *ctx, const struct joules_reading *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (out[i].status != 0) {
			fprintf(stderr, "snapshot: sensor %s failed: %s\n", joules_sensor(ctx, i)->id,
				joules_sensor_error(ctx, i));
			return -1;
		}
	}
	return 0;
}

static int run(joules_ctx *ctx, const int *fds, size_t n, const char *layout)
{
	struct joules_reading *out = calloc(n, sizeof *out);
	uint64_t *floor_ns = calloc(ROUNDS, sizeof *floor_ns);
	uint64_t *read_ns = calloc(ROUNDS, sizeof *read_ns);
	uint64_t allocs = 0, reads = 0;
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
		uint64_t a0 = alloc_count();
		for (int b = 0; b < BATCH; b++)
			joules_read(ctx, out, n);
		uint64_t t2 = now_ns();
		if (r >= 0) {
			allocs += alloc_count() - a0;
			reads += BATCH;
			floor_ns[r] = (t1 - t0) / BATCH;
			read_ns[r] = (t2 - t1) / BATCH;
		}
	}
	if (sensors_ok(ctx, out, n) < 0)
		goto out;
	double f = (double)median(floor_ns, ROUNDS), j = (double)median(read_ns, ROUNDS);
	char row[200];
	snprintf(row, sizeof row, "direct snapshot (joules_read), %zu sensors, %s on tmpfs", n,
		 layout);
	bench_row(row, j / 1000, "µs", "pread loop over the same open files", f / 1000,
		  "ratio <= 1.3");
	if (alloc_counting())
		bench_row("allocations per direct snapshot", (double)allocs / (double)reads,
			  "allocs", NULL, 0, "value == 0");
	else
		bench_skip("allocations per direct snapshot", "value == 0",
			   "not counted under AddressSanitizer");
	rc = 0;
out:
	free(out);
	free(floor_ns);
	free(read_ns);
	return rc;
}

/* joules_region_begin + _end (what `with joules.measure()` calls) vs two snapshots. */
static int run_region(joules_ctx *ctx, size_t n)
{
	struct joules_reading *out = calloc(n, sizeof *out);
	struct joules_region_sensor *per = calloc(n, sizeof *per);
	uint64_t *two_ns = calloc(REGION_ROUNDS, sizeof *two_ns);
	uint64_t *region_ns = calloc(REGION_ROUNDS, sizeof *region_ns);
	struct joules_region_result res;
	int rc = 1;
	if (!out || !per || !two_ns || !region_ns) {
		fputs("snapshot: out of memory\n", stderr);
		goto out;
	}
	for (int r = -WARMUP; r < REGION_ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int b = 0; b < BATCH; b++) {
			joules_read(ctx, out, n);
			joules_read(ctx, out, n);
		}
		uint64_t t1 = now_ns();
		for (int b = 0; b < BATCH; b++) {
			int id, e;
			if ((e = joules_region_begin(ctx, "", &id)) < 0 ||
			    (e = joules_region_end(ctx, id, 1000, &res, per, n)) != 0) {
				fprintf(stderr, "snapshot: region: %s\n",
					e < 0 ? joules_last_error(ctx) : "not final");
				goto out;
			}
		}
		uint64_t t2 = now_ns();
		if (r >= 0) {
			two_ns[r] = (t1 - t0) / BATCH;
			region_ns[r] = (t2 - t1) / BATCH;
		}
	}
	if (sensors_ok(ctx, out, n) < 0)
		goto out;
	char row[200];
	snprintf(row, sizeof row, "region from C (joules_region_begin + _end), %zu sensors", n);
	bench_row(row, (double)median(region_ns, REGION_ROUNDS) / 1000, "µs",
		  "two direct snapshots", (double)median(two_ns, REGION_ROUNDS) / 1000, "");
	rc = 0;
out:
	free(out);
	free(per);
	free(two_ns);
	free(region_ns);
	return rc;
}

int main(int argc, char **argv)
{
	const char *layout = "intel-8s", *root = NULL;
	bool region = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--layout") && i + 1 < argc)
			layout = argv[++i];
		else if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (!strcmp(argv[i], "--region"))
			region = true;
		else {
			fputs("usage: bench_snapshot [--layout NAME] | --root DIR --region\n", stderr);
			return 2;
		}
	}
	if (region != (root != NULL)) {
		fputs("snapshot: --region needs --root DIR (and --root is only for it)\n", stderr);
		return 2;
	}
	struct fakesys *fs = root ? NULL : make_tree(layout);
	if (!root && !fs)
		return 1;
	joules_ctx *ctx = NULL;
	int *fds = NULL;
	size_t nfds = 0;
	int rc = 1;
	uint64_t a0 = alloc_count();
	int r = joules_open(&ctx, root ? root : fakesys_root(fs));
	if (r < 0) {
		fprintf(stderr, "snapshot: joules_open: %s\n", joules_strerror(r));
		goto out;
	}
	/* A count that sees joules_open allocate is one that would see joules_read do it. */
	if (alloc_counting())
		printf("snapshot: joules_open made %llu allocations\n",
		       (unsigned long long)(alloc_count() - a0));
	size_t n = joules_sensor_count(ctx);
	if (region) {
		rc = n ? run_region(ctx, n) : 1;
		goto out;
	}
	nfds = open_counters(fakesys_root(fs), &fds);
	/* Same files, same count, or the ratio means nothing. */
	if (n != nfds || n == 0) {
		fprintf(stderr, "snapshot: joules sees %zu sensors but the tree has %zu counters\n",
			n, nfds);
		goto out;
	}
	rc = run(ctx, fds, n, layout);
out:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	free(fds);
	joules_close(ctx);
	fakesys_free(fs);
	return rc;
}
