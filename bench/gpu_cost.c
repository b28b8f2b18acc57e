/* SPDX-License-Identifier: MIT */
/*
 * What an open context costs on NVIDIA GPUs (issue 20): CPU time per wall
 * second (getrusage of the whole process, the main thread asleep) of
 * (a) a context opened and left idle, past the sampler's 2 s linger, and
 * (b) the same with the region sampler running (a Python Meter between
 * windows), (c) a region held open; and the wall time of joules_open() to the first
 * reading and of `joules run -- true`.
 *
 * The floor of the CPU rows, measured in the same run: what the NVML calls
 * of the old cadence cost per second (nvmlDeviceGetSamples every 20 ms and
 * nvmlDeviceGetTotalEnergyConsumption every 100 ms per GPU, forever), from
 * the calls' own CPU time timed here: the ratio is the share of it left.
 * The wall-time rows' floors: the same without GPUs (JOULES_NVML_LIBRARY
 * pointed at nothing), and spawning `true` directly.
 *
 *   bench_gpu_cost fake FAKE_LIBNVIDIA_ML JOULES_CLI
 *       1 and 2 GPUs of the fake NVML (tests/fake_nvml), whose calls spin
 *       for the H200's CPU cost (cost_us: energy 3200 µs, samples 290 µs),
 *       so the figures are call rates × cost;
 *   bench_gpu_cost real JOULES_CLI
 *       this machine's GPUs (all of them; the CPU rows per GPU too), or
 *       "needs a GPU".
 *
 * Prints report.h lines for bench/run; asserts nothing.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "joules.h"
#include "measure.h"
#include "report.h"

extern char **environ;

#define NO_NVML "/nonexistent/libnvidia-ml.so.1"
#define LINGER_MS 2500                /* the sampler's 2 s linger, and a margin */
#define MEASURE_MS 5000
#define REPEATS 5
/* The fake's costs: the H200's, measured 2026-11-29 (issue 20). */
#define FAKE_ENERGY_US 3200
#define FAKE_SAMPLES_US 290
/* The old cadence, per GPU and second. */
#define OLD_SAMPLES_HZ 50
#define OLD_ENERGY_HZ 10

static uint64_t clock_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* CPU share of one core (%) over ms of sleep. */
static double share_while_sleeping(long ms)
{
	uint64_t c0 = bench_cpu_ns(), t0 = clock_of(CLOCK_MONOTONIC);
	sleep_ms(ms);
	return 100.0 * (double)(bench_cpu_ns() - c0) / (double)(clock_of(CLOCK_MONOTONIC) - t0);
}

typedef int (*init_fn)(void);
typedef int (*shutdown_fn)(void);
typedef int (*handle_fn)(unsigned, void **);
typedef int (*energy_fn)(void *, unsigned long long *);
typedef int (*samples_fn)(void *, int, unsigned long long, int *, unsigned *, void *);

/*
 * The old cadence's CPU per second for `gpus` GPUs, %: the median CPU time
 * of each call, times its old rate. 0 when the calls are not there.
 */
static double old_cadence(const char *library, int gpus)
{
	void *dl = dlopen(library, RTLD_NOW);
	init_fn init = dl ? (init_fn)dlsym(dl, "nvmlInit_v2") : NULL;
	handle_fn handle = dl ? (handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2") : NULL;
	energy_fn energy = dl ? (energy_fn)dlsym(dl, "nvmlDeviceGetTotalEnergyConsumption") : NULL;
	samples_fn samples = dl ? (samples_fn)dlsym(dl, "nvmlDeviceGetSamples") : NULL;
	shutdown_fn shutdown = dl ? (shutdown_fn)dlsym(dl, "nvmlShutdown") : NULL;
	void *h = NULL;
	double pct = 0;
	if (init && handle && energy && samples && init() == 0 && handle(0, &h) == 0) {
		enum { N = 21 };
		double e[N], s[N];
		static unsigned char buf[256][16];
		for (int i = 0; i < N; i++) {
			unsigned long long mj;
			uint64_t c = clock_of(CLOCK_THREAD_CPUTIME_ID);
			energy(h, &mj);
			e[i] = (double)(clock_of(CLOCK_THREAD_CPUTIME_ID) - c);
			/* What the sampler asked every 20 ms: the samples of the last ~40 ms. */
			unsigned long long last = clock_of(CLOCK_REALTIME) / 1000u - 40000u;
			int type;
			unsigned n = 256;
			c = clock_of(CLOCK_THREAD_CPUTIME_ID);
			samples(h, 0, last, &type, &n, buf);
			s[i] = (double)(clock_of(CLOCK_THREAD_CPUTIME_ID) - c);
		}
		double me = bench_median(e, N), ms = bench_median(s, N);
		printf("  per call (CPU): energy counter %.0f µs, samples %.0f µs\n", me / 1e3,
		       ms / 1e3);
		pct = 100.0 * gpus * (OLD_ENERGY_HZ * me + OLD_SAMPLES_HZ * ms) / 1e9;
		if (shutdown)
			shutdown();
	}
	if (dl)
		dlclose(dl); /* joules holds its own reference */
	return pct;
}

/*
 * The sysfs root every context here reads: an empty directory, so that the
 * GPUs are the only sensors (no CPU sensor to read or sample).
 */
static char root[] = "/tmp/joules-gpu-cost-XXXXXX";

/* Wall time of joules_open() + joules_read() of every sensor, ms. */
static double open_to_first_reading(int *gpus)
{
	uint64_t t0 = clock_of(CLOCK_MONOTONIC);
	joules_ctx *ctx;
	if (joules_open(&ctx, root) < 0)
		return -1;
	struct joules_reading r[64];
	size_t n = joules_sensor_count(ctx);
	joules_read(ctx, r, n < 64 ? n : 64);
	double ms = (double)(clock_of(CLOCK_MONOTONIC) - t0) / 1e6;
	*gpus = joules_gpu_count(ctx);
	joules_close(ctx);
	return ms;
}

/* Wall time of spawning argv and waiting for it, ms; -1 when it failed. */
static double spawn_ms(char *const argv[])
{
	uint64_t t0 = clock_of(CLOCK_MONOTONIC);
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int st;
	if (e || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (double)(clock_of(CLOCK_MONOTONIC) - t0) / 1e6;
}

/* The rows of one GPU setup; `what` names it ("1 fake GPU", "2 GPUs"). */
static void measure(const char *what, const char *library, int gpus, const char *cli)
{
	char row[200], label[200];
	double old = old_cadence(library, gpus);
	snprintf(label, sizeof label, "the old cadence's NVML calls (%d + %d a second per GPU)",
		 OLD_SAMPLES_HZ, OLD_ENERGY_HZ);

	joules_ctx *ctx;
	if (joules_open(&ctx, root) < 0) {
		fprintf(stderr, "joules_open failed\n");
		return;
	}
	sleep_ms(LINGER_MS);
	double idle = share_while_sleeping(MEASURE_MS);
	snprintf(row, sizeof row, "open context, idle, %s", what);
	bench_row(row, idle, "% of a core", old > 0 ? label : NULL, old, "value <= 0.05");

	/* A Python Meter between windows: the region sampler runs, nothing is measured. */
	joules_sampler_start(ctx, JOULES_SAMPLER_DEFAULT_US, 0);
	sleep_ms(LINGER_MS);
	double sampler = share_while_sleeping(MEASURE_MS);
	joules_sampler_stop(ctx);
	snprintf(row, sizeof row, "open context with its sampler, no region, %s", what);
	bench_row(row, sampler, "% of a core", old > 0 ? label : NULL, old, "value <= 0.05");

	int id;
	joules_region_begin(ctx, "bench", &id);
	double region = share_while_sleeping(MEASURE_MS);
	joules_region_end(ctx, id, 1000, NULL, NULL, 0);
	snprintf(row, sizeof row, "region open, per GPU, %s", what);
	bench_row(row, region / gpus, "% of a core", old > 0 ? label : NULL, old / gpus,
		  "value <= 0.5");
	joules_close(ctx);

	double t[REPEATS], floor[REPEATS];
	int seen = 0;
	for (int i = 0; i < REPEATS; i++) {
		setenv("JOULES_NVML_LIBRARY", NO_NVML, 1);
		int none;
		floor[i] = open_to_first_reading(&none);
		setenv("JOULES_NVML_LIBRARY", library, 1);
		t[i] = open_to_first_reading(&seen);
	}
	snprintf(row, sizeof row, "joules_open() to first reading, %s", what);
	bench_row(row, bench_median(t, REPEATS), "ms", "the same without NVML", bench_median(floor, REPEATS),
		  "");
	if (seen != gpus)
		printf("  (the context saw %d GPUs)\n", seen);

	char *run[] = {(char *)cli, "run", "--", "/bin/true", NULL};
	char *bare[] = {"/bin/true", NULL};
	setenv("JOULES_SYSFS_ROOT", root, 1);
	for (int i = 0; i < REPEATS; i++) {
		floor[i] = spawn_ms(bare);
		t[i] = spawn_ms(run);
	}
	unsetenv("JOULES_SYSFS_ROOT");
	snprintf(row, sizeof row, "joules run -- true, %s", what);
	if (bench_median(t, REPEATS) < 0)
		bench_skip(row, "", "joules run failed");
	else
		bench_row(row, bench_median(t, REPEATS), "ms", "spawning true", bench_median(floor, REPEATS), "");
}

/* The fake's config for n GPUs with the H200's call costs. */
static int fake_config(const char *path, int n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "gpus %d\ncost_us nvmlDeviceGetTotalEnergyConsumption %d\n"
		   "cost_us nvmlDeviceGetSamples %d\n",
		n, FAKE_ENERGY_US, FAKE_SAMPLES_US);
	for (int i = 0; i < n; i++) /* the driver's samples come ~20 ms late */
		fprintf(f, "samples_lag_ms %d 20\n", i);
	return fclose(f);
}

int main(int argc, char **argv)
{
	bool fake = argc == 4 && !strcmp(argv[1], "fake");
	if (!fake && !(argc == 3 && !strcmp(argv[1], "real"))) {
		fprintf(stderr, "usage: %s fake FAKE_LIBNVIDIA_ML JOULES_CLI | real JOULES_CLI\n",
			argv[0]);
		return 2;
	}
	const char *cli = argv[argc - 1];
	if (!mkdtemp(root))
		return 1;
	if (fake) {
		char path[64];
		snprintf(path, sizeof path, "%s/fake-nvml.conf", root);
		setenv("FAKE_NVML_CONFIG", path, 1);
		setenv("JOULES_NVML_LIBRARY", argv[2], 1);
		for (int n = 1; n <= 2; n++) {
			char what[32];
			snprintf(what, sizeof what, "%d fake GPU%s", n, n > 1 ? "s" : "");
			/* A new file each time, so the fake sees the change. */
			unlink(path);
			if (fake_config(path, n) < 0)
				return 1;
			measure(what, argv[2], n, cli);
		}
		unlink(path);
		rmdir(root);
		return 0;
	}
	const char *library = getenv("JOULES_NVML_LIBRARY");
	if (!library || !*library)
		library = "libnvidia-ml.so.1";
	setenv("JOULES_NVML_LIBRARY", library, 1);
	int gpus = 0;
	open_to_first_reading(&gpus);
	if (gpus <= 0) {
		static const char *rows[] = {"open context, idle",
					     "open context with its sampler, no region",
					     "region open, per GPU",
					     "joules_open() to first reading", "joules run -- true"};
		for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
			bench_skip(rows[k], "", "needs a GPU");
		rmdir(root);
		return 0;
	}
	char what[32];
	snprintf(what, sizeof what, "%d GPU%s", gpus, gpus > 1 ? "s" : "");
	measure(what, library, gpus, cli);
	rmdir(root);
	return 0;
}
