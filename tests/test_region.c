/* SPDX-License-Identifier: MIT */
/*
 * Regions through the public API, on fake sysfs trees whose counters the
 * test advances by known amounts between boundaries and samples, and on
 * the fake libnvidia-ml.so.1 (real dlopen path) whose power is constant.
 * Samples are taken with joules_sample() where a test needs them at known
 * points, so every energy, window and peak is exact; no timing is asserted.
 */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "joules.h"
#include "testutil.h"

#define J 1000000ull /* µJ */
#define RAPL_MODULUS (FAKESYS_RAPL_RANGE_UJ + 1)
#define PC "class/powercap/"
#define PKG0 PC "intel-rapl:0/energy_uj"
#define CORE0 PC "intel-rapl:0:0/energy_uj"
#define DRAM0 PC "intel-rapl:0:2/energy_uj"
#define PKG1 PC "intel-rapl:1/energy_uj"
#define CORE1 PC "intel-rapl:1:0/energy_uj"

static char config_path[256], fake_nvml[512];

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void advance(struct fakesys *fs, const char *rel, uint64_t uj)
{
	CHECK_EQ_INT(fakesys_advance(fs, rel, uj, RAPL_MODULUS), 0);
}

/* Room for the largest rig layout (zones-300). */
#define MAX_SENSORS 320

/* A region's result, per sensor, for up to MAX_SENSORS sensors. */
struct result {
	struct joules_region_result r;
	struct joules_region_sensor s[MAX_SENSORS];
};

static int end(joules_ctx *ctx, int id, struct result *res)
{
	memset(res, 0xa5, sizeof *res); /* nothing left from before */
	return joules_region_end(ctx, id, 1000, &res->r, res->s, MAX_SENSORS);
}

/*
 * Sensor i's energy is exactly `uj` over `spans` active spans (2 when paused
 * once) and its figures follow from it.
 */
static void check_spans(const joules_ctx *ctx, const struct result *res, int i, uint64_t uj,
			unsigned spans)
{
	if (i < 0)
		return;
	const struct joules_region_sensor *s = &res->s[i];
	const struct joules_sensor *js = joules_sensor(ctx, (size_t)i);
	CHECK_EQ_INT(s->state, JOULES_REGION_OK);
	CHECK_EQ_INT(s->error, 0);
	CHECK(s->flags & JOULES_REGION_HAS_ENERGY);
	CHECK(!(s->flags & JOULES_REGION_PROVISIONAL));
	CHECK_EQ_U64(s->energy_uj, uj);
	CHECK(s->covered_ns > 0 && s->covered_ns <= res->r.duration_ns);
	CHECK(s->mean_w == (double)uj / ((double)s->covered_ns / 1e3));
	CHECK(s->peak_w >= s->mean_w);
	CHECK_EQ_INT(s->refresh_us, js->refresh_us);
	/* A raw counter: one refresh interval at the peak, plus one step, per span. */
	uint64_t res_uj = js->resolution_uj ? js->resolution_uj : 1;
	CHECK_EQ_U64(s->uncertainty_uj,
		     spans * (res_uj + (uint64_t)(s->peak_w * js->refresh_us + 0.5)));
}

static void check_exact(const joules_ctx *ctx, const struct result *res, int i, uint64_t uj)
{
	check_spans(ctx, res, i, uj, 1);
}

/* Energies, means, the totals of a two-socket machine, bounds on the result. */
static void test_energy_and_totals(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0"), c0 = test_find(ctx, "rapl:core-0");
	int d0 = test_find(ctx, "rapl:dram-0"), p1 = test_find(ctx, "rapl:package-1");
	int id = -1;
	CHECK_EQ_INT(joules_region_begin(ctx, "work", &id), 0);
	CHECK(id >= 0);
	advance(fs, PKG0, 3 * J);
	advance(fs, CORE0, 1 * J);
	advance(fs, DRAM0, 2 * J);
	advance(fs, PKG1, 5 * J);
	struct result res;
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK(strcmp(res.r.name, "work") == 0);
	CHECK_EQ_INT(res.r.n_sensors, joules_sensor_count(ctx));
	CHECK_EQ_INT(res.r.flags, 0);
	CHECK_EQ_U64(res.r.paused_ns, 0);
	CHECK_EQ_U64(res.r.duration_ns, res.r.end_ns - res.r.begin_ns);
	check_exact(ctx, &res, p0, 3 * J);
	check_exact(ctx, &res, c0, 1 * J);
	check_exact(ctx, &res, d0, 2 * J);
	check_exact(ctx, &res, p1, 5 * J);
	/* cpu: the packages, not their cores again. */
	const struct joules_region_total *cpu = &res.r.totals[JOULES_TOTAL_CPU];
	CHECK_EQ_INT(cpu->error, 0);
	CHECK(cpu->flags & JOULES_REGION_HAS_ENERGY);
	CHECK_EQ_U64(cpu->energy_uj, 8 * J);
	CHECK_EQ_INT(cpu->sensors, 2);
	CHECK_EQ_U64(cpu->uncertainty_uj, res.s[p0].uncertainty_uj + res.s[p1].uncertainty_uj);
	CHECK_EQ_U64(res.r.totals[JOULES_TOTAL_DRAM].energy_uj, 2 * J);
	const struct joules_region_total *gpu = &res.r.totals[JOULES_TOTAL_GPU];
	CHECK_EQ_INT(gpu->error, JOULES_ERR_NO_SENSOR);
	CHECK(!(gpu->flags & JOULES_REGION_HAS_ENERGY));
	CHECK_STR_HAS(gpu->reason, "no gpu sensor");
	CHECK_EQ_INT(res.r.totals[JOULES_TOTAL_PLATFORM].error, JOULES_ERR_NO_SENSOR);
	/* The id is free again; ending it twice is refused. */
	CHECK_EQ_INT(joules_region_end(ctx, id, 0, NULL, NULL, 0), JOULES_ERR_INVALID);
	CHECK_STR_HAS(joules_last_error(ctx), "no running region");
	/* Selected cores only: they make the cpu total. */
	uint8_t sel[64] = {0};
	sel[c0] = 1;
	sel[test_find(ctx, "rapl:core-1")] = 1;
	struct joules_region_total tot[JOULES_TOTALS];
	CHECK_EQ_INT(joules_region_totals(ctx, sel, res.s, joules_sensor_count(ctx), tot), 0);
	CHECK_EQ_U64(tot[JOULES_TOTAL_CPU].energy_uj, 1 * J);
	CHECK_EQ_INT(tot[JOULES_TOTAL_DRAM].error, JOULES_ERR_NO_SENSOR);
	CHECK_EQ_INT(joules_region_totals(ctx, sel, res.s, 1, tot), JOULES_ERR_INVALID);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * Peaks and the trace from samples at known points: the peak is the
 * window that drew the most, and equals that window in the trace.
 */
static void test_peak_and_trace(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0"), p1 = test_find(ctx, "rapl:package-1");
	CHECK_EQ_INT(joules_sampler_start(ctx, 0, 8), 0);
	CHECK_EQ_INT(joules_sampler_interval(ctx), 0);
	int id;
	CHECK_EQ_INT(joules_region_begin(ctx, "peaks", &id), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	sleep_ms(2);
	advance(fs, PKG0, 1 * J);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	sleep_ms(2);
	advance(fs, PKG0, 4 * J);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	sleep_ms(2);
	struct result res;
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, p0, 5 * J);
	struct joules_trace_point tp[8];
	int n = joules_trace(ctx, (size_t)p0, 0, tp, 8);
	CHECK_EQ_INT(n, 2); /* windows between the three samples */
	if (n == 2) {
		CHECK_EQ_U64(tp[0].energy_uj, 1 * J);
		CHECK_EQ_U64(tp[1].energy_uj, 4 * J);
		CHECK_EQ_INT(tp[1].status, 0);
		CHECK(tp[1].time_ns > tp[0].time_ns);
		CHECK(tp[1].power_w == 4e6 / ((double)tp[1].window_ns / 1e3));
		/* Windows end at samples 2 and 3, in every sensor's trace alike. */
		CHECK_EQ_U64(tp[0].sample, 2);
		CHECK_EQ_U64(tp[1].sample, 3);
		struct joules_trace_point other[8];
		CHECK_EQ_INT(joules_trace(ctx, (size_t)p1, 0, other, 8), 2);
		CHECK_EQ_U64(other[1].sample, 3);
		CHECK_EQ_U64(other[1].energy_uj, 0);
		CHECK(res.s[p0].flags & JOULES_REGION_PEAK_SAMPLED);
		CHECK(res.s[p0].peak_w == tp[1].power_w);
		CHECK(res.s[p0].peak_w > res.s[p0].mean_w);
		/* Only what ends after a time. */
		CHECK_EQ_INT(joules_trace(ctx, (size_t)p0, tp[0].time_ns, tp, 8), 1);
	}
	CHECK_EQ_INT(joules_trace(ctx, 999, 0, tp, 8), JOULES_ERR_NO_SENSOR);
	joules_sampler_stop(ctx);
	CHECK_EQ_INT(joules_trace(ctx, (size_t)p0, 0, tp, 8), 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * Raw counters of another source (amd_energy's hwmon energy files) get the
 * same bound; a power sensor integrated by the sampler (amdgpu's PPT)
 * bounds its readings itself, and its region bound is theirs.
 */
static void test_hwmon_bounds(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amd-energy", "hwmon-amdgpu");
	joules_ctx *ctx = test_open(fs);
	int core = test_find(ctx, "hwmon:amd_energy:Ecore000");
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(fakesys_advance(fs, "devices/platform/amd_energy.0/hwmon/hwmon5/energy1_input",
				     2 * J, 0), 0);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, core, 2 * J);
	int integrated = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++) {
		const struct joules_sensor *js = joules_sensor(ctx, i);
		if (!(js->flags & JOULES_SENSOR_INTEGRATED))
			continue;
		integrated++;
		const struct joules_region_sensor *s = &res.s[i];
		CHECK(s->flags & JOULES_REGION_HAS_ENERGY);
		CHECK(!(s->flags & JOULES_REGION_PROVISIONAL));
		/* Settled at a steady power: exact, no refresh-interval term added. */
		CHECK(s->uncertainty_uj < (uint64_t)(s->peak_w * js->refresh_us));
	}
	CHECK(integrated > 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Nested and overlapping regions each get their own energy. */
static void test_nesting_overlap(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	int outer, inner, over;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "outer", &outer), 0);
	advance(fs, PKG0, 1 * J);
	CHECK_EQ_INT(joules_region_begin(ctx, "inner", &inner), 0);
	advance(fs, PKG0, 2 * J);
	CHECK_EQ_INT(joules_region_begin(ctx, "overlap", &over), 0);
	CHECK(outer != inner && inner != over && outer != over);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(end(ctx, inner, &res), 0);
	check_exact(ctx, &res, p0, 2 * J);
	CHECK(strcmp(res.r.name, "inner") == 0);
	advance(fs, PKG0, 4 * J);
	CHECK_EQ_INT(end(ctx, outer, &res), 0);
	check_exact(ctx, &res, p0, 7 * J);
	advance(fs, PKG0, 8 * J);
	CHECK_EQ_INT(end(ctx, over, &res), 0);
	check_exact(ctx, &res, p0, 12 * J);
	CHECK(strcmp(res.r.name, "overlap") == 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Paused energy and time are left out; bad transitions are refused. */
static void test_pause_resume(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(joules_region_resume(ctx, id), JOULES_ERR_INVALID);
	advance(fs, PKG0, 1 * J);
	CHECK_EQ_INT(joules_region_pause(ctx, id), 0);
	CHECK_EQ_INT(joules_region_pause(ctx, id), JOULES_ERR_INVALID);
	sleep_ms(5);
	advance(fs, PKG0, 10 * J);
	CHECK_EQ_INT(joules_sample(ctx), 0); /* a sample while paused counts for nothing */
	advance(fs, PKG0, 10 * J);
	CHECK_EQ_INT(joules_region_resume(ctx, id), 0);
	advance(fs, PKG0, 2 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_spans(ctx, &res, p0, 3 * J, 2);
	CHECK(res.r.paused_ns >= 5000000u);
	CHECK_EQ_U64(res.r.duration_ns, res.r.end_ns - res.r.begin_ns - res.r.paused_ns);
	CHECK(res.s[p0].covered_ns <= res.r.duration_ns);
	/* Ended while paused: it ends where it was paused. */
	CHECK_EQ_INT(joules_region_begin(ctx, "r2", &id), 0);
	advance(fs, PKG0, 1 * J);
	CHECK_EQ_INT(joules_region_pause(ctx, id), 0);
	advance(fs, PKG0, 5 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, p0, 1 * J);
	/* A long name is cut between UTF-8 characters: 31 × "é" is 62 bytes, then "€". */
	char name[128] = "";
	for (int k = 0; k < 31; k++)
		strcat(name, "\xc3\xa9");
	strcat(name, "\xe2\x82\xac");
	CHECK_EQ_INT(joules_region_begin(ctx, name, &id), 0);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK_EQ_INT(strlen(res.r.name), 62);
	CHECK(strncmp(res.r.name, name, 62) == 0);
	CHECK_EQ_INT(joules_region_pause(ctx, 12345), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_region_pause(NULL, 0), JOULES_ERR_INVALID);
	joules_close(ctx);
	fakesys_free(fs);
}

/* A baseline given, then one measured: energy above idle with its uncertainty. */
static void test_baseline(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	size_t n = joules_sensor_count(ctx);
	int p0 = test_find(ctx, "rapl:package-0"), p1 = test_find(ctx, "rapl:package-1");
	struct joules_baseline b[64] = {0}, got[64];
	CHECK_EQ_INT(joules_baseline_get(ctx, got, n), JOULES_ERR_NO_SENSOR);
	for (size_t i = 0; i < n; i++)
		b[i].error = JOULES_ERR_IO;
	b[p0] = (struct joules_baseline){.power_w = 10, .uncertainty_w = 1};
	CHECK_EQ_INT(joules_baseline_set(ctx, b, n), 0);
	CHECK_EQ_INT(joules_baseline_set(ctx, b, n - 1), JOULES_ERR_INVALID);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	sleep_ms(5);
	advance(fs, PKG0, 3 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	const struct joules_region_sensor *s = &res.s[p0];
	double us = (double)s->covered_ns / 1e3;
	CHECK(s->flags & JOULES_REGION_HAS_IDLE);
	CHECK(s->idle_w == 10 && s->idle_uncertainty_w == 1);
	CHECK_EQ_INT(s->above_idle_uj, (int64_t)(3 * J) - (int64_t)(10 * us + 0.5));
	CHECK_EQ_U64(s->above_idle_uncertainty_uj, s->uncertainty_uj + (uint64_t)(us + 0.5));
	CHECK(!(res.s[p1].flags & JOULES_REGION_HAS_IDLE));
	/* package-1 has no baseline, so neither has the cpu total. */
	CHECK(!(res.r.totals[JOULES_TOTAL_CPU].flags & JOULES_REGION_HAS_IDLE));
	CHECK(res.r.totals[JOULES_TOTAL_CPU].flags & JOULES_REGION_HAS_ENERGY);

	/* From a region: its mean power, its bound spread over its time. */
	CHECK_EQ_INT(joules_baseline_from_region(ctx, res.s, n), 0);
	CHECK_EQ_INT(joules_baseline_get(ctx, got, n), (int)n);
	CHECK(got[p0].power_w == s->mean_w);
	CHECK(got[p0].uncertainty_w == (double)s->uncertainty_uj / us);
	CHECK_EQ_U64(got[p0].duration_ns, s->covered_ns);
	CHECK_EQ_INT(got[p1].error, 0);
	CHECK(got[p1].power_w == 0);
	/* Measured: nothing advances, so idle is 0 W, and all totals have it. */
	CHECK_EQ_INT(joules_baseline_measure(ctx, 20), 0);
	CHECK_EQ_INT(joules_baseline_get(ctx, got, n), (int)n);
	CHECK(got[p0].power_w == 0 && got[p0].error == 0 && got[p0].duration_ns > 0);
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	advance(fs, PKG0, 2 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK_EQ_INT(res.s[p0].above_idle_uj, 2 * J);
	const struct joules_region_total *cpu = &res.r.totals[JOULES_TOTAL_CPU];
	CHECK(cpu->flags & JOULES_REGION_HAS_IDLE);
	CHECK_EQ_INT(cpu->above_idle_uj, 2 * J);
	CHECK(cpu->above_idle_uncertainty_uj >= cpu->uncertainty_uj);
	CHECK_EQ_INT(joules_baseline_set(ctx, NULL, 0), 0);
	CHECK_EQ_INT(joules_baseline_get(ctx, got, n), JOULES_ERR_NO_SENSOR);
	joules_close(ctx);
	fakesys_free(fs);
}

/* The counter wraps during the region: seen by a sample, added back exactly. */
static void test_wrap(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, RAPL_MODULUS - 1000), 0);
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	CHECK_EQ_INT(joules_sampler_start(ctx, 0, 4), 0);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "wrap", &id), 0);
	advance(fs, PKG0, 500);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	advance(fs, PKG0, 2000); /* past the top: 1500 */
	CHECK_EQ_INT(joules_sample(ctx), 0);
	advance(fs, PKG0, 7);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, p0, 2507);
	CHECK_EQ_INT(res.s[p0].wraps, 1);
	CHECK(res.s[p0].flags & JOULES_REGION_WRAPPED);
	struct joules_trace_point tp[4];
	CHECK_EQ_INT(joules_trace(ctx, (size_t)p0, 0, tp, 4), 1);
	CHECK(tp[0].flags & JOULES_READING_WRAPPED);
	CHECK_EQ_U64(tp[0].energy_uj, 2000);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * package-0's file vanishes mid-region: the region still ends, the others
 * are exact, package-0 is partial (its energy up to its last good sample),
 * and the cpu total says which sensor it lacks.
 */
static void test_sensor_fails_midregion(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0"), p1 = test_find(ctx, "rapl:package-1");
	int c0 = test_find(ctx, "rapl:core-0");
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(fakesys_remove(fs, CORE0), 0); /* gone before any good sample */
	advance(fs, PKG0, 1 * J);
	advance(fs, PKG1, 1 * J);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_remove(fs, PKG0), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	advance(fs, PKG1, 1 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, p1, 2 * J);
	const struct joules_region_sensor *s = &res.s[p0];
	CHECK_EQ_INT(s->state, JOULES_REGION_PARTIAL);
	CHECK(s->error < 0);
	CHECK_STR_HAS(s->reason, "energy_uj");
	CHECK(s->flags & JOULES_REGION_HAS_ENERGY);
	CHECK_EQ_U64(s->energy_uj, 1 * J);
	CHECK(s->covered_ns < res.s[p1].covered_ns);
	const struct joules_region_total *cpu = &res.r.totals[JOULES_TOTAL_CPU];
	CHECK(!(cpu->flags & JOULES_REGION_HAS_ENERGY));
	CHECK_EQ_INT(cpu->missing, p0);
	CHECK_EQ_INT(cpu->error, s->error);
	CHECK_STR_HAS(cpu->reason, "rapl:package-0");
	CHECK_EQ_U64(cpu->energy_uj, 0);
	CHECK_EQ_INT(res.s[c0].state, JOULES_REGION_PARTIAL);
	CHECK(!(res.s[c0].flags & JOULES_REGION_HAS_ENERGY));
	CHECK_EQ_U64(res.s[c0].energy_uj, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* A read fails mid-region and recovers: a gap, the energy still exact. */
static void test_gap(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	uint64_t was;
	CHECK_EQ_INT(fakesys_read_u64(fs, PKG0, &was), 0);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(fakesys_write(fs, PKG0, "garbage\n"), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, was + 3 * J), 0);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	const struct joules_region_sensor *s = &res.s[p0];
	CHECK_EQ_INT(s->state, JOULES_REGION_GAP);
	CHECK_EQ_INT(s->error, JOULES_ERR_PARSE);
	CHECK(s->reason[0] != '\0');
	CHECK(s->flags & JOULES_REGION_HAS_ENERGY);
	CHECK_EQ_U64(s->energy_uj, 3 * J);
	/* A gap with exact energy still makes the total. */
	CHECK(res.r.totals[JOULES_TOTAL_CPU].flags & JOULES_REGION_HAS_ENERGY);
	joules_close(ctx);
	fakesys_free(fs);
}

/* A counter reset mid-region: no energy, and the reason. */
static void test_reset(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, 10), 0);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK_EQ_INT(res.s[p0].state, JOULES_REGION_RESET);
	CHECK_EQ_INT(res.s[p0].error, JOULES_ERR_RESET);
	CHECK(!(res.s[p0].flags & JOULES_REGION_HAS_ENERGY));
	CHECK_STR_HAS(res.s[p0].reason, "reset");
	CHECK_EQ_INT(res.r.totals[JOULES_TOTAL_CPU].error, JOULES_ERR_RESET);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Sensors unreadable from the start say so, with the sensor's own reason. */
static void test_unreadable(void)
{
	struct fakesys *fs = TEST_TREE("messy-powercap");
	joules_ctx *ctx = test_open(fs);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	int bad = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++) {
		const struct joules_region_sensor *s = &res.s[i];
		const struct joules_sensor *js = joules_sensor(ctx, i);
		if (js->flags & JOULES_SENSOR_READABLE)
			continue;
		bad++;
		CHECK_EQ_INT(s->state, JOULES_REGION_UNREADABLE);
		CHECK(s->error < 0);
		CHECK(strcmp(s->reason, js->reason) == 0);
		CHECK(!(s->flags & JOULES_REGION_HAS_ENERGY));
	}
	CHECK(bad > 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Is a an ancestor of b? */
static int ancestor(const joules_ctx *ctx, size_t a, size_t b)
{
	int p = joules_sensor(ctx, b)->parent;
	for (size_t k = 0; p >= 0 && k < 64; k++, p = joules_sensor(ctx, (size_t)p)->parent)
		if ((size_t)p == a)
			return 1;
	return 0;
}

static int total_of_kind(int kind)
{
	switch (kind) {
	case JOULES_KIND_CPU_PACKAGE:
	case JOULES_KIND_CPU_CORE:
	case JOULES_KIND_UNCORE: return JOULES_TOTAL_CPU;
	case JOULES_KIND_DRAM: return JOULES_TOTAL_DRAM;
	case JOULES_KIND_GPU: return JOULES_TOTAL_GPU;
	case JOULES_KIND_PLATFORM: return JOULES_TOTAL_PLATFORM;
	}
	return -1;
}

/*
 * Every layout of the rig, every powercap counter advanced by a different
 * amount: each total is the sum of the sensors that add to it; no two of
 * them nest (nothing counted twice); every sensor of the total's kinds is
 * counted or sits inside one that is (nothing left out).
 */
static void test_totals_every_layout(void)
{
	for (size_t l = 0; fakesys_layouts[l]; l++) {
		printf("# layout %s\n", fakesys_layouts[l]);
		struct fakesys *fs = TEST_TREE(fakesys_layouts[l]);
		joules_ctx *ctx = test_open(fs);
		size_t n = joules_sensor_count(ctx);
		if (n > MAX_SENSORS) {
			CHECK(!"too many sensors for this test");
			continue;
		}
		int id;
		struct result res;
		CHECK_EQ_INT(joules_region_begin(ctx, fakesys_layouts[l], &id), 0);
		char pattern[600];
		snprintf(pattern, sizeof pattern, "%s/" PC "*/energy_uj", fakesys_root(fs));
		glob_t g;
		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t k = 0; k < g.gl_pathc; k++)
				fakesys_advance(fs, g.gl_pathv[k] + strlen(fakesys_root(fs)) + 1,
						(k + 1) * J, RAPL_MODULUS);
			globfree(&g);
		}
		CHECK(end(ctx, id, &res) >= 0);
		for (int t = 0; t < JOULES_TOTALS; t++) {
			const struct joules_region_total *tot = &res.r.totals[t];
			uint64_t sum = 0;
			unsigned counted = 0;
			for (size_t i = 0; i < n; i++) {
				if (joules_total_of(ctx, NULL, i) != t) {
					int kt = total_of_kind(joules_sensor(ctx, i)->kind);
					if (kt != t)
						continue;
					/* Left out: then inside a counted sensor of the same total. */
					int inside = 0;
					for (size_t a = 0; a < n; a++)
						inside |= ancestor(ctx, a, i) &&
							  joules_total_of(ctx, NULL, a) == t;
					CHECK(inside);
					continue;
				}
				counted++;
				sum += res.s[i].energy_uj;
				for (size_t a = 0; a < n; a++)
					CHECK(!(ancestor(ctx, a, i) && joules_total_of(ctx, NULL, a) == t));
			}
			CHECK_EQ_INT(tot->sensors, counted);
			if (!counted)
				CHECK_EQ_INT(tot->error, JOULES_ERR_NO_SENSOR);
			if (tot->flags & JOULES_REGION_HAS_ENERGY)
				CHECK_EQ_U64(tot->energy_uj, sum);
			else
				CHECK(tot->error < 0 && tot->reason[0]);
		}
		/* The laptop: the package once (not again through MMIO), psys apart. */
		if (!strcmp(fakesys_layouts[l], "laptop")) {
			int pkg = test_find(ctx, "rapl:package-0");
			CHECK_EQ_INT(res.r.totals[JOULES_TOTAL_CPU].sensors, 1);
			CHECK_EQ_U64(res.r.totals[JOULES_TOTAL_CPU].energy_uj, res.s[pkg].energy_uj);
			CHECK(res.s[pkg].energy_uj >= 1 * J);
			CHECK(res.r.totals[JOULES_TOTAL_PLATFORM].flags & JOULES_REGION_HAS_ENERGY);
			CHECK_EQ_INT(res.r.totals[JOULES_TOTAL_PLATFORM].sensors, 1);
		}
		joules_close(ctx);
		fakesys_free(fs);
	}
	CHECK_STR_HAS(joules_total_name(JOULES_TOTAL_PLATFORM), "platform");
	CHECK_STR_HAS(joules_total_name(7), "none");
	CHECK_EQ_INT(joules_total_of(NULL, NULL, 0), JOULES_ERR_INVALID);
}

/*
 * The sampler thread at 1 ms while the caller reads too: the trace fills,
 * windows abut, and a region's energy is the counters' own.
 */
static void test_sampler_thread(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	CHECK_EQ_INT(joules_sampler_start(ctx, 1, 64), 0);
	CHECK_EQ_INT(joules_sampler_interval(ctx), JOULES_SAMPLER_MIN_US);
	int id;
	struct result res;
	struct joules_reading r[64];
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	for (int k = 0; k < 20; k++) {
		advance(fs, PKG0, 1000);
		CHECK_EQ_INT(joules_read(ctx, r, joules_sensor_count(ctx)),
			     (int)joules_sensor_count(ctx));
		sleep_ms(1);
	}
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	check_exact(ctx, &res, p0, 20000);
	struct joules_trace_point tp[64];
	/* The thread's ticks are not the caller's to time (valgrind runs one thread at once). */
	int n = 0;
	for (int k = 0; k < 400 && n == 0; k++) {
		n = joules_trace(ctx, (size_t)p0, 0, tp, 64);
		if (n == 0)
			sleep_ms(5);
	}
	CHECK(n > 0);
	for (int k = 1; k < n; k++)
		CHECK_EQ_U64(tp[k].time_ns - tp[k].window_ns, tp[k - 1].time_ns);
	/* Restarted at the default: a new (empty) trace. */
	CHECK_EQ_INT(joules_sampler_start(ctx, JOULES_SAMPLER_DEFAULT_US, 4), 0);
	CHECK_EQ_INT(joules_sampler_interval(ctx), JOULES_SAMPLER_DEFAULT_US);
	joules_close(ctx); /* stops it */
	fakesys_free(fs);
}

#define IDLE_TRACE 256

/* Sensor i's trace windows that end after after_ns, into tp[IDLE_TRACE]. */
static int windows_after(joules_ctx *ctx, int i, uint64_t after_ns, struct joules_trace_point *tp)
{
	int n = joules_trace(ctx, (size_t)i, after_ns, tp, IDLE_TRACE);
	CHECK(n >= 0);
	return n < 0 ? 0 : n;
}

/*
 * A sampler at 10 ms while no region runs ticks once a second (no window
 * in 400 ms; 40 at the interval); a region's begin samples at once, so its
 * first window starts with it, not at the last idle tick 400 ms before, and
 * the interval runs until the region pauses; resume does the same. After
 * the end it is idle again.
 */
static void test_sampler_idle_between_regions(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	static struct joules_trace_point tp[IDLE_TRACE];
	CHECK_EQ_INT(joules_sampler_start(ctx, 10000, IDLE_TRACE), 0);
	sleep_ms(400);
	CHECK_EQ_INT(windows_after(ctx, p0, 0, tp), 0);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "r", &id), 0);
	sleep_ms(300);
	CHECK_EQ_INT(joules_region_pause(ctx, id), 0);
	int running = windows_after(ctx, p0, 0, tp);
	CHECK(running >= 3);
	sleep_ms(400);
	int paused = windows_after(ctx, p0, 0, tp);
	CHECK(paused <= running + 1); /* one more tick, then idle */
	CHECK_EQ_INT(joules_region_resume(ctx, id), 0);
	sleep_ms(300);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK(windows_after(ctx, p0, 0, tp) >= paused + 3);
	/* The region's first window: from the begin's own sample (its readings come after it). */
	if (windows_after(ctx, p0, res.r.begin_ns, tp) > 0) {
		uint64_t start = tp[0].time_ns - tp[0].window_ns;
		printf("#   the region's first window starts %.3f ms before its begin\n",
		       ((double)res.r.begin_ns - (double)start) / 1e6);
		CHECK(start + 50000000u > res.r.begin_ns);
	} else {
		CHECK(!"no window in the region");
	}
	sleep_ms(400);
	CHECK(windows_after(ctx, p0, res.r.end_ns, tp) <= 1);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * Between regions the sampler still never waits past half the shortest
 * wrap period: a zone of 1000 J at 2 kW wraps every 500 ms, so the idle
 * ticks come every 250 ms, not every second (2 windows in 700 ms, not 0).
 */
static void test_sampler_idle_within_wrap(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 1 * J, 1000 * J), 0);
	joules_ctx *ctx = test_open(fs);
	static struct joules_trace_point tp[IDLE_TRACE];
	CHECK_EQ_U64(joules_max_interval_ns(ctx), 250000000u);
	CHECK_EQ_INT(joules_sampler_start(ctx, 10000, IDLE_TRACE), 0);
	sleep_ms(700);
	int n = windows_after(ctx, 0, 0, tp);
	CHECK(n >= 1 && n <= 3);
	for (int k = 0; k < n; k++)
		CHECK(tp[k].window_ns < 300000000u);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * A fork() child of a process whose region sampler runs (its lock may be
 * held at the fork): every region call refuses with JOULES_ERR_FORKED and
 * joules_close() returns (a watchdog kills a child that hangs); the
 * parent's region is untouched.
 */
static void test_fork_child_refuses(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	CHECK_EQ_INT(joules_sampler_start(ctx, 1, 16), 0);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "parent", &id), 0);
	advance(fs, PKG0, 1 * J);
	for (int k = 0; k < 20; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			alarm(10);
			int bad = 0, other;
			struct joules_trace_point tp[4];
			struct joules_baseline b[64];
			bad |= joules_region_begin(ctx, "child", &other) != JOULES_ERR_FORKED;
			bad |= joules_region_pause(ctx, id) != JOULES_ERR_FORKED;
			bad |= joules_region_end(ctx, id, 0, NULL, NULL, 0) != JOULES_ERR_FORKED;
			bad |= joules_sample(ctx) != JOULES_ERR_FORKED;
			bad |= joules_trace(ctx, 0, 0, tp, 4) != JOULES_ERR_FORKED;
			bad |= joules_baseline_get(ctx, b, 64) != JOULES_ERR_FORKED;
			bad |= joules_sampler_start(ctx, 1000, 0) != JOULES_ERR_FORKED;
			joules_sampler_stop(ctx);
			joules_close(ctx);
			_exit(bad ? 1 : 0);
		}
		CHECK(pid > 0);
		int status = 0;
		CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			printf("#   child %d: status %#x%s\n", k, status,
			       WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? " (hung)" : "");
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	advance(fs, PKG0, 1 * J);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	CHECK_EQ_U64(res.s[p0].energy_uj, 2 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

/* ---- GPUs through the fake NVML ---- */

/* Point joules at the fake NVML with this config (the sysfs cases see no GPU). */
static void nvml_config(const char *text)
{
	setenv("JOULES_NVML_LIBRARY", fake_nvml, 1);
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp", config_path);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	CHECK_EQ_INT(rename(tmp, config_path), 0);
}

/*
 * A 30 ms region on a GPU whose samples arrive 80 ms late: ended without
 * waiting, it is provisional (no sample covers it yet) and within its
 * uncertainty; finished, it is final, tighter, and still right.
 */
static void test_gpu_before_samples(void)
{
	nvml_config("power_mw 0 200000\nsamples_lag_ms 0 80\nstep_ms 0 10\nlimit_mw 0 700000\n");
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, "/nonexistent-sysfs"), 0);
	if (!ctx)
		return;
	CHECK_EQ_INT(joules_sensor_count(ctx), 1);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "short", &id), 0);
	sleep_ms(30);
	memset(&res, 0, sizeof res);
	CHECK_EQ_INT(joules_region_end(ctx, id, 0, &res.r, res.s, 64), 1);
	CHECK(res.r.flags & JOULES_REGION_PROVISIONAL);
	CHECK(res.s[0].flags & JOULES_REGION_PROVISIONAL);
	CHECK(res.r.totals[JOULES_TOTAL_GPU].flags & JOULES_REGION_PROVISIONAL);
	double expect = 200.0 * (double)res.s[0].covered_ns / 1e3;
	double prov_unc = (double)res.s[0].uncertainty_uj;
	CHECK(prov_unc >= 700.0 * 80e3); /* not seen yet: 80 ms at up to the limit */
	CHECK((double)res.s[0].energy_uj >= expect - prov_unc - 5000 &&
	      (double)res.s[0].energy_uj <= expect + prov_unc + 5000);
	int rc = 1;
	for (int k = 0; k < 5 && rc == 1; k++)
		rc = joules_region_finish(ctx, id, 1000, &res.r, res.s, 64);
	CHECK_EQ_INT(rc, 0);
	CHECK(!(res.r.flags & JOULES_REGION_PROVISIONAL));
	CHECK_EQ_INT(res.s[0].state, JOULES_REGION_OK);
	expect = 200.0 * (double)res.s[0].covered_ns / 1e3;
	double unc = (double)res.s[0].uncertainty_uj;
	CHECK(unc < prov_unc);
	if ((double)res.s[0].energy_uj < expect - unc - expect / 100 - 5000 ||
	    (double)res.s[0].energy_uj > expect + unc + expect / 100 + 5000)
		printf("#   energy %" PRIu64 " µJ, expected %.0f ± %.0f\n", res.s[0].energy_uj,
		       expect, unc);
	CHECK((double)res.s[0].energy_uj >= expect - unc - expect / 100 - 5000 &&
	      (double)res.s[0].energy_uj <= expect + unc + expect / 100 + 5000);
	CHECK_EQ_U64(res.r.totals[JOULES_TOTAL_GPU].energy_uj, res.s[0].energy_uj);
	CHECK_EQ_U64(res.r.totals[JOULES_TOTAL_GPU].uncertainty_uj, res.s[0].uncertainty_uj);
	CHECK_EQ_INT(joules_region_finish(ctx, id, 0, NULL, NULL, 0), JOULES_ERR_INVALID);
	joules_close(ctx);
	setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
}

/*
 * Ended with a wait, a GPU region is final in one call; with the sampler at
 * 20 ms its peak is the constant power within the reading's bound.
 */
static void test_gpu_settled_end(void)
{
	nvml_config("power_mw 0 150000\nsamples_lag_ms 0 40\nstep_ms 0 10\nlimit_mw 0 700000\n");
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, "/nonexistent-sysfs"), 0);
	if (!ctx)
		return;
	CHECK_EQ_INT(joules_sampler_start(ctx, 20000, 0), 0);
	int id;
	struct result res;
	CHECK_EQ_INT(joules_region_begin(ctx, "gpu", &id), 0);
	sleep_ms(300);
	CHECK_EQ_INT(end(ctx, id, &res), 0);
	const struct joules_region_sensor *s = &res.s[0];
	CHECK_EQ_INT(s->state, JOULES_REGION_OK);
	CHECK(!(s->flags & JOULES_REGION_PROVISIONAL));
	double expect = 150.0 * (double)s->covered_ns / 1e3;
	double tol = (double)s->uncertainty_uj + expect / 100 + 5000;
	CHECK((double)s->energy_uj >= expect - tol && (double)s->energy_uj <= expect + tol);
	CHECK(s->peak_w >= s->mean_w);
	joules_close(ctx);
	setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
}

static const struct test tests[] = {
	TEST(test_energy_and_totals),
	TEST(test_peak_and_trace),
	TEST(test_hwmon_bounds),
	TEST(test_nesting_overlap),
	TEST(test_pause_resume),
	TEST(test_baseline),
	TEST(test_wrap),
	TEST(test_sensor_fails_midregion),
	TEST(test_gap),
	TEST(test_reset),
	TEST(test_unreadable),
	TEST(test_totals_every_layout),
	TEST(test_sampler_thread),
	TEST(test_sampler_idle_between_regions),
	TEST(test_sampler_idle_within_wrap),
	TEST(test_fork_child_refuses),
	TEST(test_gpu_before_samples),
	TEST(test_gpu_settled_end),
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FAKE_NVML_DIR\n", argv[0]);
		return 2;
	}
	char dir[] = "/tmp/joules-region-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	snprintf(config_path, sizeof config_path, "%s/config", dir);
	setenv("FAKE_NVML_CONFIG", config_path, 1);
	snprintf(fake_nvml, sizeof fake_nvml, "%s/libnvidia-ml.so.1", argv[1]);
	setenv("JOULES_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	int rc = run_tests(tests, sizeof tests / sizeof tests[0]);
	unlink(config_path);
	rmdir(dir);
	return rc;
}
