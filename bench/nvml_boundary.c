/* SPDX-License-Identifier: MIT */
/*
 * What a region boundary costs on NVIDIA GPUs: joules_read() of every GPU
 * sensor, per GPU, against the direct call it replaces
 * (nvmlDeviceGetTotalEnergyConsumption, same process, same library), and
 * against a floor (clock_gettime) measured in the same run. Reports
 * medians and ratios as report.h lines for bench/run; asserts nothing.
 * Without an NVIDIA GPU its rows say "needs a GPU".
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joules.h"
#include "measure.h"
#include "report.h"

typedef int (*init_fn)(void);
typedef int (*handle_fn)(unsigned, void **);
typedef int (*energy_fn)(void *, unsigned long long *);
/* nvmlDeviceGetSamples; the sample layout is 16 bytes (timestamp, value). */
typedef int (*samples_fn)(void *, int, unsigned long long, int *, unsigned *, void *);

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#define READS 5000
#define DIRECT 100
#define ROW_US "GPU region boundary (joules_read per GPU)"
#define TARGET_US "value <= 20"
#define ROW_VS "GPU region boundary vs the NVML energy call"
#define TARGET_VS "ratio <= 0.01"

int main(void)
{
	joules_ctx *ctx;
	if (joules_open(&ctx, NULL) < 0) {
		puts("nvml_boundary: joules_open failed");
		return 1;
	}
	int gpus = joules_gpu_count(ctx);
	if (gpus <= 0) {
		printf("nvml_boundary: no NVIDIA GPU (%s): nothing to measure\n", joules_gpu_error(ctx));
		bench_skip(ROW_US, TARGET_US, "needs a GPU");
		bench_skip(ROW_VS, TARGET_VS, "needs a GPU");
		joules_close(ctx);
		return 0;
	}
	size_t n = joules_sensor_count(ctx);
	struct joules_reading *r = calloc(n, sizeof *r);
	static double t[READS];
	/* Floor: the clock itself. */
	for (int i = 0; i < READS; i++) {
		double a = now_us();
		t[i] = now_us() - a;
	}
	double floor_us = bench_median(t, READS);
	for (int i = 0; i < READS; i++) {
		double a = now_us();
		joules_read(ctx, r, n);
		t[i] = now_us() - a;
	}
	double read_us = bench_median(t, READS);

	const char *file = getenv("JOULES_NVML_LIBRARY");
	void *dl = dlopen(file && *file ? file : "libnvidia-ml.so.1", RTLD_NOW);
	init_fn init = dl ? (init_fn)dlsym(dl, "nvmlInit_v2") : NULL;
	handle_fn handle = dl ? (handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2") : NULL;
	energy_fn energy = dl ? (energy_fn)dlsym(dl, "nvmlDeviceGetTotalEnergyConsumption") : NULL;
	samples_fn samples = dl ? (samples_fn)dlsym(dl, "nvmlDeviceGetSamples") : NULL;
	void *h = NULL;
	double direct_us = 0, samples_us = 0;
	if (init && handle && energy && init() == 0 && handle(0, &h) == 0) {
		static double d[DIRECT];
		unsigned long long mj;
		for (int i = 0; i < DIRECT; i++) {
			double a = now_us();
			energy(h, &mj);
			d[i] = now_us() - a;
		}
		direct_us = bench_median(d, DIRECT);
		/* What the sampler pays every 20 ms: the samples newer than ~40 ms ago. */
		static unsigned char buf[256][16];
		struct timespec rt;
		for (int i = 0; samples && i < DIRECT; i++) {
			clock_gettime(CLOCK_REALTIME, &rt);
			unsigned long long last = (unsigned long long)rt.tv_sec * 1000000u +
						  (unsigned long long)rt.tv_nsec / 1000u - 40000u;
			int type;
			unsigned n = 256;
			double a = now_us();
			samples(h, 0, last, &type, &n, buf);
			d[i] = now_us() - a;
		}
		if (samples)
			samples_us = bench_median(d, DIRECT);
	}
	printf("nvml_boundary: %d GPU(s), %zu sensors\n", gpus, n);
	printf("  floor (clock_gettime):            %10.3f us\n", floor_us);
	printf("  joules_read, all sensors:         %10.3f us (%.1f x floor)\n", read_us,
	       read_us / floor_us);
	printf("  joules_read per GPU:              %10.3f us\n", read_us / gpus);
	if (direct_us > 0)
		printf("  nvmlDeviceGetTotalEnergyConsumption: %7.1f us; per-GPU boundary is %.5f of it "
		       "(%.0fx cheaper)\n",
		       direct_us, read_us / gpus / direct_us, direct_us / (read_us / gpus));
	else
		puts("  direct energy call: not available");
	bench_row(ROW_US, read_us / gpus, "µs", "clock_gettime", floor_us, TARGET_US);
	if (direct_us > 0)
		bench_row(ROW_VS, read_us / gpus, "µs", "nvmlDeviceGetTotalEnergyConsumption",
			  direct_us, TARGET_VS);
	else
		bench_skip(ROW_VS, TARGET_VS, "the direct NVML energy call is not available");
	if (samples_us > 0)
		printf("  nvmlDeviceGetSamples (sampler thread, every 20 ms): %.1f us\n", samples_us);
	free(r);
	joules_close(ctx);
	if (dl)
		dlclose(dl);
	return 0;
}
