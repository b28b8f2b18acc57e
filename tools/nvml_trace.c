/* SPDX-License-Identifier: MIT */
/*
 * Raw NVML time series of GPU 0, one kind per process, written as CSV until
 * SIGTERM/SIGINT. Used on the GPU machine (tools/device_check.sh) to take
 * the references in their own process, so that their slow calls are seen
 * for what they are and timed apart from libjoules' sampler:
 *
 *   nvml_trace field FILE PERIOD_US    instant power (field 186) with NVML's
 *                                      own timestamp and latencyUsec
 *   nvml_trace counter FILE GAP_US     the energy counter, polled with GAP_US
 *                                      between calls; each call's start/end
 *   nvml_trace samples FILE PERIOD_US  nvmlDeviceGetSamples(TOTAL_POWER)
 *                                      history, each sample once
 *
 * Every row carries CLOCK_MONOTONIC ns around the call and CLOCK_REALTIME ns
 * after it, so NVML's realtime µs stamps can be put on the monotonic clock
 * that joules_reading.time_ns uses. Built without NVIDIA headers
 * (lib/backends/nvml/nvml_api.h). Asserts nothing: the analysis is done elsewhere.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvml_api.h"

#define MAX_SAMPLES 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_until(long long mono_ns)
{
	struct timespec ts = {.tv_sec = mono_ns / 1000000000ll, .tv_nsec = mono_ns % 1000000000ll};
	while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *sym(void *dl, const char *name)
{
	void *p = dlsym(dl, name);
	if (!p) {
		fprintf(stderr, "nvml_trace: %s missing from the NVML library\n", name);
		exit(1);
	}
	return p;
}

static unsigned long long as_ull(nvmlValueType_t t, nvmlValue_t v)
{
	switch (t) {
	case NVML_VALUE_TYPE_DOUBLE: return v.dVal > 0 ? (unsigned long long)v.dVal : 0;
	case NVML_VALUE_TYPE_UNSIGNED_LONG: return v.ulVal;
	case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: return v.ullVal;
	case NVML_VALUE_TYPE_SIGNED_LONG_LONG: return v.sllVal > 0 ? (unsigned long long)v.sllVal : 0;
	case NVML_VALUE_TYPE_SIGNED_INT: return v.siVal > 0 ? (unsigned long long)v.siVal : 0;
	default: return v.uiVal;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: nvml_trace field|counter|samples FILE PERIOD_US\n", stderr);
		return 2;
	}
	const char *mode = argv[1];
	long long period_ns = atoll(argv[3]) * 1000ll;
	const char *lib = getenv("JOULES_NVML_LIBRARY");
	void *dl = dlopen(lib && *lib ? lib : "libnvidia-ml.so.1", RTLD_NOW);
	if (!dl) {
		fprintf(stderr, "nvml_trace: %s\n", dlerror());
		return 1;
	}
	nvmlReturn_t (*init)(void) = (nvmlReturn_t (*)(void))sym(dl, "nvmlInit_v2");
	nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *) =
		(nvmlReturn_t (*)(unsigned, nvmlDevice_t *))sym(dl, "nvmlDeviceGetHandleByIndex_v2");
	nvmlDevice_t h;
	if (init() || handle(0, &h)) {
		fputs("nvml_trace: nvmlInit or GPU 0 failed\n", stderr);
		return 1;
	}
	FILE *f = fopen(argv[2], "w");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	long long next = clock_ns(CLOCK_MONOTONIC);
	if (!strcmp(mode, "field")) {
		nvmlReturn_t (*get)(nvmlDevice_t, int, nvmlFieldValue_t *) =
			(nvmlReturn_t (*)(nvmlDevice_t, int, nvmlFieldValue_t *))sym(
				dl, "nvmlDeviceGetFieldValues");
		fputs("mono_a_ns,mono_b_ns,real_b_ns,ts_us,latency_us,rc,power_mw\n", f);
		while (!stop) {
			nvmlFieldValue_t fv = {.fieldId = NVML_FI_DEV_POWER_INSTANT};
			long long a = clock_ns(CLOCK_MONOTONIC);
			nvmlReturn_t rc = get(h, 1, &fv);
			long long b = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);
			fprintf(f, "%lld,%lld,%lld,%lld,%lld,%d,%llu\n", a, b, r, fv.timestamp,
				fv.latencyUsec, rc ? rc : fv.nvmlReturn, as_ull(fv.valueType, fv.value));
			next += period_ns;
			sleep_until(next);
		}
	} else if (!strcmp(mode, "counter")) {
		nvmlReturn_t (*get)(nvmlDevice_t, unsigned long long *) =
			(nvmlReturn_t (*)(nvmlDevice_t, unsigned long long *))sym(
				dl, "nvmlDeviceGetTotalEnergyConsumption");
		fputs("mono_a_ns,mono_b_ns,real_b_ns,rc,energy_mj\n", f);
		while (!stop) {
			unsigned long long mj = 0;
			long long a = clock_ns(CLOCK_MONOTONIC);
			nvmlReturn_t rc = get(h, &mj);
			long long b = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);
			fprintf(f, "%lld,%lld,%lld,%d,%llu\n", a, b, r, rc, mj);
			sleep_until(b + period_ns);
		}
	} else if (!strcmp(mode, "samples")) {
		nvmlReturn_t (*get)(nvmlDevice_t, int, unsigned long long, nvmlValueType_t *,
				    unsigned *, nvmlSample_t *) =
			(nvmlReturn_t (*)(nvmlDevice_t, int, unsigned long long, nvmlValueType_t *,
					  unsigned *, nvmlSample_t *))sym(dl, "nvmlDeviceGetSamples");
		static nvmlSample_t buf[MAX_SAMPLES];
		unsigned long long last = 0;
		fputs("mono_b_ns,real_b_ns,ts_us,power_mw\n", f);
		while (!stop) {
			nvmlValueType_t type;
			unsigned n = MAX_SAMPLES;
			nvmlReturn_t rc = get(h, NVML_TOTAL_POWER_SAMPLES, last, &type, &n, buf);
			long long b = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);
			for (unsigned i = 0; rc == NVML_SUCCESS && i < n; i++) {
				if (buf[i].timeStamp <= last)
					continue;
				fprintf(f, "%lld,%lld,%llu,%llu\n", b, r, buf[i].timeStamp,
					as_ull(type, buf[i].sampleValue));
			}
			for (unsigned i = 0; rc == NVML_SUCCESS && i < n; i++)
				if (buf[i].timeStamp > last)
					last = buf[i].timeStamp;
			next += period_ns;
			sleep_until(next);
		}
	} else {
		fprintf(stderr, "nvml_trace: unknown mode %s\n", mode);
		return 2;
	}
	fclose(f);
	return 0;
}
