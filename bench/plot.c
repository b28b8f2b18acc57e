/* SPDX-License-Identifier: MIT */
/*
 * What `joules plot` costs on a long trace, over the least work any reader
 * of the same file must do.
 *
 * It writes a trace of 1,000,000 rows (4 sensors × 250,000 samples, as
 * `joules record` writes them) and times
 *   floor:       reading the file and finding its lines (as `wc -l` does):
 *                nothing that plots it can do less;
 *   joules plot: the built binary, run on it to a PNG, from exec to exit.
 * Each is run 3 times and the median taken; the ratio is the plot's cost
 * over the floor. Its peak memory (the child's maxrss, median) is given for
 * this trace and for one of a tenth the rows: a ratio near 1 says memory is
 * bounded by the series, not the rows. Nothing is asserted about time; it
 * prints lines for a person and report.h lines for bench/run (target:
 * under 5 s).
 *
 *   bench_plot JOULES_BINARY
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

#define SENSORS 4
#define ROWS 1000000
#define REPEAT 3
#define TARGET_S 5.0

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A trace of `rows` rows; 0, or -1 with a message. */
static int write_trace(const char *path, long rows)
{
	static const struct {
		const char *id, *total;
		double w;
	} sensors[SENSORS] = {
		{"rapl:package-0", "cpu", 40}, {"rapl:core-0", "", 25},
		{"rapl:dram-0", "dram", 6}, {"rapl:psys", "platform", 70},
	};
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "bench_plot: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("time_s,sensor,watts,joules,total\n", f);
	double joules[SENSORS] = {0};
	for (long k = 1; k <= rows / SENSORS; k++) {
		double t = (double)k * 0.001;
		for (int i = 0; i < SENSORS; i++) {
			/* A load that changes every ~0.1 s and jitters every sample. */
			double w = sensors[i].w * (1 + 0.3 * ((k / 100) % 3) + 0.05 * (double)(k % 7));
			joules[i] += w * 0.001;
			fprintf(f, "%.6f,%s,%.6f,%.6f,%s\n", t, sensors[i].id, w, joules[i],
				sensors[i].total);
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_plot: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The floor: read the whole file and count its lines; seconds, or < 0. */
static double floor_once(const char *path, long *lines)
{
	static char buf[1 << 16];
	double t0 = now_s();
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n;
	*lines = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
			(*lines)++;
	close(fd);
	return n < 0 ? -1 : now_s() - t0;
}

/* joules plot TRACE -o PNG once: seconds (< 0 on failure) and peak memory in KiB. */
static double plot_once(const char *joules, const char *trace, const char *png, long *maxrss_kib)
{
	char *argv[] = {(char *)joules, "plot", (char *)trace, "-o", (char *)png, NULL};
	pid_t pid;
	double t0 = now_s();
	int e = posix_spawn(&pid, joules, NULL, NULL, argv, environ);
	if (e) {
		fprintf(stderr, "bench_plot: cannot run %s: %s\n", joules, strerror(e));
		return -1;
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	double dt = now_s() - t0;
	*maxrss_kib = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_plot: joules plot failed (status %d)\n", status);
		return -1;
	}
	return dt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median3(double v[REPEAT])
{
	qsort(v, REPEAT, sizeof v[0], cmp_double);
	return v[REPEAT / 2];
}

/* Median of REPEAT plots (time, and peak memory in *rss); -1 on failure. */
static double median_plot(const char *joules, const char *trace, const char *png, long *rss)
{
	double t[REPEAT], kib[REPEAT];
	for (int r = 0; r < REPEAT; r++) {
		long k;
		if ((t[r] = plot_once(joules, trace, png, &k)) < 0)
			return -1;
		kib[r] = (double)k;
	}
	*rss = (long)median3(kib);
	return median3(t);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: bench_plot JOULES_BINARY\n", stderr);
		return 2;
	}
	char dir[] = "/tmp/joules-bench-plot-XXXXXX", big[64], small[64], png[64];
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench_plot: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(big, sizeof big, "%s/big.csv", dir);
	snprintf(small, sizeof small, "%s/small.csv", dir);
	snprintf(png, sizeof png, "%s/p.png", dir);
	int rc = 1;
	if (write_trace(big, ROWS) < 0 || write_trace(small, ROWS / 10) < 0)
		goto out;
	double floors[REPEAT];
	long lines = 0, rss_big = 0, rss_small = 0;
	for (int r = 0; r < REPEAT; r++)
		floors[r] = floor_once(big, &lines);
	double floor_s = median3(floors);
	double plot_s = median_plot(argv[1], big, png, &rss_big);
	double small_s = median_plot(argv[1], small, png, &rss_small);
	if (floor_s <= 0 || plot_s < 0 || small_s < 0)
		goto out;
	printf("plot: %ld rows of %d sensors, floor (read and count lines) %.3f s, "
	       "joules plot %.3f s, ratio %.1f (target: under %.0f s: %s)\n",
	       lines - 1, SENSORS, floor_s, plot_s, plot_s / floor_s, TARGET_S,
	       plot_s < TARGET_S ? "met" : "missed");
	printf("plot: peak memory %ld KiB for %d rows, %ld KiB for %d rows, ratio %.2f "
	       "(bounded by the series: near 1)\n",
	       rss_big, ROWS, rss_small, ROWS / 10, (double)rss_big / (double)rss_small);
	char row[120];
	snprintf(row, sizeof row, "joules plot, %d rows of %d sensors: time", ROWS, SENSORS);
	bench_row(row, plot_s, "s", "reading the file and counting its lines", floor_s,
		  "value < 5");
	snprintf(row, sizeof row, "joules plot, %d rows of %d sensors: peak RSS", ROWS, SENSORS);
	bench_row(row, (double)rss_big / 1024, "MiB", "peak RSS for a tenth the rows",
		  (double)rss_small / 1024, "");
	rc = 0;
out:
	unlink(big);
	unlink(small);
	unlink(png);
	rmdir(dir);
	return rc;
}
