/* SPDX-License-Identifier: MIT */
/*
 * What the region sampler thread costs: CPU time per wall second
 * (getrusage, the whole process, while the main thread sleeps) at 10, 100
 * and 1000 Hz, against a floor measured in the same run: a bare thread
 * that only wakes at the same rate. The target is < 0.5% of one core at
 * 100 Hz. A region runs throughout (GPUs are sampled only while something
 * measures). Nothing is asserted; it prints report.h lines for bench/run.
 *
 * By default on a fake two-socket Intel tree (8 powercap zones); with
 * `real` as argument on this machine's own sensors (/sys and NVML), which
 * is how the GPU figures are taken (one nvmlDeviceGetSamples call per GPU
 * costs ~0.29 ms on the H200, and the backend's own thread makes it, not
 * this sampler): there the figures are per GPU, "needs a GPU" without one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fakesys.h"
#include "joules.h"
#include "measure.h"
#include "report.h"

#define SECONDS 2

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_s(unsigned s)
{
	struct timespec ts = {.tv_sec = s};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* CPU share of one core while fn runs for SECONDS (the main thread sleeps). */
static double share(void (*start)(void *, uint32_t), void (*stop)(void *), void *arg,
		    uint32_t us)
{
	uint64_t c0 = bench_cpu_ns(), t0 = now_ns();
	start(arg, us);
	sleep_s(SECONDS);
	stop(arg);
	return (double)(bench_cpu_ns() - c0) / (double)(now_ns() - t0);
}

/* The floor: a thread that wakes every interval and does nothing. */
struct idle {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	uint64_t interval_ns;
};

static void *idle_main(void *arg)
{
	struct idle *w = arg;
	uint64_t due = now_ns();
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		due += w->interval_ns;
		struct timespec at = {.tv_sec = (time_t)(due / 1000000000u),
				      .tv_nsec = (long)(due % 1000000000u)};
		pthread_cond_timedwait(&w->cond, &w->lock, &at);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void idle_start(void *arg, uint32_t us)
{
	struct idle *w = arg;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&w->lock, NULL);
	w->stop = false;
	w->interval_ns = (uint64_t)us * 1000u;
	pthread_create(&w->thread, NULL, idle_main, w);
}

static void idle_stop(void *arg)
{
	struct idle *w = arg;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

static void sampler_start(void *arg, uint32_t us)
{
	if (joules_sampler_start(arg, us, 256) < 0)
		fprintf(stderr, "joules_sampler_start: %s\n", joules_last_error(arg));
}

static void sampler_stop(void *arg)
{
	joules_sampler_stop(arg);
}

int main(int argc, char **argv)
{
	bool real = argc > 1 && strcmp(argv[1], "real") == 0;
	struct fakesys *fs = NULL;
	if (!real) {
		fs = fakesys_new();
		if (!fs || fakesys_layout(fs, "intel-2s") < 0) {
			fprintf(stderr, "cannot build the fake tree\n");
			return 1;
		}
		setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	}
	joules_ctx *ctx;
	int rc = joules_open(&ctx, real ? NULL : fakesys_root(fs));
	if (rc < 0) {
		fprintf(stderr, "joules_open: %s\n", joules_strerror(rc));
		fakesys_free(fs);
		return 1;
	}
	/* A region runs throughout, as in a measurement: it keeps GPUs sampled. */
	int region = -1;
	joules_region_begin(ctx, "bench", &region);
	size_t n = joules_sensor_count(ctx), gpus = 0;
	for (size_t i = 0; i < n; i++)
		gpus += joules_sensor(ctx, i)->kind == JOULES_KIND_GPU;
	/* One sample's own cost, in a hot loop: what each tick adds to its wake-up. */
	uint64_t t0 = now_ns();
	for (int k = 0; k < 2000; k++)
		joules_sample(ctx);
	printf("region sampler: one sample of %zu sensors takes %.2f µs (hot loop)\n", n,
	       (double)(now_ns() - t0) / 2000 / 1e3);
	/* The context's own backend threads (NVML) run in both measurements. */
	double base = share(idle_start, idle_stop, &(struct idle){0}, 1000000);
	static const uint32_t rates[] = {10, 100, 1000};
	if (real && !gpus) {
		for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
			char row[160];
			snprintf(row, sizeof row, "region sampler at %u Hz, per GPU", rates[k]);
			bench_skip(row, "", "needs a GPU");
		}
	}
	for (size_t k = 0; k < sizeof rates / sizeof rates[0] && (!real || gpus); k++) {
		uint32_t us = 1000000u / rates[k];
		struct idle w = {0};
		double floor = share(idle_start, idle_stop, &w, us) - base;
		double cost = share(sampler_start, sampler_stop, ctx, us) - base;
		char row[160], floor_label[80];
		snprintf(floor_label, sizeof floor_label, "bare wake-ups at %u Hz", rates[k]);
		if (real) {
			snprintf(row, sizeof row, "region sampler at %u Hz, per GPU (%zu sensors, %zu GPUs)",
				 rates[k], n, gpus);
			bench_row(row, 100 * cost / (double)gpus, "% of a core", floor_label,
				  100 * floor / (double)gpus, "");
		} else {
			snprintf(row, sizeof row, "region sampler at %u Hz, %zu sensors (fake intel-2s)",
				 rates[k], n);
			bench_row(row, 100 * cost, "% of a core", floor_label, 100 * floor,
				  rates[k] == 100 ? "value < 0.5" : "");
		}
	}
	joules_region_end(ctx, region, 0, NULL, NULL, 0);
	joules_close(ctx);
	fakesys_free(fs);
	return 0;
}
