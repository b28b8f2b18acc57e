/* SPDX-License-Identifier: MIT */
/*
 * libjoules across fork() on real hardware (tools/device_check_fork.sh):
 * a context opened in this process (real sysfs, real NVML, its sampler
 * running), then N fork() children. Each must get JOULES_ERR_FORKED from
 * joules_read and joules_gpu_info on the inherited context and close it
 * (under a 30 s alarm: a hang is a failure); every Kth also opens its own
 * context (its own nvmlInit) and measures the GPU over 200 ms: that is what
 * hung when fork() landed while the parent's sampler was inside NVML, so
 * fork() now waits for the call in flight (lib/backends/nvml/nvml_fork.c);
 * how long fork() took is printed (mean and max). The parent measures
 * before and after. Prints what it saw; exit 1 if a child failed.
 *
 *   fork_check [N [K]]     (default 200 children, K = 10)
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "joules.h"

static int first_gpu(const joules_ctx *c)
{
	for (size_t i = 0; i < joules_sensor_count(c); i++)
		if (!strcmp(joules_sensor(c, i)->source, "nvml"))
			return (int)i;
	return -1;
}

/* Mean power of sensor g over ms milliseconds, W; negative: the failing step. */
static double watts(joules_ctx *c, int g, long ms)
{
	size_t n = joules_sensor_count(c);
	struct joules_reading *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	double w = -1;
	if (!a || !b || joules_read(c, a, n) < 0)
		goto out;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	w = -2;
	if (joules_read(c, b, n) < 0)
		goto out;
	for (int k = 0; k < 400 && joules_settle(c, a, n) + joules_settle(c, b, n) > 0; k++)
		usleep(5000);
	uint64_t uj;
	w = -3;
	if (joules_delta(&a[g], &b[g], &uj) == 0)
		w = (double)uj / 1e6 / ((double)(b[g].time_ns - a[g].time_ns) / 1e9);
out:
	free(a);
	free(b);
	return w;
}

/* The note of source `name` in c, or "". */
static const char *note(const joules_ctx *c, const char *name)
{
	for (size_t i = 0; i < joules_source_count(c); i++)
		if (!strcmp(joules_source_name(c, i), name))
			return joules_source_note(c, i);
	return "";
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int child(joules_ctx *c, int i, int every)
{
	alarm(30);
	struct joules_reading r;
	int rr = joules_read(c, &r, 1);
	struct joules_gpu_info gi = {.size = sizeof gi};
	int gr = joules_gpu_info(c, 0, &gi);
	if (i == 0)
		printf("child: joules_read %d, joules_gpu_info %d: %s\n", rr, gr, joules_last_error(c));
	joules_close(c);
	if (rr != JOULES_ERR_FORKED || gr != JOULES_ERR_FORKED)
		return 1;
	if (i % every)
		return 0;
	joules_ctx *own;
	if (joules_open(&own, NULL) < 0)
		return 2;
	int g = first_gpu(own);
	double w = g >= 0 ? watts(own, g, 200) : -9;
	printf("child %d: its own context: GPU %.1f W%s%s\n", i, w, w > 0 ? "" : " (FAILED) ",
	       g >= 0 ? "" : note(own, "nvml"));
	joules_close(own);
	return w > 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int every = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 10;
	joules_ctx *c;
	int r = joules_open(&c, NULL);
	if (r < 0) {
		printf("joules_open: %s\n", joules_strerror(r));
		return 2;
	}
	int g = first_gpu(c);
	printf("parent: %zu sensors, %d GPUs, first GPU sensor %s\n", joules_sensor_count(c),
	       joules_gpu_count(c), g >= 0 ? joules_sensor(c, g)->id : "none");
	if (g < 0) {
		joules_close(c);
		return 2;
	}
	printf("parent before: GPU %.1f W\n", watts(c, g, 300));
	int ok = 0, failed = 0;
	uint64_t fork_sum = 0, fork_max = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		uint64_t t0 = now_ns();
		pid_t p = fork();
		if (p == 0) {
			int rc = child(c, i, every);
			fflush(stdout);
			_exit(rc);
		}
		uint64_t took = now_ns() - t0;
		fork_sum += took;
		fork_max = took > fork_max ? took : fork_max;
		int st = 0;
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
			failed++;
			printf("child %d failed: %s %d\n", i, WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		} else {
			ok++;
		}
		usleep((useconds_t)(i % 7) * 1000); /* other points of the sampling cycle */
	}
	printf("children: %d passed, %d failed; fork() took %.3f ms on average, %.3f ms at most\n",
	       ok, failed, n > 0 ? (double)fork_sum / n / 1e6 : 0.0, (double)fork_max / 1e6);
	printf("parent after: GPU %.1f W\n", watts(c, g, 300));
	joules_close(c);
	return failed ? 1 : 0;
}
