/* SPDX-License-Identifier: MIT */
/*
 * The NVML backend through the public API, with a fake libnvidia-ml.so.1
 * loaded by the real dlopen path (JOULES_NVML_LIBRARY). Each case writes
 * the fake's config ($FAKE_NVML_CONFIG), and rewrites it mid-run to reset
 * counters, lose GPUs or make calls fail. Energies are checked against the
 * fake's power × the time between the readings' own timestamps, within
 * the uncertainty the readings carry: no assertion on how long anything took.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "joules.h"
#include "nvml_api.h"

static const char *fake_dir;
static char config_path[256];

/* Point joules at one build of the fake ("" = the full one). */
static void use_fake(const char *variant)
{
	char path[512];
	snprintf(path, sizeof path, "%s/libnvidia-ml%s%s.so.1", fake_dir, *variant ? "-" : "",
		 variant);
	setenv("JOULES_NVML_LIBRARY", path, 1);
}

/* Replace the config (a new file each time, so the fake sees the change). */
static void config(const char *fmt, ...)
{
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp", config_path);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	CHECK_EQ_INT(rename(tmp, config_path), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static joules_ctx *open_ctx(void)
{
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, "/nonexistent-sysfs"), 0);
	CHECK(ctx != NULL);
	return ctx;
}

static int find(const joules_ctx *ctx, const char *id)
{
	int i = joules_sensor_find(ctx, id);
	if (i < 0)
		printf("#   no sensor %s\n", id);
	CHECK(i >= 0);
	return i;
}

static void uuid_of(unsigned gpu, char *id, size_t len)
{
	snprintf(id, len, "nvml:GPU-fa4e0000-0000-4000-8000-%012u", gpu);
}

static int gpu_sensor(const joules_ctx *ctx, unsigned gpu)
{
	char id[JOULES_ID_LEN];
	uuid_of(gpu, id, sizeof id);
	return find(ctx, id);
}

/*
 * b - a is the fake's constant power over the readings' interval, within
 * both readings' uncertainty, 1% and a few mJ of rounding.
 */
static void check_energy(const struct joules_reading *a, const struct joules_reading *b,
			 uint64_t power_mw)
{
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(a, b, &uj), 0);
	double expect = (double)power_mw * (double)(b->time_ns - a->time_ns) / 1e6;
	double tol = a->uncertainty_uj + b->uncertainty_uj + expect / 100 + 5000;
	if (uj < expect - tol || uj > expect + tol)
		printf("#   energy %" PRIu64 " µJ, expected %.0f ± %.0f\n", uj, expect, tol);
	CHECK(uj >= expect - tol && uj <= expect + tol);
	CHECK(expect > 0);
}

/* Read all sensors until sensor i satisfies done(), for at most ~20 s. */
static void read_until(joules_ctx *ctx, struct joules_reading *r, size_t n, int i,
		       int (*done)(const struct joules_reading *))
{
	for (int k = 0; k < 2000; k++) {
		CHECK_EQ_INT(joules_read(ctx, r, n), (int)n);
		if (done(&r[i]))
			return;
		sleep_ms(10);
	}
	CHECK(!"condition never reached");
}

static void test_no_library(void)
{
	setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	joules_ctx *ctx = open_ctx();
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		CHECK(strcmp(joules_sensor(ctx, i)->source, "nvml") != 0);
	CHECK_EQ_INT(joules_gpu_count(ctx), 0);
	CHECK_STR_HAS(joules_gpu_error(ctx), "no NVIDIA driver found");
	CHECK_STR_HAS(joules_gpu_error(ctx), "/nonexistent/libnvidia-ml.so.1");
	struct joules_gpu_info g = {.size = sizeof g};
	CHECK_EQ_INT(joules_gpu_info(ctx, 0, &g), JOULES_ERR_NO_SENSOR);
	int noted = 0;
	for (size_t i = 0; i < joules_source_count(ctx); i++)
		if (!strcmp(joules_source_name(ctx, i), "nvml"))
			noted = strstr(joules_source_note(ctx, i), "no NVIDIA driver") != NULL;
	CHECK(noted);
	joules_close(ctx);
}

/* n GPUs at (i + 1) × 50 W, all listed and measured. */
static void measure_gpus(unsigned n)
{
	use_fake("");
	char text[2048] = "", line[128];
	snprintf(text, sizeof text, "gpus %u\n", n);
	for (unsigned i = 0; i < n; i++) {
		snprintf(line, sizeof line, "power_mw %u %u\nstep_ms %u 20\n", i, (i + 1) * 50000, i);
		strcat(text, line);
	}
	snprintf(line, sizeof line, "name 0 NVIDIA H100 80GB HBM3\n");
	strcat(text, line);
	config("%s", text);
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), (int)n);
	CHECK_STR_HAS(joules_gpu_error(ctx), "");
	size_t ns = joules_sensor_count(ctx);
	struct joules_reading a[64], b[64];
	CHECK(ns <= 64);
	CHECK_EQ_INT(joules_read(ctx, a, ns), (int)ns);
	sleep_ms(250);
	CHECK_EQ_INT(joules_read(ctx, b, ns), (int)ns);
	for (unsigned g = 0; g < n; g++) {
		int i = gpu_sensor(ctx, g);
		if (i < 0)
			continue;
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
		char name[64], bus[32];
		if (g == 0)
			snprintf(name, sizeof name, "gpu0 NVIDIA H100 80GB HBM3");
		else
			snprintf(name, sizeof name, "gpu%u NVIDIA Fake GPU %u", g, g);
		/* The PCI address as sysfs (and every other source) writes it. */
		snprintf(bus, sizeof bus, "0000:%02x:00.0", 0x17 + g);
		CHECK(strcmp(s->name, name) == 0);
		CHECK(strcmp(s->device, bus) == 0);
		CHECK(strcmp(s->source, "nvml") == 0);
		CHECK_EQ_INT(s->kind, JOULES_KIND_GPU);
		CHECK(s->flags & JOULES_SENSOR_READABLE);
		CHECK(!(s->flags & JOULES_SENSOR_INTEGRATED));
		CHECK_EQ_U64(s->refresh_us, 20000); /* the driver's power samples */
		CHECK(a[i].flags & JOULES_READING_PROVISIONAL);
		CHECK_EQ_INT(a[i].status, 0);
		CHECK_EQ_INT(b[i].status, 0);
		check_energy(&a[i], &b[i], (g + 1) * 50000ull);
	}
	joules_close(ctx);
}

static void test_one_gpu(void) { measure_gpus(1); }
static void test_eight_gpus(void) { measure_gpus(8); }

/* One GPU at 200 W whose energy must come from integrated power. */
static void check_integrated(unsigned refresh_us)
{
	joules_ctx *ctx = open_ctx();
	int i = gpu_sensor(ctx, 0);
	if (i >= 0) {
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
		CHECK(s->flags & JOULES_SENSOR_READABLE);
		CHECK(s->flags & JOULES_SENSOR_INTEGRATED);
		CHECK_EQ_U64(s->refresh_us, refresh_us);
		struct joules_reading a[8], b[8];
		size_t n = joules_sensor_count(ctx);
		joules_read(ctx, a, n);
		sleep_ms(250);
		joules_read(ctx, b, n);
		check_energy(&a[i], &b[i], 200000);
	}
	joules_close(ctx);
}

static void test_counter_not_supported_integrates_power(void)
{
	use_fake("");
	config("power_mw 0 200000\nfail nvmlDeviceGetTotalEnergyConsumption -1 3\n");
	check_integrated(20000);
}

/* No sample history: the instant field, every 5 ms, unsettled. */
static void test_no_samples_uses_instant(void)
{
	use_fake("");
	config("power_mw 0 200000\nfail nvmlDeviceGetTotalEnergyConsumption -1 3\n"
	       "fail nvmlDeviceGetSamples -1 3\n");
	check_integrated(5000);
}

static void test_counter_symbol_missing_integrates_power(void)
{
	use_fake("noenergy");
	config("power_mw 0 200000\n");
	check_integrated(20000);
}

static void test_no_instant_power_uses_average(void)
{
	use_fake("");
	config("power_mw 0 200000\nfail nvmlDeviceGetTotalEnergyConsumption -1 3\n"
	       "fail nvmlDeviceGetFieldValues -1 3\nfail nvmlDeviceGetSamples -1 3\n");
	check_integrated(20000);
}

static void test_old_symbol_names(void)
{
	use_fake("old");
	config("gpus 2\npower_mw 1 300000\nstep_ms 1 10\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), 2);
	int i = gpu_sensor(ctx, 1);
	if (i >= 0) {
		CHECK(strcmp(joules_sensor(ctx, (size_t)i)->device, "0000:18:00.0") == 0);
		struct joules_reading a[8], b[8];
		size_t n = joules_sensor_count(ctx);
		joules_read(ctx, a, n);
		sleep_ms(250);
		joules_read(ctx, b, n);
		check_energy(&a[i], &b[i], 300000);
	}
	joules_close(ctx);
}

static void test_required_symbol_missing(void)
{
	use_fake("nouuid");
	config("gpus 2\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), JOULES_ERR_UNSUPPORTED);
	CHECK_STR_HAS(joules_gpu_error(ctx), "symbol nvmlDeviceGetUUID is missing");
	CHECK_STR_HAS(joules_gpu_error(ctx), "libnvidia-ml-nouuid.so.1");
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		CHECK(strcmp(joules_sensor(ctx, i)->source, "nvml") != 0);
	joules_close(ctx);
}

static void check_init_failure(int code, int err, const char *text)
{
	use_fake("");
	config("gpus 2\nfail nvmlInit -1 %d\n", code);
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), err);
	CHECK_STR_HAS(joules_gpu_error(ctx), "nvmlInit");
	CHECK_STR_HAS(joules_gpu_error(ctx), text);
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		CHECK(strcmp(joules_sensor(ctx, i)->source, "nvml") != 0);
	joules_close(ctx);
}

static void test_init_driver_not_loaded(void)
{
	check_init_failure(9, JOULES_ERR_UNSUPPORTED, "kernel driver is not loaded");
}

static void test_init_version_mismatch(void)
{
	check_init_failure(18, JOULES_ERR_UNSUPPORTED, "driver/library version mismatch");
}

static void test_init_no_permission(void)
{
	check_init_failure(4, JOULES_ERR_PERMISSION, "permission denied");
}

static void test_count_fails(void)
{
	use_fake("");
	config("fail nvmlDeviceGetCount -1 999\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), JOULES_ERR_IO);
	CHECK_STR_HAS(joules_gpu_error(ctx), "nvmlDeviceGetCount: NVML error 999 (Unknown Error)");
	joules_close(ctx);
}

/* A GPU this caller may not read, and one with nothing to read, next to a good one. */
static void test_per_gpu_failures(void)
{
	use_fake("");
	config("gpus 4\nfail nvmlDeviceGetTotalEnergyConsumption 1 4\n"
	       "fail nvmlDeviceGetTotalEnergyConsumption 2 3\nfail nvmlDeviceGetFieldValues 2 3\n"
	       "fail nvmlDeviceGetPowerUsage 2 3\nfail nvmlDeviceGetSamples 2 3\n"
	       "fail nvmlDeviceGetHandleByIndex 3 15\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), 4);
	CHECK_EQ_INT(joules_sensor_count(ctx), 4);
	struct joules_reading r[4];
	CHECK_EQ_INT(joules_read(ctx, r, 4), 4);
	int i = gpu_sensor(ctx, 0);
	if (i >= 0)
		CHECK_EQ_INT(r[i].status, 0);
	i = gpu_sensor(ctx, 1);
	if (i >= 0) {
		CHECK_EQ_INT(r[i].status, JOULES_ERR_PERMISSION);
		CHECK_STR_HAS(joules_sensor(ctx, (size_t)i)->reason,
			      "nvmlDeviceGetTotalEnergyConsumption on GPU 1: permission denied");
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), "run as root");
	}
	i = gpu_sensor(ctx, 2);
	if (i >= 0) {
		CHECK_EQ_INT(r[i].status, JOULES_ERR_UNSUPPORTED);
		CHECK_STR_HAS(joules_sensor(ctx, (size_t)i)->reason,
			      "neither an energy counter nor a power reading");
		CHECK_STR_HAS(joules_sensor(ctx, (size_t)i)->reason, "not supported");
	}
	/* No handle, so no UUID: the sensor is named by index. */
	i = find(ctx, "nvml:gpu3");
	if (i >= 0) {
		CHECK_EQ_INT(r[i].status, JOULES_ERR_LOST);
		CHECK_STR_HAS(joules_sensor(ctx, (size_t)i)->reason,
			      "nvmlDeviceGetHandleByIndex(3): the GPU is lost");
	}
	joules_close(ctx);
}

static int reset_seen(const struct joules_reading *r)
{
	return r->resets > 0;
}

/* GPU 1's driver resets mid-run: it says so; GPUs 0 and 2 lose nothing. */
static void test_reset(void)
{
	use_fake("");
	const char *base = "gpus 3\nenergy_mj 1 5000000\nstep_ms 0 10\nstep_ms 1 10\nstep_ms 2 10\n"
			   "power_mw 0 100000\npower_mw 1 200000\npower_mw 2 300000\n";
	config("%s", base);
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[8], b[8], c[8];
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_INT(n, 3);
	joules_read(ctx, a, n);
	sleep_ms(100);
	config("%sreset 1 1\n", base);
	int g1 = gpu_sensor(ctx, 1);
	if (g1 < 0) {
		joules_close(ctx);
		return;
	}
	read_until(ctx, b, n, g1, reset_seen);
	CHECK(b[g1].energy_uj > a[g1].energy_uj); /* the extended counter still rises */
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[g1], &b[g1], &uj), JOULES_ERR_RESET);
	CHECK_EQ_INT(b[g1].resets, 1);
	check_energy(&a[gpu_sensor(ctx, 0)], &b[gpu_sensor(ctx, 0)], 100000);
	check_energy(&a[gpu_sensor(ctx, 2)], &b[gpu_sensor(ctx, 2)], 300000);
	/* After the reset, GPU 1 measures again. */
	sleep_ms(200);
	joules_read(ctx, c, n);
	check_energy(&b[g1], &c[g1], 200000);
	joules_close(ctx);
}

static int lost_seen(const struct joules_reading *r)
{
	return r->status == JOULES_ERR_LOST;
}

/* GPU 1 falls off the bus: it reads as lost; GPUs 0 and 2 keep measuring. */
static void test_lost_gpu(void)
{
	use_fake("");
	const char *base = "gpus 3\npower_mw 0 100000\npower_mw 1 200000\npower_mw 2 300000\n";
	config("%s", base);
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[8], b[8], c[8];
	size_t n = joules_sensor_count(ctx);
	joules_read(ctx, a, n);
	config("%slost 1\n", base);
	int g1 = gpu_sensor(ctx, 1);
	if (g1 < 0) {
		joules_close(ctx);
		return;
	}
	read_until(ctx, b, n, g1, lost_seen);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)g1), "on GPU 1: the GPU is lost");
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)g1), "dmesg");
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[g1], &b[g1], &uj), JOULES_ERR_LOST);
	check_energy(&a[gpu_sensor(ctx, 0)], &b[gpu_sensor(ctx, 0)], 100000);
	check_energy(&a[gpu_sensor(ctx, 2)], &b[gpu_sensor(ctx, 2)], 300000);
	sleep_ms(150);
	joules_read(ctx, c, n);
	CHECK_EQ_INT(c[g1].status, JOULES_ERR_LOST);
	check_energy(&b[gpu_sensor(ctx, 2)], &c[gpu_sensor(ctx, 2)], 300000);
	struct joules_gpu_info g = {.size = sizeof g};
	CHECK_EQ_INT(joules_gpu_info(ctx, 1, &g), JOULES_ERR_LOST);
	CHECK_STR_HAS(joules_last_error(ctx), "GPU 1: the GPU is lost");
	CHECK(strcmp(g.name, "NVIDIA Fake GPU 1") == 0);
	joules_close(ctx);
}

/*
 * NVML not ready, timed out, or an unknown error for a moment: skipped, not a
 * failed sensor; readings meanwhile are flagged JOULES_READING_GAP, and the
 * next good samples span the gap with the energy still right.
 */
static int gap_or_failure(const struct joules_reading *r)
{
	return r->status != 0 || (r->flags & JOULES_READING_GAP);
}

static void test_transient_errors_are_a_gap(void)
{
	static const int codes[] = {27 /* NOT_READY */, 10 /* TIMEOUT */, 999 /* UNKNOWN */};
	for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
		printf("# NVML error %d for 300 ms\n", codes[k]);
		use_fake("");
		const char *base = "power_mw 0 150000\nstep_ms 0 10\n";
		config("%s", base);
		joules_ctx *ctx = open_ctx();
		size_t n = joules_sensor_count(ctx);
		int g = gpu_sensor(ctx, 0);
		if (g < 0 || n > 4) {
			joules_close(ctx);
			return;
		}
		struct joules_reading a[4], m[4], b[4];
		joules_read(ctx, a, n);
		config("%sfail nvmlDeviceGetTotalEnergyConsumption 0 %d\n"
		       "fail nvmlDeviceGetSamples 0 %d\n", base, codes[k], codes[k]);
		sleep_ms(300);
		/* Every reading meanwhile succeeds; one shows the gap once the sampler met it. */
		read_until(ctx, m, n, g, gap_or_failure);
		CHECK_EQ_INT(m[g].status, 0);
		CHECK(m[g].flags & JOULES_READING_GAP);
		config("%s", base);
		sleep_ms(300);
		joules_read(ctx, b, n);
		CHECK_EQ_INT(b[g].status, 0);
		while (joules_settle(ctx, a, n) + joules_settle(ctx, b, n) > 0)
			sleep_ms(5);
		check_energy(&a[g], &b[g], 150000);
		joules_close(ctx);
	}
}

/* Power goes from 100 W to 400 W mid-region: the energy follows the integral. */
static void test_power_change(void)
{
	use_fake("");
	config("power_mw 0 100000\nstep_ms 0 10\n");
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[4], m[4], b[4];
	size_t n = joules_sensor_count(ctx);
	joules_read(ctx, a, n);
	sleep_ms(150);
	config("power_mw 0 400000\nstep_ms 0 10\n");
	/* The sampler sees the change within one sample; allow its share of error. */
	joules_read(ctx, m, n);
	sleep_ms(150);
	joules_read(ctx, b, n);
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], &uj), 0);
	double lo = 100.0 * (double)(b[0].time_ns - a[0].time_ns) / 1e3;
	double hi = 400.0 * (double)(b[0].time_ns - a[0].time_ns) / 1e3;
	CHECK(uj > lo && uj < hi);
	CHECK(m[0].energy_uj >= a[0].energy_uj && b[0].energy_uj >= m[0].energy_uj);
	joules_close(ctx);
}

/*
 * Between two counter steps the difference of two readings is the power
 * integrated between them: with a counter that never moves after the first
 * value, the energy is exact to the integration's own rounding.
 */
static void test_between_steps_integrates_exactly(void)
{
	use_fake("");
	config("power_mw 0 300000\nstep_ms 0 1000000\n");
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[4], b[4];
	size_t n = joules_sensor_count(ctx);
	joules_read(ctx, a, n);
	sleep_ms(200);
	joules_read(ctx, b, n);
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], &uj), 0);
	double expect = 300.0 * (double)(b[0].time_ns - a[0].time_ns) / 1e3;
	if (uj < expect * 0.99 - 2000 || uj > expect * 1.01 + 2000)
		printf("#   energy %" PRIu64 " µJ, expected %.0f\n", uj, expect);
	CHECK(uj >= expect * 0.99 - 2000 && uj <= expect * 1.01 + 2000);
	joules_close(ctx);
}

/* Settle snapshots until no reading is provisional (at most ~5 s). */
static void settle(joules_ctx *ctx, struct joules_reading *r, size_t n)
{
	for (int k = 0; k < 500; k++) {
		int pending = joules_settle(ctx, r, n);
		CHECK(pending >= 0 && pending <= (int)n);
		if (pending <= 0)
			return;
		sleep_ms(10);
	}
	CHECK(!"readings never settled");
}

/*
 * Samples reach NVML 80 ms after their window: readings are provisional,
 * with an uncertainty that covers what is not seen yet; settled, they are
 * final, tighter, and still right. Settling again changes nothing.
 */
static void test_settle_lagged_samples(void)
{
	use_fake("");
	config("power_mw 0 200000\nsamples_lag_ms 0 80\nstep_ms 0 10\nlimit_mw 0 700000\n");
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[4], b[4], b2[4];
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_INT(n, 1);
	joules_read(ctx, a, n);
	sleep_ms(300);
	joules_read(ctx, b, n);
	CHECK(a[0].flags & JOULES_READING_PROVISIONAL);
	CHECK(b[0].flags & JOULES_READING_PROVISIONAL);
	/* Not seen yet: at least 80 ms at up to the 700 W limit. */
	CHECK(b[0].uncertainty_uj >= 700000u * 80u);
	check_energy(&a[0], &b[0], 200000);
	uint32_t provisional_unc = b[0].uncertainty_uj;
	settle(ctx, a, n);
	settle(ctx, b, n);
	CHECK(!(a[0].flags & JOULES_READING_PROVISIONAL));
	CHECK(!(b[0].flags & JOULES_READING_PROVISIONAL));
	CHECK(b[0].uncertainty_uj < provisional_unc);
	check_energy(&a[0], &b[0], 200000);
	b2[0] = b[0];
	CHECK_EQ_INT(joules_settle(ctx, b2, n), 0);
	CHECK(memcmp(&b[0], &b2[0], sizeof b[0]) == 0);
	CHECK_EQ_INT(joules_settle(NULL, b2, n), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_settle(ctx, NULL, 1), JOULES_ERR_INVALID);
	joules_close(ctx);
}

/*
 * Power steps from 100 W to 400 W right after reading m, and the samples
 * lag 60 ms: settled, the region before m holds 100 W only, the one after
 * it between 100 and 400 W, and the readings stay in order.
 */
static void test_settle_power_step(void)
{
	use_fake("");
	const char *base = "samples_lag_ms 0 60\nstep_ms 0 10\n";
	config("%spower_mw 0 100000\n", base);
	joules_ctx *ctx = open_ctx();
	struct joules_reading a[4], m[4], b[4];
	size_t n = joules_sensor_count(ctx);
	joules_read(ctx, a, n);
	sleep_ms(200);
	joules_read(ctx, m, n);
	config("%spower_mw 0 400000\n", base);
	sleep_ms(200);
	joules_read(ctx, b, n);
	settle(ctx, a, n);
	settle(ctx, m, n);
	settle(ctx, b, n);
	CHECK(a[0].energy_uj <= m[0].energy_uj && m[0].energy_uj <= b[0].energy_uj);
	check_energy(&a[0], &m[0], 100000);
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&m[0], &b[0], &uj), 0);
	double dt = (double)(b[0].time_ns - m[0].time_ns) / 1e3, tol = m[0].uncertainty_uj +
										b[0].uncertainty_uj;
	if (uj < 100.0 * dt - tol || uj > 400.0 * dt + tol)
		printf("#   energy %" PRIu64 " µJ, expected 100..400 W over %.0f µs\n", uj, dt);
	CHECK(uj >= 100.0 * dt - tol && uj <= 400.0 * dt + tol);
	joules_close(ctx);
}

/*
 * Idle long enough for the counter to calibrate the gain, then a load ten
 * times higher (as when `joules run` starts a GPU job): the counter's steps
 * are seen only every ~100 ms, so each is known to ±P × 50 ms, which at the
 * new power is far more than the idle history's energy can absorb. The
 * power of every settled 100 ms window must stay within the fake's true
 * power (the samples and the counter agree exactly here): the counter may
 * keep the estimate honest, not rescale it by its own timing noise.
 * The defect this guards against read +18..+35% here. Normal runs stay within
 * +1%; under valgrind on a busy 2-core machine the sampler thread polls late,
 * the steps are placed less precisely and the gain may move by the few % that
 * its bound then allows (+5.4% seen), hence OVERSHOOT_MAX.
 */
#define OVERSHOOT_MAX 1.08
static void test_no_overshoot_after_load_step(void)
{
	use_fake("");
	config("power_mw 0 70000\nlimit_mw 0 900000\n");
	joules_ctx *ctx = open_ctx();
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_INT(n, 1);
	sleep_ms(2600);
	config("power_mw 0 800000\nlimit_mw 0 900000\n");
	enum { WINDOWS = 16 };
	struct joules_reading r[WINDOWS + 1][4];
	for (int k = 0; k <= WINDOWS; k++) {
		joules_read(ctx, r[k], n);
		sleep_ms(100);
	}
	double worst = 0;
	for (int k = 0; k <= WINDOWS; k++)
		settle(ctx, r[k], n);
	for (int k = 1; k <= WINDOWS; k++) {
		uint64_t uj;
		CHECK_EQ_INT(joules_delta(&r[k - 1][0], &r[k][0], &uj), 0);
		double w = (double)uj * 1e3 / (double)(r[k][0].time_ns - r[k - 1][0].time_ns);
		if (w > worst)
			worst = w;
	}
	printf("# worst 100 ms window: %.1f W, the power is at most 800 W\n", worst);
	CHECK(worst <= 800.0 * OVERSHOOT_MAX);
	joules_close(ctx);
}

/*
 * The fake's calls of one function so far (the library joules loaded:
 * dlopen of the same path finds it), or 0 when it is not loaded.
 */
static unsigned long calls_of(const char *func)
{
	void *dl = dlopen(getenv("JOULES_NVML_LIBRARY"), RTLD_NOW | RTLD_NOLOAD);
	CHECK(dl != NULL);
	if (!dl)
		return 0;
	unsigned long (*of)(const char *) =
		(unsigned long (*)(const char *))dlsym(dl, "fake_nvml_calls_of");
	CHECK(of != NULL);
	unsigned long n = of ? of(func) : 0;
	dlclose(dl);
	return n;
}

static unsigned long all_calls(void)
{
	void *dl = dlopen(getenv("JOULES_NVML_LIBRARY"), RTLD_NOW | RTLD_NOLOAD);
	CHECK(dl != NULL);
	if (!dl)
		return 0;
	unsigned long (*calls)(void) = (unsigned long (*)(void))dlsym(dl, "fake_nvml_calls");
	unsigned long n = calls ? calls() : 0;
	dlclose(dl);
	return n;
}

#define SAMPLES "nvmlDeviceGetSamples"
#define ENERGY "nvmlDeviceGetTotalEnergyConsumption"
/* lib/sampler.h's linger (2 s) and a margin for a slow machine. */
#define LINGER_MS 2000
#define ASLEEP_MS (LINGER_MS + 700)

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * An open context that measures nothing makes no NVML call once the linger
 * after its last read is over (before: 50 sample fetches and 10 counter
 * reads a second per GPU, forever); a read wakes it, and it sleeps again.
 */
static void test_idle_context_makes_no_calls(void)
{
	use_fake("");
	config("gpus 2\n");
	joules_ctx *ctx = open_ctx();
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_INT(n, 2);
	sleep_ms(ASLEEP_MS);
	unsigned long before = all_calls();
	sleep_ms(1000);
	CHECK_EQ_U64(all_calls(), before);
	struct joules_reading r[2];
	unsigned long samples = calls_of(SAMPLES);
	CHECK_EQ_INT(joules_read(ctx, r, n), 2);
	/* The read woke both GPUs: each fetched its samples, on this thread. */
	CHECK(calls_of(SAMPLES) >= samples + 2);
	sleep_ms(ASLEEP_MS);
	before = all_calls();
	sleep_ms(1000);
	CHECK_EQ_U64(all_calls(), before);
	joules_close(ctx);
}

/*
 * A region begun on a sleeping GPU wakes it, and its first reading is
 * exact: the region's energy is the fake's power over its time. While it
 * runs, the samples are fetched every 250 ms and the counter read every
 * second (upper bounds from the cadence, plus the wake, a hurried fetch
 * at the end, and rounding: a slow machine calls less, never more); the
 * old cadence (20 ms, 100 ms) made ~50 and ~10 calls a second. After the
 * end it sleeps again.
 */
static void test_region_wakes_and_cadence(void)
{
	use_fake("");
	config("power_mw 0 250000\nlimit_mw 0 700000\n");
	joules_ctx *ctx = open_ctx();
	sleep_ms(ASLEEP_MS);
	unsigned long samples = calls_of(SAMPLES), energy = calls_of(ENERGY);
	sleep_ms(300);
	CHECK_EQ_U64(calls_of(SAMPLES), samples);
	int id;
	uint64_t t0 = mono_ns();
	CHECK_EQ_INT(joules_region_begin(ctx, "woken", &id), 0);
	CHECK(calls_of(SAMPLES) > samples); /* the wake fetched on this thread */
	sleep_ms(2000);
	struct joules_region_result res;
	struct joules_region_sensor per[1];
	CHECK_EQ_INT(joules_region_end(ctx, id, 1000, &res, per, 1), 0);
	double s = (double)(mono_ns() - t0) / 1e9;
	unsigned long ds = calls_of(SAMPLES) - samples, de = calls_of(ENERGY) - energy;
	printf("# %.2f s measured: %lu sample fetches, %lu counter reads\n", s, ds, de);
	CHECK(ds >= 2 && ds <= (unsigned long)(s / 0.25) + 4);
	CHECK(de >= 1 && de <= (unsigned long)(s / 1.0) + 2);
	CHECK(per[0].flags & JOULES_REGION_HAS_ENERGY);
	double want = 250.0 * (double)per[0].covered_ns / 1e3;
	double tol = (double)per[0].uncertainty_uj + want / 100 + 5000;
	printf("# region %" PRIu64 " µJ over %" PRIu64 " ns, expected %.0f ± %.0f\n",
	       per[0].energy_uj, per[0].covered_ns, want, tol);
	CHECK(per[0].energy_uj >= want - tol && per[0].energy_uj <= want + tol);
	sleep_ms(ASLEEP_MS);
	unsigned long after = all_calls();
	sleep_ms(500);
	CHECK_EQ_U64(all_calls(), after);
	joules_close(ctx);
}

/*
 * The region sampler (joules_sampler_start) follows the GPUs without keeping
 * them awake: with no region running they sleep once the linger is over (no
 * NVML call, no trace window), and a region wakes them. No window spans
 * the sleep (its mean would pass for one sample's power): the first after
 * the wake is one interval long, at the fake's power.
 */
static void test_region_sampler_lets_it_sleep(void)
{
	use_fake("");
	config("power_mw 0 250000\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_sampler_start(ctx, 100000, 256), 0); /* every 100 ms */
	sleep_ms(ASLEEP_MS);
	unsigned long calls = all_calls();
	uint64_t asleep = mono_ns();
	struct joules_trace_point p[256];
	sleep_ms(1000);
	CHECK_EQ_U64(all_calls(), calls);
	CHECK_EQ_INT(joules_trace(ctx, 0, asleep, p, 256), 0);

	int id;
	CHECK_EQ_INT(joules_region_begin(ctx, "woken", &id), 0);
	unsigned long samples = calls_of(SAMPLES);
	sleep_ms(1000);
	CHECK(calls_of(SAMPLES) > samples);
	int got = joules_trace(ctx, 0, asleep, p, 256);
	CHECK(got >= 2);
	if (got >= 2) {
		printf("# the first window after the wake: %.3f s, %.1f W\n", p[0].window_ns / 1e9,
		       p[0].power_w);
		for (int k = 0; k < got; k++)
			CHECK(p[k].window_ns < 200000000u);
		CHECK_EQ_INT(p[0].status, 0);
		CHECK(p[0].power_w > 245 && p[0].power_w < 255);
	}
	CHECK(joules_region_end(ctx, id, 1000, NULL, NULL, 0) >= 0);
	joules_sampler_stop(ctx);
	joules_close(ctx);
}

/*
 * A read after a sleep longer than the driver's history (here 0.5 s of
 * samples), with the power changed from 100 to 400 W during it: the GPU
 * wakes on the counter (one call on the reader's thread); the reading is
 * continuous (no reset, never below the one before) and, settled, exact
 * against the fake's energy within the bounds, which carry the resume's
 * cost. Spanning the hole with the first sample kept would read 400 W for
 * all of it (~+300 J here). A region begun after the resume does not span
 * it: its bound leaves the cost out.
 */
static void test_read_after_a_long_sleep(void)
{
	use_fake("");
	const char *base = "keep_samples 0 25\nlimit_mw 0 700000\nsamples_lag_ms 0 30\n";
	config("%spower_mw 0 100000\n", base);
	joules_ctx *ctx = open_ctx();
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_INT(n, 1);
	struct joules_reading a[1], b[1], c[1];
	joules_read(ctx, a, n);
	settle(ctx, a, n);
	sleep_ms(ASLEEP_MS);
	unsigned long energy = calls_of(ENERGY), before = all_calls();
	uint64_t changed = mono_ns();
	config("%spower_mw 0 400000\n", base);
	sleep_ms(1500);
	CHECK_EQ_U64(all_calls(), before); /* asleep all along */
	joules_read(ctx, b, n);
	CHECK_EQ_U64(calls_of(ENERGY), energy + 1); /* the wake resumed at the counter */
	CHECK_EQ_INT(b[0].status, 0);
	CHECK_EQ_U64(b[0].resets, a[0].resets);
	CHECK(b[0].energy_uj >= a[0].energy_uj);
	sleep_ms(300);
	joules_read(ctx, c, n);
	CHECK(c[0].energy_uj >= b[0].energy_uj);
	settle(ctx, b, n);
	settle(ctx, c, n);
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], &uj), 0);
	double want = 100.0 * (double)(changed - a[0].time_ns) / 1e3 +
		      400.0 * (double)(b[0].time_ns - changed) / 1e3;
	/* The fake switches at the config file's mtime: up to a few ms off `changed`. */
	double tol = (double)a[0].uncertainty_uj + b[0].uncertainty_uj + want / 100 + 300.0 * 5000;
	printf("# across the sleep: %" PRIu64 " µJ, expected %.0f ± %.0f\n", uj, want, tol);
	CHECK(uj >= want - tol && uj <= want + tol);
	uint32_t cost = 400000u * 50u; /* ±50 ms of the counter's moment at 400 W */
	CHECK(b[0].uncertainty_uj >= cost); /* the resume's cost is said */
	check_energy(&b[0], &c[0], 400000);
	int id;
	struct joules_region_sensor per[1];
	CHECK_EQ_INT(joules_region_begin(ctx, "after", &id), 0);
	sleep_ms(300);
	CHECK_EQ_INT(joules_region_end(ctx, id, 1000, NULL, per, 1), 0);
	printf("# a region after the resume: %" PRIu64 " µJ ± %" PRIu64 "\n", per[0].energy_uj,
	       per[0].uncertainty_uj);
	CHECK(per[0].uncertainty_uj < cost);
	joules_close(ctx);
}

static void test_gpu_info(void)
{
	use_fake("");
	config("gpus 2\nname 1 NVIDIA H100 80GB HBM3\nuuid 1 GPU-11111111-2222-3333-4444-555555555555\n"
	       "busid 1 00000000:9A:00.0\nmem 1 85899345920 1073741824\nutil 1 87 42\n"
	       "limit_mw 1 700000\npower_mw 1 123456\nfail nvmlDeviceGetUtilizationRates 0 3\n"
	       "fail nvmlDeviceGetEnforcedPowerLimit 0 4\n");
	joules_ctx *ctx = open_ctx();
	CHECK_EQ_INT(joules_gpu_count(ctx), 2);
	struct joules_gpu_info g = {.size = sizeof g};
	CHECK_EQ_INT(joules_gpu_info(ctx, 1, &g), 0);
	CHECK(strcmp(g.name, "NVIDIA H100 80GB HBM3") == 0);
	CHECK(strcmp(g.uuid, "GPU-11111111-2222-3333-4444-555555555555") == 0);
	CHECK(strcmp(g.pci_bus_id, "00000000:9A:00.0") == 0);
	CHECK(strcmp(g.driver_version, "580.159.04") == 0);
	CHECK(strcmp(g.nvml_version, "13.580.159.04") == 0);
	CHECK_EQ_U64(g.index, 1);
	CHECK_EQ_INT(g.sensor, joules_sensor_find(ctx, "nvml:GPU-11111111-2222-3333-4444-555555555555"));
	uint32_t all = JOULES_GPU_HAS_MEMORY | JOULES_GPU_HAS_UTILIZATION | JOULES_GPU_HAS_POWER |
		       JOULES_GPU_HAS_POWER_LIMIT | JOULES_GPU_HAS_POWER_INSTANT | JOULES_GPU_HAS_ENERGY;
	CHECK_EQ_U64(g.valid, all);
	CHECK_EQ_U64(g.memory_total_bytes, 85899345920ull);
	CHECK_EQ_U64(g.memory_used_bytes, 1073741824ull);
	CHECK_EQ_U64(g.memory_free_bytes, 85899345920ull - 1073741824ull);
	CHECK_EQ_U64(g.gpu_util_percent, 87);
	CHECK_EQ_U64(g.memory_util_percent, 42);
	CHECK_EQ_U64(g.power_mw, 123456);
	CHECK_EQ_U64(g.power_instant_mw, 123456);
	CHECK_EQ_U64(g.power_limit_mw, 700000);
	/* GPU 0: utilisation unsupported, limit forbidden: marked, not 0. */
	g = (struct joules_gpu_info){.size = sizeof g, .valid = 0xffffffffu};
	CHECK_EQ_INT(joules_gpu_info(ctx, 0, &g), 0);
	CHECK_EQ_U64(g.valid & (JOULES_GPU_HAS_UTILIZATION | JOULES_GPU_HAS_POWER_LIMIT), 0);
	CHECK(g.valid & JOULES_GPU_HAS_MEMORY);
	g.size = 8;
	CHECK_EQ_INT(joules_gpu_info(ctx, 0, &g), JOULES_ERR_INVALID);
	g.size = sizeof g;
	CHECK_EQ_INT(joules_gpu_info(ctx, 2, &g), JOULES_ERR_NO_SENSOR);
	joules_close(ctx);
}

/* joules_close() shuts NVML down: the fake's own count of open inits says so. */
static void test_shutdown(void)
{
	use_fake("");
	config("gpus 2\n");
	void *dl = dlopen(getenv("JOULES_NVML_LIBRARY"), RTLD_NOW | RTLD_LOCAL);
	CHECK(dl != NULL);
	if (!dl)
		return;
	int (*inits)(void) = (int (*)(void))dlsym(dl, "fake_nvml_init_count");
	CHECK(inits != NULL);
	joules_ctx *ctx = open_ctx();
	if (inits)
		CHECK_EQ_INT(inits(), 1);
	joules_close(ctx);
	if (inits)
		CHECK_EQ_INT(inits(), 0);
	dlclose(dl);
}

/* Run `joules gpu ARGS`; its stdout into buf, its exit status returned. */
static int run_cli(const char *args, char *buf, size_t len)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s gpu %s", getenv("JOULES_CLI"), args);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return -1;
	size_t got = fread(buf, 1, len - 1, p);
	buf[got] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void test_cli_json(void)
{
	use_fake("");
	config("gpus 2\nname 1 NVIDIA H100 80GB HBM3\nmem 1 85899345920 21474836480\n"
	       "fail nvmlDeviceGetUtilizationRates 0 3\n");
	static char out[65536];
	CHECK_EQ_INT(run_cli("--json", out, sizeof out), 0);
	json_object *root = json_tokener_parse(out);
	CHECK(root != NULL);
	if (!root)
		return;
	CHECK(jstr(root, "driver_version") && !strcmp(jstr(root, "driver_version"), "580.159.04"));
	json_object *gpus, *g1, *g0, *v;
	CHECK(json_object_object_get_ex(root, "gpus", &gpus));
	CHECK_EQ_INT(json_object_array_length(gpus), 2);
	g0 = json_object_array_get_idx(gpus, 0);
	g1 = json_object_array_get_idx(gpus, 1);
	CHECK(!strcmp(jstr(g1, "name"), "NVIDIA H100 80GB HBM3"));
	CHECK(!strcmp(jstr(g1, "pci_bus_id"), "00000000:18:00.0"));
	CHECK(!strcmp(jstr(g1, "sensor"), "nvml:GPU-fa4e0000-0000-4000-8000-000000000001"));
	CHECK(!strcmp(jstr(g1, "status"), "ok"));
	CHECK(json_object_object_get_ex(g1, "memory", &v) && v);
	json_object *fp;
	CHECK(json_object_object_get_ex(v, "free_percent", &fp) &&
	      json_object_get_double(fp) == 75.0);
	CHECK(json_object_object_get_ex(g1, "power_limit_w", &v) && json_object_get_double(v) == 700.0);
	CHECK(json_object_object_get_ex(g0, "utilization", &v) && v == NULL);
	json_object_put(root);

	CHECK_EQ_INT(run_cli("", out, sizeof out), 0);
	CHECK_STR_HAS(out, "Driver 580.159.04, NVML 13.580.159.04, 2 GPUs");
	CHECK_STR_HAS(out, "NVIDIA H100 80GB HBM3");
	CHECK_STR_HAS(out, "GPU-fa4e0000-0000-4000-8000-000000000000");

	setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	CHECK_EQ_INT(run_cli("", out, sizeof out), 0);
	CHECK_STR_HAS(out, "No NVIDIA GPU: no NVIDIA driver found");

	use_fake("");
	config("fail nvmlInit -1 18\n");
	CHECK_EQ_INT(run_cli("--json 2>/dev/null", out, sizeof out), 1);
	root = json_tokener_parse(out);
	CHECK(root != NULL);
	if (root)
		CHECK_STR_HAS(jstr(root, "error"), "version mismatch");
	json_object_put(root);
	CHECK_EQ_INT(run_cli("--bogus 2>/dev/null", out, sizeof out), 2);
}

/*
 * The fake itself: a config change that no call saw for a while is placed at
 * its file's mtime, in the past; the samples it closes then must still be
 * stamped at their windows' ends, in order (they were stamped up to the
 * delay later, out of order, which under load put a 1000 W step 50 J off).
 */
static void test_fake_stamps_after_a_late_seen_change(void)
{
	char path[300];
	snprintf(path, sizeof path, "%s/libnvidia-ml.so.1", fake_dir);
	config("power_mw 0 100000\nsample_ms 0 20\n");
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(lib != NULL);
	if (!lib)
		return;
	nvmlReturn_t (*init)(void) = (nvmlReturn_t(*)(void))dlsym(lib, "nvmlInit_v2");
	nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *) =
		(nvmlReturn_t(*)(unsigned, nvmlDevice_t *))dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
	nvmlReturn_t (*samples)(nvmlDevice_t, int, unsigned long long, nvmlValueType_t *,
				unsigned *, nvmlSample_t *) =
		(nvmlReturn_t(*)(nvmlDevice_t, int, unsigned long long, nvmlValueType_t *, unsigned *,
				 nvmlSample_t *))dlsym(lib, "nvmlDeviceGetSamples");
	nvmlDevice_t g = NULL;
	CHECK(init && handle && samples);
	if (init && handle && samples && init() == NVML_SUCCESS && handle(0, &g) == NVML_SUCCESS) {
		nvmlSample_t buf[200];
		nvmlValueType_t type;
		unsigned n = 200;
		samples(g, NVML_TOTAL_POWER_SAMPLES, 0, &type, &n, buf); /* it counts from here */
		sleep_ms(100); /* five windows that only the next call closes */
		config("power_mw 0 1000000\nsample_ms 0 20\n");
		sleep_ms(150); /* no call sees the change for 150 ms */
		n = 200;
		CHECK_EQ_INT(samples(g, NVML_TOTAL_POWER_SAMPLES, 0, &type, &n, buf), NVML_SUCCESS);
		sleep_ms(200); /* the samples closed then are all due by now */
		n = 200;
		CHECK_EQ_INT(samples(g, NVML_TOTAL_POWER_SAMPLES, 0, &type, &n, buf), NVML_SUCCESS);
		unsigned bad = 0;
		for (unsigned i = 1; i < n && i < 200; i++)
			if (buf[i].timeStamp <= buf[i - 1].timeStamp) {
				printf("#   sample %u stamped %lld us after sample %u\n", i - 1,
				       (long long)(buf[i - 1].timeStamp - buf[i].timeStamp), i);
				bad++;
			}
		CHECK(n > 10 && bad == 0);
	}
	dlclose(lib);
}

static const struct test tests[] = {
	TEST(test_fake_stamps_after_a_late_seen_change),
	TEST(test_no_library),
	TEST(test_one_gpu),
	TEST(test_eight_gpus),
	TEST(test_counter_not_supported_integrates_power),
	TEST(test_no_samples_uses_instant),
	TEST(test_counter_symbol_missing_integrates_power),
	TEST(test_no_instant_power_uses_average),
	TEST(test_old_symbol_names),
	TEST(test_required_symbol_missing),
	TEST(test_init_driver_not_loaded),
	TEST(test_init_version_mismatch),
	TEST(test_init_no_permission),
	TEST(test_count_fails),
	TEST(test_per_gpu_failures),
	TEST(test_reset),
	TEST(test_lost_gpu),
	TEST(test_transient_errors_are_a_gap),
	TEST(test_power_change),
	TEST(test_between_steps_integrates_exactly),
	TEST(test_settle_lagged_samples),
	TEST(test_settle_power_step),
	TEST(test_no_overshoot_after_load_step),
	TEST(test_idle_context_makes_no_calls),
	TEST(test_region_wakes_and_cadence),
	TEST(test_region_sampler_lets_it_sleep),
	TEST(test_read_after_a_long_sleep),
	TEST(test_gpu_info),
	TEST(test_shutdown),
	TEST(test_cli_json),
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FAKE_NVML_DIR\n", argv[0]);
		return 2;
	}
	fake_dir = argv[1];
	char dir[] = "/tmp/joules-nvml-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	snprintf(config_path, sizeof config_path, "%s/config", dir);
	setenv("FAKE_NVML_CONFIG", config_path, 1);
	int rc = run_tests(tests, sizeof tests / sizeof tests[0]);
	unlink(config_path);
	rmdir(dir);
	return rc;
}
