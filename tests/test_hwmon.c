/* SPDX-License-Identifier: MIT */
/*
 * The hwmon backend through the public API, on fake sysfs trees shaped like
 * real ones (class/hwmon links into devices/): GPUs, amd_energy, messy
 * chips; counters advanced and reset, power integrated over a real
 * interval, chips removed mid-run, files unreadable as nobody, and the
 * joules CLI listing all of it.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"
#include "harness.h"
#include "testutil.h"
#include "joules.h"

#define J 1000000ull /* µJ */
#define HW "class/hwmon/"
#define AMDGPU_OLD "hwmon:amdgpu:0000:03:00.0:power1"
#define AMDGPU "hwmon:amdgpu:0000:0a:00.0:PPT"
#define I915 "hwmon:i915:0000:04:00.0:energy1"
#define XE_CARD "hwmon:xe:0000:05:00.0:card"
#define XE_PKG "hwmon:xe:0000:05:00.0:pkg"
#define AMDGPU_UW 120000000ull /* power1_input of hwmon-amdgpu: 120 W */

static size_t hwmon_sensors(const joules_ctx *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		n += strcmp(joules_sensor(ctx, i)->source, "hwmon") == 0;
	return n;
}

static const char *hwmon_note(const joules_ctx *ctx)
{
	for (size_t i = 0; i < joules_source_count(ctx); i++)
		if (strcmp(joules_source_name(ctx, i), "hwmon") == 0)
			return joules_source_note(ctx, i);
	return NULL;
}

/* Read every sensor; the reading of sensor `i`. */
static struct joules_reading read_one(joules_ctx *ctx, int i)
{
	struct joules_reading r[64] = {{0}};
	size_t n = joules_sensor_count(ctx);
	CHECK(n <= 64);
	CHECK_EQ_INT(joules_read(ctx, r, n), (int)n);
	return i >= 0 && (size_t)i < n ? r[i] : (struct joules_reading){.status = -100};
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

struct expect {
	const char *id, *name;
	int kind;
	const char *device;
	const char *parent; /* id, or NULL */
	bool integrated;
	uint32_t refresh_us;
};

static void check_sensor(const joules_ctx *ctx, const struct expect *e)
{
	int i = test_find(ctx, e->id);
	if (i < 0)
		return;
	const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
	printf("# %s\n", e->id);
	CHECK_STR_HAS(s->name, e->name);
	CHECK_EQ_INT(strlen(s->name), strlen(e->name));
	CHECK_EQ_INT(s->kind, e->kind);
	CHECK_STR_HAS(s->source, "hwmon");
	CHECK_STR_HAS(s->device, e->device);
	CHECK_EQ_INT(strlen(s->device), strlen(e->device));
	CHECK_EQ_INT(s->parent, e->parent ? joules_sensor_find(ctx, e->parent) : -1);
	CHECK_EQ_INT(!!(s->flags & JOULES_SENSOR_INTEGRATED), e->integrated);
	CHECK(s->flags & JOULES_SENSOR_READABLE);
	CHECK_EQ_U64(s->refresh_us, e->refresh_us);
	CHECK_EQ_U64(s->range_uj, 0); /* hwmon energy never wraps: a drop is a reset */
	CHECK_EQ_U64(s->wrap_period_ns, 0);
}

/* Older amdgpu: power1_average only, integrated every 100 ms by default. */
static void test_amdgpu_old_average(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu-old");
	joules_ctx *ctx = test_open(fs);
	static const struct expect e = {AMDGPU_OLD, "amdgpu power1", JOULES_KIND_GPU,
					"0000:03:00.0", NULL, true, 100000};
	check_sensor(ctx, &e);
	CHECK_EQ_U64(hwmon_sensors(ctx), 1);
	struct joules_reading r = read_one(ctx, test_find(ctx, AMDGPU_OLD));
	CHECK_EQ_INT(r.status, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Newer amdgpu: power1_input, labelled PPT; update_interval sets the rate. */
static void test_amdgpu_input(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon2/update_interval", "250\n"), 0);
	joules_ctx *ctx = test_open(fs);
	static const struct expect e = {AMDGPU, "amdgpu PPT", JOULES_KIND_GPU, "0000:0a:00.0",
					NULL, true, 250000};
	check_sensor(ctx, &e);
	CHECK_EQ_U64(hwmon_sensors(ctx), 1);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_i915_energy_counter(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-i915");
	joules_ctx *ctx = test_open(fs);
	static const struct expect e = {I915, "i915 energy1", JOULES_KIND_GPU, "0000:04:00.0",
					NULL, false, 0};
	check_sensor(ctx, &e);
	CHECK_EQ_U64(hwmon_sensors(ctx), 1); /* power1_max is a limit, not a reading */
	int i = test_find(ctx, I915);
	struct joules_reading a = read_one(ctx, i);
	CHECK_EQ_INT(a.status, 0);
	CHECK_EQ_U64(a.energy_uj, 4 * J);
	CHECK_EQ_INT(fakesys_advance(fs, HW "hwmon3/energy1_input", 2500001, 0), 0);
	struct joules_reading b = read_one(ctx, i);
	uint64_t uj = 0;
	CHECK_EQ_INT(joules_delta(&a, &b, &uj), 0);
	CHECK_EQ_U64(uj, 2500001);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_xe_card_contains_pkg(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-xe");
	joules_ctx *ctx = test_open(fs);
	static const struct expect e[] = {
		{XE_CARD, "xe card", JOULES_KIND_GPU, "0000:05:00.0", NULL, false, 0},
		{XE_PKG, "xe pkg", JOULES_KIND_GPU, "0000:05:00.0", XE_CARD, false, 0},
	};
	for (size_t k = 0; k < 2; k++)
		check_sensor(ctx, &e[k]);
	CHECK_EQ_U64(hwmon_sensors(ctx), 2);
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, XE_CARD)).energy_uj, 5 * J);
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, XE_PKG)).energy_uj, 3 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

static const struct expect amd_energy[] = {
	{"hwmon:amd_energy:Ecore000", "amd_energy Ecore000", JOULES_KIND_CPU_CORE, "socket 0",
	 "rapl:package-0", false, 1000},
	{"hwmon:amd_energy:Ecore001", "amd_energy Ecore001", JOULES_KIND_CPU_CORE, "socket 0",
	 "rapl:package-0", false, 1000},
	{"hwmon:amd_energy:Ecore002", "amd_energy Ecore002", JOULES_KIND_CPU_CORE, "socket 1",
	 "rapl:package-1", false, 1000},
	{"hwmon:amd_energy:Ecore003", "amd_energy Ecore003", JOULES_KIND_CPU_CORE, "socket 1",
	 "rapl:package-1", false, 1000},
	/* EsocketN is package N's RAPL domain: named after the domain, as powercap's zone is. */
	{"rapl:package-0", "package-0", JOULES_KIND_CPU_PACKAGE, "socket 0", NULL, false, 1000},
	{"rapl:package-1", "package-1", JOULES_KIND_CPU_PACKAGE, "socket 1", NULL, false, 1000},
};

static void test_amd_energy_cores_in_sockets(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amd-energy");
	joules_ctx *ctx = test_open(fs);
	for (size_t k = 0; k < 6; k++)
		check_sensor(ctx, &amd_energy[k]);
	CHECK_EQ_U64(hwmon_sensors(ctx), 6);
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, "hwmon:amd_energy:Ecore002")).energy_uj, 3 * J);
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, "rapl:package-1")).energy_uj, 20 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * amd-zen has powercap's package-0: the same RAPL domain as Esocket0, so
 * one sensor, read through powercap (a counter either way; the cheaper
 * read), with hwmon in `also`. Socket 1 has no powercap zone there and is
 * read through hwmon. Each core sits in its package.
 */
static void test_amd_energy_inside_powercap_package(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen", "hwmon-amd-energy");
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0"), p1 = test_find(ctx, "rapl:package-1");
	size_t packages = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		packages += joules_sensor(ctx, i)->kind == JOULES_KIND_CPU_PACKAGE;
	CHECK_EQ_U64(packages, 2);
	if (p0 >= 0 && p1 >= 0) {
		const struct joules_sensor *a = joules_sensor(ctx, (size_t)p0);
		const struct joules_sensor *b = joules_sensor(ctx, (size_t)p1);
		CHECK(strcmp(a->source, "powercap") == 0);
		CHECK(strcmp(a->also, "hwmon") == 0);
		CHECK_EQ_U64(read_one(ctx, p0).energy_uj, 1 * J); /* powercap's value */
		CHECK(strcmp(b->source, "hwmon") == 0);
		CHECK(strcmp(b->also, "") == 0);
		CHECK_EQ_INT(a->parent, -1);
		CHECK_EQ_INT(b->parent, -1);
	}
	CHECK_EQ_INT(joules_sensor(ctx, (size_t)test_find(ctx, "hwmon:amd_energy:Ecore000"))->parent,
		     p0);
	CHECK_EQ_INT(joules_sensor(ctx, (size_t)test_find(ctx, "rapl:core-0"))->parent, p0);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_counter_reset(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-xe");
	joules_ctx *ctx = test_open(fs);
	int i = test_find(ctx, XE_CARD);
	struct joules_reading a = read_one(ctx, i);
	/* The driver reloaded: its counter starts again from 0. */
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon4/energy1_input", "700\n"), 0);
	struct joules_reading b = read_one(ctx, i);
	uint64_t uj = 0;
	CHECK_EQ_INT(b.status, 0);
	CHECK_EQ_U64(b.resets, 1);
	CHECK_EQ_INT(joules_delta(&a, &b, &uj), JOULES_ERR_RESET);
	CHECK_EQ_INT(fakesys_advance(fs, HW "hwmon4/energy1_input", 300, 0), 0);
	struct joules_reading c = read_one(ctx, i);
	CHECK_EQ_INT(joules_delta(&b, &c, &uj), 0);
	CHECK_EQ_U64(uj, 300);
	/* The package counter did not reset. */
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, XE_PKG)).resets, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* The same card probed as hwmon0 gets the same id: ids follow the device. */
static void test_ids_do_not_follow_hwmon_numbers(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	const char *dev = "devices/pci0000:00/0000:00:01.1/0000:04:00.0";
	char rel[256];
	snprintf(rel, sizeof rel, "%s/hwmon/hwmon0/device", dev);
	CHECK_EQ_INT(fakesys_symlink(fs, rel, "../../../0000:04:00.0"), 0);
	snprintf(rel, sizeof rel, "../../%s/hwmon/hwmon0", dev);
	CHECK_EQ_INT(fakesys_symlink(fs, HW "hwmon0", rel), 0);
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon0/name", "i915\n"), 0);
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon0/energy1_input", "1\n"), 0);
	joules_ctx *ctx = test_open(fs);
	test_find(ctx, I915);
	CHECK_EQ_U64(hwmon_sensors(ctx), 1);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * 120 W, sampled every 20 ms, over ~300 ms. The integral stops at the last
 * sample and the reading's uncertainty is the energy since then, so
 * energy + uncertainty = P * (read time - first sample), exactly, however
 * late the sampler thread runs. The reading's time_ns is taken just after
 * the backend's clock, hence a tolerance of one sampling interval at P.
 */
static void test_integration_of_constant_power(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon2/update_interval", "20\n"), 0);
	joules_ctx *ctx = test_open(fs);
	int i = test_find(ctx, AMDGPU);
	CHECK_EQ_U64(joules_sensor(ctx, (size_t)i)->refresh_us, 20000);
	struct joules_reading a = read_one(ctx, i);
	sleep_ms(300);
	struct joules_reading b = read_one(ctx, i);
	CHECK_EQ_INT(a.status, 0);
	CHECK_EQ_INT(b.status, 0);
	uint64_t uj = 0;
	CHECK_EQ_INT(joules_delta(&a, &b, &uj), 0);
	uint64_t elapsed_ns = b.time_ns - a.time_ns;
	double expect = (double)AMDGPU_UW * (double)elapsed_ns / 1e9;
	double seen = (double)uj + (double)b.uncertainty_uj - (double)a.uncertainty_uj;
	double tol = (double)AMDGPU_UW * 0.020;
	printf("# %.0f ms: %" PRIu64 " µJ, uncertainty %u then %u µJ, expected %.0f ± %.0f\n",
	       (double)elapsed_ns / 1e6, uj, a.uncertainty_uj, b.uncertainty_uj, expect, tol);
	CHECK(seen >= expect - tol && seen <= expect + tol);
	CHECK(uj > 0);
	CHECK((double)uj <= expect + tol); /* never more than was drawn */
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * A region far shorter than the sampling interval (30 ms at 100 ms): its
 * readings are provisional (the integral stops at the last sample) until
 * the sample after each is in; settled, the region holds P x its duration
 * (the power is constant, so linear interpolation between samples is exact).
 */
static void test_short_region_settles(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon2/update_interval", "100\n"), 0);
	joules_ctx *ctx = test_open(fs);
	int i = test_find(ctx, AMDGPU);
	size_t n = joules_sensor_count(ctx);
	struct joules_reading a[64], b[64];
	CHECK(n <= 64);
	joules_read(ctx, a, n);
	sleep_ms(30);
	joules_read(ctx, b, n);
	CHECK(a[i].flags & JOULES_READING_PROVISIONAL);
	CHECK(b[i].flags & JOULES_READING_PROVISIONAL);
	uint64_t dt_ns = b[i].time_ns - a[i].time_ns;
	int pending = 1;
	for (int k = 0; k < 300 && pending > 0; k++) {
		pending = joules_settle(ctx, a, n) + joules_settle(ctx, b, n);
		if (pending)
			sleep_ms(10);
	}
	CHECK_EQ_INT(pending, 0);
	CHECK(!(a[i].flags & JOULES_READING_PROVISIONAL));
	CHECK(!(b[i].flags & JOULES_READING_PROVISIONAL));
	uint64_t uj = 0;
	CHECK_EQ_INT(joules_delta(&a[i], &b[i], &uj), 0);
	double expect = (double)AMDGPU_UW * (double)dt_ns / 1e9;
	printf("# settled %" PRIu64 " µJ in %.1f ms, expected %.0f µJ\n", uj,
	       (double)dt_ns / 1e6, expect);
	CHECK((double)uj >= expect - 2 && (double)uj <= expect + 2);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * An integrated sensor counts from open: its first reading (energy plus
 * the not yet integrated part) is at most its power times the time since
 * just before joules_open.
 */
static void test_integrated_first_read(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu-old");
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t before_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	joules_ctx *ctx = test_open(fs);
	struct joules_reading r = read_one(ctx, test_find(ctx, AMDGPU_OLD));
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_U64(r.resets, 0);
	CHECK(r.time_ns > before_ns);
	/* 35 W: µJ = µW * ns / 1e9, and 1 µJ of rounding. */
	CHECK(r.energy_uj + r.uncertainty_uj <= 35 * (r.time_ns - before_ns) / 1000 + 1);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Wait (up to 30 s) for the sampler to see a change: status != 0. */
static struct joules_reading wait_failure(joules_ctx *ctx, int i)
{
	struct joules_reading r = read_one(ctx, i);
	for (int k = 0; k < 3000 && r.status == 0; k++) {
		sleep_ms(10);
		r = read_one(ctx, i);
	}
	return r;
}

static void test_messy_tree(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-messy");
	joules_ctx *ctx = test_open(fs);
	/* hwmon6 dangles, hwmon7 has no energy or power, hwmonX is no chip. */
	CHECK_EQ_U64(hwmon_sensors(ctx), 6);
	CHECK_STR_HAS(hwmon_note(ctx), "hwmon6");
	static const struct expect e[] = {
		{"hwmon:hwmon8:energy1", "hwmon8 energy1", JOULES_KIND_OTHER, "", NULL, false, 0},
		{"hwmon:psu_meter:psu_meter.3:out", "psu_meter out", JOULES_KIND_OTHER,
		 "psu_meter.3", NULL, true, 100000},
		{"hwmon:legacy:hwmon10:power1", "legacy power1", JOULES_KIND_OTHER, "", NULL, true,
		 50000},
	};
	for (size_t k = 0; k < 3; k++)
		check_sensor(ctx, &e[k]);
	CHECK_EQ_U64(read_one(ctx, test_find(ctx, "hwmon:hwmon8:energy1")).energy_uj, 8 * J);
	/* power4_average holds garbage: the input was chosen. */
	CHECK_EQ_INT(read_one(ctx, test_find(ctx, "hwmon:psu_meter:psu_meter.3:out")).status, 0);
	CHECK_EQ_INT(read_one(ctx, test_find(ctx, "hwmon:legacy:hwmon10:power1")).status, 0);
	/* power1 is covered by energy1 and is no sensor of its own. */
	CHECK_EQ_INT(joules_sensor_find(ctx, "hwmon:psu_meter:psu_meter.3:power1"),
		     JOULES_ERR_NO_SENSOR);

	static const struct {
		const char *id, *file, *says;
	} bad[] = {
		{"hwmon:psu_meter:psu_meter.3:energy1", "hwmon9/energy1_input", "\"nan\""},
		{"hwmon:psu_meter:psu_meter.3:energy2", "hwmon9/energy2_input", "empty"},
		{"hwmon:psu_meter:psu_meter.3:power3", "hwmon9/power3_input", "\"N/A\""},
	};
	for (size_t k = 0; k < 3; k++) {
		int i = test_find(ctx, bad[k].id);
		struct joules_reading r = read_one(ctx, i);
		printf("# %s: %s\n", bad[k].id, joules_sensor_error(ctx, (size_t)i));
		CHECK_EQ_INT(r.status, JOULES_ERR_PARSE);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), bad[k].file);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), bad[k].says);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

/* A tree with no hwmon at all, and one with chips but no sensors: notes say why. */
static void test_notes_when_nothing_found(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	joules_ctx *ctx = test_open(fs);
	CHECK_STR_HAS(hwmon_note(ctx), "class/hwmon");
	CHECK_STR_HAS(hwmon_note(ctx), "no hwmon support");
	joules_close(ctx);
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon0/name", "coretemp\n"), 0);
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon0/temp1_input", "40000\n"), 0);
	ctx = test_open(fs);
	CHECK_EQ_U64(hwmon_sensors(ctx), 0);
	CHECK_STR_HAS(hwmon_note(ctx), "1 chips");
	CHECK_STR_HAS(hwmon_note(ctx), "none with energyN_input");
	joules_close(ctx);
	fakesys_free(fs);
}

/* Two chips vanish mid-run (driver unbound); the third keeps counting. */
static void test_vanishing_chips(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-i915", "hwmon-amdgpu", "hwmon-xe");
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon2/update_interval", "20\n"), 0);
	joules_ctx *ctx = test_open(fs);
	int i915 = test_find(ctx, I915), amd = test_find(ctx, AMDGPU), card = test_find(ctx, XE_CARD);
	struct joules_reading a = read_one(ctx, card);
	CHECK_EQ_INT(read_one(ctx, i915).status, 0);
	CHECK_EQ_INT(read_one(ctx, amd).status, 0);

	CHECK_EQ_INT(fakesys_remove(fs, HW "hwmon3/energy1_input"), 0);
	CHECK_EQ_INT(fakesys_remove(fs, HW "hwmon2/power1_input"), 0);
	CHECK_EQ_INT(fakesys_advance(fs, HW "hwmon4/energy1_input", J, 0), 0);

	struct joules_reading r = read_one(ctx, i915);
	CHECK_EQ_INT(r.status, JOULES_ERR_LOST);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i915), "hwmon3/energy1_input");
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i915), "vanished");
	r = wait_failure(ctx, amd);
	CHECK_EQ_INT(r.status, JOULES_ERR_LOST);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)amd), "hwmon2/power1_input");
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)amd), "vanished");

	struct joules_reading b = read_one(ctx, card);
	uint64_t uj = 0;
	CHECK_EQ_INT(joules_delta(&a, &b, &uj), 0);
	CHECK_EQ_U64(uj, J);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Run a shell command; its stdout with all whitespace removed (caller frees). */
static char *run_squeezed(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	int c;
	while (out && (c = fgetc(p)) != EOF)
		if (!isspace(c) && len + 1 < cap)
			out[len++] = (char)c;
	if (out)
		out[len] = '\0';
	*status = pclose(p);
	return out;
}

/* The JSON object of sensor `id` in squeezed `joules list --json` output. */
static void check_listed(const char *out, const char *id, const char *has)
{
	char key[128];
	snprintf(key, sizeof key, "\"id\":\"%s\"", id);
	const char *o = out ? strstr(out, key) : NULL;
	if (!o)
		printf("#   %s not listed\n", id);
	CHECK(o != NULL);
	if (!o)
		return;
	const char *end = strchr(o, '}');
	size_t n = end ? (size_t)(end - o) : strlen(o);
	char obj[2048];
	snprintf(obj, sizeof obj, "%.*s", (int)n, o);
	CHECK_STR_HAS(obj, has);
}

static void test_cli_lists_units_and_refresh(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu", "hwmon-i915", "hwmon-amd-energy");
	CHECK_EQ_INT(fakesys_write(fs, HW "hwmon2/update_interval", "20\n"), 0);
	const char *cli = getenv("JOULES_CLI");
	const char *wrapper = getenv("JOULES_TEST_WRAPPER");
	CHECK(cli != NULL);
	if (!cli || !fs) {
		fakesys_free(fs);
		return;
	}
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "JOULES_SYSFS_ROOT='%s' %s '%s' list --json", fakesys_root(fs),
		 wrapper ? wrapper : "", cli);
	int status;
	char *out = run_squeezed(cmd, &status);
	CHECK_EQ_INT(status, 0);
	check_listed(out, AMDGPU, "\"unit\":\"integrated-power\"");
	check_listed(out, AMDGPU, "\"refresh_us\":20000");
	check_listed(out, AMDGPU, "\"method\":\"powersampledevery20ms");
	check_listed(out, AMDGPU, "\"kind\":\"gpu\",\"source\":\"hwmon\",\"device\":\"0000:0a:00.0\"");
	check_listed(out, I915, "\"unit\":\"energy-counter\"");
	check_listed(out, I915, "\"energy_j\":4");
	check_listed(out, "hwmon:amd_energy:Ecore003", "\"parent\":\"rapl:package-1\"");
	check_listed(out, "rapl:package-0", "\"kind\":\"cpu-package\"");
	free(out);
	fakesys_free(fs);
}

/*
 * As nobody, a root-only energy file is listed as unreadable, naming the
 * file and the fix, while the other chip reads. Needs root to drop to nobody.
 */
static void test_permission_as_nobody(void)
{
	if (geteuid() != 0) {
		printf("# skipped: needs root to run the reader as nobody\n");
		return;
	}
	struct fakesys *fs = TEST_TREE("hwmon-i915", "hwmon-xe");
	CHECK_EQ_INT(fakesys_chmod(fs, HW "hwmon3/energy1_input", 0400), 0);
	const char *cli = getenv("JOULES_CLI");
	CHECK(cli != NULL);
	if (!cli || !fs) {
		fakesys_free(fs);
		return;
	}
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "JOULES_SYSFS_ROOT='%s' setpriv --reuid=nobody --regid=nogroup --clear-groups "
		 "'%s' list --json",
		 fakesys_root(fs), cli);
	int status;
	char *out = run_squeezed(cmd, &status);
	CHECK_EQ_INT(status, 0);
	check_listed(out, I915, "\"readable\":false");
	check_listed(out, I915, "hwmon3/energy1_input:permissiondenied");
	check_listed(out, I915, "runasroot");
	check_listed(out, I915, "\"error\":\"permissiondenied\"");
	check_listed(out, XE_CARD, "\"readable\":true");
	check_listed(out, XE_CARD, "\"energy_j\":5");
	free(out);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_amdgpu_old_average),
		TEST(test_amdgpu_input),
		TEST(test_i915_energy_counter),
		TEST(test_xe_card_contains_pkg),
		TEST(test_amd_energy_cores_in_sockets),
		TEST(test_amd_energy_inside_powercap_package),
		TEST(test_counter_reset),
		TEST(test_ids_do_not_follow_hwmon_numbers),
		TEST(test_integration_of_constant_power),
		TEST(test_short_region_settles),
		TEST(test_integrated_first_read),
		TEST(test_messy_tree),
		TEST(test_notes_when_nothing_found),
		TEST(test_vanishing_chips),
		TEST(test_cli_lists_units_and_refresh),
		TEST(test_permission_as_nobody),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
