/* SPDX-License-Identifier: MIT */
/*
 * The powercap backend through the public API, on real files: fake sysfs
 * trees built by the rig, whose counters are advanced, wrapped, reset,
 * broken and removed between reads.
 */
#include <stdlib.h>

#include <time.h>

#include "fakesys.h"
#include "harness.h"
#include "testutil.h"
#include "joules.h"

#define J 1000000ull /* µJ */
#define RAPL_MODULUS (FAKESYS_RAPL_RANGE_UJ + 1)
#define PC "class/powercap/"
/*
 * A zone whose counter wraps every 50 J, so a run can wrap many times: at
 * the 2 kW bound that is a wrap every 25 ms, just above the 20 ms a counter
 * needs not to be refused as wrapping faster than it can be polled.
 */
#define SMALL_RANGE_UJ 49999999ull
#define SMALL_MODULUS (SMALL_RANGE_UJ + 1)
/* AMD's range in the amd-zen layout (layouts_powercap.c). */
#define AMD_RANGE_UJ 65532610987ull

struct expect {
	const char *id, *name;
	int kind;
	const char *device;
	const char *parent; /* id, or NULL for none */
	uint64_t energy_uj;
	uint64_t range_uj; /* the counter's modulus: range + 1, or 0 */
};

/*
 * Room for every sensor of a context. Fake trees hold only powercap zones,
 * but other backends (a GPU library) may add sensors of the machine itself:
 * counts are of powercap sensors, found by id.
 */
#define MAXS 64

static size_t n_powercap(const joules_ctx *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		n += strcmp(joules_sensor(ctx, i)->source, "powercap") == 0;
	CHECK(joules_sensor_count(ctx) <= MAXS);
	return n;
}

static void check_sensors(const struct expect *e, size_t n, const char *layout)
{
	printf("# layout %s\n", layout);
	struct fakesys *fs = TEST_TREE(layout);
	joules_ctx *ctx = test_open(fs);
	if (!ctx) {
		fakesys_free(fs);
		return;
	}
	CHECK_EQ_U64(n_powercap(ctx), n);
	struct joules_reading r[MAXS];
	CHECK_EQ_INT(joules_read(ctx, r, MAXS), (int)joules_sensor_count(ctx));
	for (size_t k = 0; k < n; k++) {
		int i = test_find(ctx, e[k].id);
		if (i < 0)
			continue;
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
		CHECK(strcmp(s->name, e[k].name) == 0);
		CHECK_EQ_INT(s->kind, e[k].kind);
		CHECK(strcmp(s->source, "powercap") == 0);
		CHECK(strcmp(s->device, e[k].device) == 0);
		CHECK(s->reason[0] == '\0');
		CHECK(s->flags & JOULES_SENSOR_READABLE);
		CHECK(!(s->flags & JOULES_SENSOR_INTEGRATED));
		CHECK_EQ_U64(s->range_uj, e[k].range_uj);
		if (e[k].parent) {
			CHECK_EQ_INT(s->parent, joules_sensor_find(ctx, e[k].parent));
		} else {
			CHECK_EQ_INT(s->parent, -1);
		}
		CHECK_EQ_INT(r[i].status, 0);
		CHECK_EQ_U64(r[i].energy_uj, e[k].energy_uj);
		CHECK_EQ_U64(r[i].resets, 0);
		CHECK(r[i].time_ns > 0);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_intel_2s_sensors(void)
{
	/* Zone k of a layout starts at (k + 1) J; core/uncore sit in their package. */
	static const struct expect e[] = {
		{"rapl:package-0", "package-0", JOULES_KIND_CPU_PACKAGE, "socket 0", NULL, 1 * J, RAPL_MODULUS},
		{"rapl:core-0", "core-0", JOULES_KIND_CPU_CORE, "socket 0", "rapl:package-0", 2 * J, RAPL_MODULUS},
		{"rapl:uncore-0", "uncore-0", JOULES_KIND_UNCORE, "socket 0", "rapl:package-0", 3 * J, RAPL_MODULUS},
		{"rapl:dram-0", "dram-0", JOULES_KIND_DRAM, "socket 0", NULL, 4 * J, RAPL_MODULUS},
		{"rapl:package-1", "package-1", JOULES_KIND_CPU_PACKAGE, "socket 1", NULL, 5 * J, RAPL_MODULUS},
		{"rapl:core-1", "core-1", JOULES_KIND_CPU_CORE, "socket 1", "rapl:package-1", 6 * J, RAPL_MODULUS},
		{"rapl:uncore-1", "uncore-1", JOULES_KIND_UNCORE, "socket 1", "rapl:package-1", 7 * J, RAPL_MODULUS},
		{"rapl:dram-1", "dram-1", JOULES_KIND_DRAM, "socket 1", NULL, 8 * J, RAPL_MODULUS},
	};
	check_sensors(e, sizeof e / sizeof e[0], "intel-2s");
}

static void test_amd_zen_sensors(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "package-0", JOULES_KIND_CPU_PACKAGE, "socket 0", NULL, 1 * J, AMD_RANGE_UJ + 1},
		{"rapl:core-0", "core-0", JOULES_KIND_CPU_CORE, "socket 0", "rapl:package-0", 2 * J, AMD_RANGE_UJ + 1},
	};
	check_sensors(e, sizeof e / sizeof e[0], "amd-zen");
}

static void test_laptop_sensors_psys_holds_the_package(void)
{
	/* intel-rapl-mmio:0 repeats package-0: four sensors, not five. */
	static const struct expect e[] = {
		{"rapl:package-0", "package-0", JOULES_KIND_CPU_PACKAGE, "socket 0", "rapl:psys", 1 * J, RAPL_MODULUS},
		{"rapl:core-0", "core-0", JOULES_KIND_CPU_CORE, "socket 0", "rapl:package-0", 2 * J, RAPL_MODULUS},
		{"rapl:uncore-0", "uncore-0", JOULES_KIND_UNCORE, "socket 0", "rapl:package-0", 3 * J, RAPL_MODULUS},
		{"rapl:psys", "psys", JOULES_KIND_PLATFORM, "", NULL, 4 * J, RAPL_MODULUS},
	};
	check_sensors(e, sizeof e / sizeof e[0], "laptop");
}

static void test_psys_holds_dram(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:2", "psys", 9 * J, FAKESYS_RAPL_RANGE_UJ), 0);
	joules_ctx *ctx = test_open(fs);
	if (ctx) {
		int psys = test_find(ctx, "rapl:psys");
		CHECK_EQ_INT(joules_sensor(ctx, (size_t)psys)->parent, -1);
		static const char *const inside[] = {"rapl:package-0", "rapl:package-1",
						     "rapl:dram-0", "rapl:dram-1"};
		for (size_t k = 0; k < 4; k++)
			CHECK_EQ_INT(joules_sensor(ctx, (size_t)test_find(ctx, inside[k]))->parent, psys);
		CHECK_EQ_INT(joules_sensor(ctx, (size_t)test_find(ctx, "rapl:core-1"))->parent,
			     test_find(ctx, "rapl:package-1"));
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_mmio_zone_alone_is_listed(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl-mmio:0", "package-0", 3 * J,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(n_powercap(ctx), 1);
	struct joules_reading r;
	CHECK_EQ_INT(joules_read(ctx, &r, 1), 1);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_U64(r.energy_uj, 3 * J);
	CHECK_EQ_INT(test_find(ctx, "rapl:package-0"), 0);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_messy_tree(void)
{
	struct fakesys *fs = TEST_TREE("messy-powercap");
	joules_ctx *ctx = test_open(fs);
	if (!ctx) {
		fakesys_free(fs);
		return;
	}
	/* Not zones: intel-rapl, intel-rapl:x, intel-rapl:0:, dtpm, intel-rapl-mmio. */
	CHECK_EQ_U64(n_powercap(ctx), 8);
	struct joules_reading r[MAXS];
	CHECK_EQ_INT(joules_read(ctx, r, MAXS), (int)joules_sensor_count(ctx));

	int i = test_find(ctx, "rapl:package-0");
	CHECK_EQ_INT(r[i].status, 0);
	CHECK_EQ_U64(r[i].energy_uj, 1 * J);
	i = test_find(ctx, "rapl:core-0"); /* enabled 0 */
	CHECK_EQ_INT(r[i].status, 0);
	CHECK_EQ_U64(r[i].energy_uj, 2 * J);

	i = test_find(ctx, "rapl:package-1"); /* empty energy_uj */
	CHECK_EQ_INT(r[i].status, JOULES_ERR_PARSE);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), "intel-rapl:1/energy_uj");
	i = test_find(ctx, "rapl:package-2"); /* "abc" */
	CHECK_EQ_INT(r[i].status, JOULES_ERR_PARSE);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), "intel-rapl:2/energy_uj");
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), "abc");

	i = test_find(ctx, "rapl:package-3"); /* no max_energy_range_uj */
	CHECK_EQ_INT(r[i].status, 0);
	CHECK_EQ_U64(r[i].energy_uj, 7 * J);
	CHECK_EQ_U64(joules_sensor(ctx, (size_t)i)->range_uj, 0);
	CHECK_EQ_U64(joules_sensor(ctx, (size_t)i)->wrap_period_ns, 0);

	i = test_find(ctx, "rapl:intel-rapl:4"); /* dangling symlink */
	const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
	CHECK(!(s->flags & JOULES_SENSOR_READABLE));
	CHECK_STR_HAS(s->reason, "intel-rapl:4");
	CHECK_STR_HAS(s->reason, "dangling symlink");
	CHECK(r[i].status < 0);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)i), "intel-rapl:4");

	i = test_find(ctx, "rapl:intel-rapl:5"); /* no name: named after its directory */
	CHECK_EQ_INT(joules_sensor(ctx, (size_t)i)->kind, JOULES_KIND_OTHER);
	CHECK_EQ_INT(r[i].status, 0);
	CHECK_EQ_U64(r[i].energy_uj, 5 * J);

	i = test_find(ctx, "rapl:package-6"); /* no energy_uj */
	s = joules_sensor(ctx, (size_t)i);
	CHECK(!(s->flags & JOULES_SENSOR_READABLE));
	CHECK_STR_HAS(s->reason, "intel-rapl:6/energy_uj");
	CHECK_EQ_INT(r[i].status, JOULES_ERR_UNSUPPORTED);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_enabled_zero_still_counts(void)
{
	struct fakesys *fs = TEST_TREE("messy-powercap");
	joules_ctx *ctx = test_open(fs);
	int i = test_find(ctx, "rapl:core-0");
	struct joules_reading r[2][MAXS];
	joules_read(ctx, r[0], MAXS);
	CHECK_EQ_INT(fakesys_advance(fs, PC "intel-rapl:0:0/energy_uj", 3 * J, RAPL_MODULUS), 0);
	joules_read(ctx, r[1], MAXS);
	uint64_t d = 0;
	CHECK_EQ_INT(joules_delta(&r[0][i], &r[1][i], &d), 0);
	CHECK_EQ_U64(d, 3 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

/* A tree with one big (real Intel range) and one small-range package. */
static struct fakesys *wrap_tree(uint64_t big_start, uint64_t small_start)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", big_start,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:1", "package-1", small_start,
					   SMALL_RANGE_UJ), 0);
	return fs;
}

/* The backends' table puts powercap first: its sensors are 0 and 1. */
static joules_ctx *open_wrap(const struct fakesys *fs)
{
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_INT(test_find(ctx, "rapl:package-0"), 0);
	CHECK_EQ_INT(test_find(ctx, "rapl:package-1"), 1);
	return ctx;
}

#define BIG PC "intel-rapl:0/energy_uj"
#define SMALL PC "intel-rapl:1/energy_uj"

static void test_wrap_once_between_two_reads(void)
{
	/* 3 J below the top, then 10 J: one wrap, the steps stay under the
	 * 2 kW bound even for back-to-back reads. */
	uint64_t start = FAKESYS_RAPL_RANGE_UJ - 3 * J;
	struct fakesys *fs = wrap_tree(start, 0);
	joules_ctx *ctx = open_wrap(fs);
	struct joules_reading a[2], b[2];
	joules_read(ctx, a, 2);
	CHECK_EQ_INT(fakesys_advance(fs, BIG, 10 * J, RAPL_MODULUS), 0);
	joules_read(ctx, b, 2);
	uint64_t raw;
	CHECK_EQ_INT(fakesys_read_u64(fs, BIG, &raw), 0);
	CHECK(raw < 10 * J); /* the file really wrapped */
	CHECK_EQ_INT(b[0].status, 0);
	CHECK(b[0].flags & JOULES_READING_WRAPPED);
	CHECK(!(a[0].flags & JOULES_READING_WRAPPED));
	CHECK(!(b[1].flags & JOULES_READING_WRAPPED));
	CHECK_EQ_U64(b[0].energy_uj, start + 10 * J);
	uint64_t d = 0;
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], &d), 0);
	CHECK_EQ_U64(d, 10 * J);
	CHECK_EQ_U64(b[0].resets, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_wrap_landing_on_the_top_and_on_zero(void)
{
	struct fakesys *fs = wrap_tree(FAKESYS_RAPL_RANGE_UJ - 5 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	/* To exactly the top (no wrap), then 1 µJ to exactly 0, then 7 J. */
	static const uint64_t steps[] = {5 * J, 1, 7 * J};
	static const uint64_t lands[] = {FAKESYS_RAPL_RANGE_UJ, 0, 7 * J};
	static const int wraps[] = {0, 1, 0};
	struct joules_reading prev, cur, first;
	joules_read(ctx, &first, 1);
	prev = first;
	uint64_t sum = 0;
	for (size_t k = 0; k < 3; k++) {
		CHECK_EQ_INT(fakesys_advance(fs, BIG, steps[k], RAPL_MODULUS), 0);
		uint64_t raw;
		CHECK_EQ_INT(fakesys_read_u64(fs, BIG, &raw), 0);
		CHECK_EQ_U64(raw, lands[k]);
		joules_read(ctx, &cur, 1);
		CHECK_EQ_INT(cur.status, 0);
		CHECK_EQ_INT(!!(cur.flags & JOULES_READING_WRAPPED), wraps[k]);
		uint64_t d = 0;
		CHECK_EQ_INT(joules_delta(&prev, &cur, &d), 0);
		CHECK_EQ_U64(d, steps[k]);
		sum += d;
		prev = cur;
	}
	CHECK_EQ_U64(sum, 12 * J + 1);
	CHECK_EQ_U64(cur.energy_uj - first.energy_uj, 12 * J + 1);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Advance the small zone `steps` times by `step`; count wraps and sum deltas. */
static void run_small(uint64_t start, uint64_t step, int steps, int want_wraps)
{
	struct fakesys *fs = wrap_tree(FAKESYS_RAPL_RANGE_UJ - 1 * J, start);
	joules_ctx *ctx = open_wrap(fs);
	CHECK_EQ_U64(joules_sensor(ctx, 1)->range_uj, SMALL_MODULUS);
	struct joules_reading first[2], prev[2], cur[2];
	joules_read(ctx, first, 2);
	memcpy(prev, first, sizeof prev);
	uint64_t sum = 0, big_sum = 0;
	int wraps = 0;
	for (int k = 0; k < steps; k++) {
		CHECK_EQ_INT(fakesys_advance(fs, SMALL, step, SMALL_MODULUS), 0);
		/* The big counter moves too, and crosses its top once. */
		CHECK_EQ_INT(fakesys_advance(fs, BIG, 250000, RAPL_MODULUS), 0);
		joules_read(ctx, cur, 2);
		CHECK_EQ_INT(cur[1].status, 0);
		wraps += !!(cur[1].flags & JOULES_READING_WRAPPED);
		uint64_t d = 0;
		CHECK_EQ_INT(joules_delta(&prev[1], &cur[1], &d), 0);
		sum += d;
		CHECK_EQ_INT(joules_delta(&prev[0], &cur[0], &d), 0);
		big_sum += d;
		memcpy(prev, cur, sizeof prev);
	}
	CHECK_EQ_INT(wraps, want_wraps);
	CHECK_EQ_U64(sum, step * (uint64_t)steps);
	CHECK_EQ_U64(cur[1].energy_uj - first[1].energy_uj, step * (uint64_t)steps);
	CHECK_EQ_U64(big_sum, 250000ull * (uint64_t)steps);
	CHECK_EQ_U64(cur[1].resets, 0);
	CHECK_EQ_U64(cur[0].resets, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/*
 * Steps of 18 J: under the 20 J the 2 kW bound allows in the 10 ms slack,
 * so back-to-back reads see a wrap, not a jump.
 */
static void test_two_wraps_over_a_run(void)
{
	/* 5 J + 6 × 18 J = 113 J: crosses 50 J and 100 J. */
	run_small(5 * J, 18 * J, 6, 2);
}

static void test_ten_wraps_over_a_run(void)
{
	/* 28 × 18 J = 504 J from 0: ten wraps. */
	run_small(0, 18 * J, 28, 10);
}

static void test_reset_is_not_a_huge_energy(void)
{
	struct fakesys *fs = wrap_tree(200 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	struct joules_reading a, b, c;
	joules_read(ctx, &a, 1);
	/* 199 J down: a wrap would mean ~262 kJ in no time, so a reset. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 1 * J), 0);
	joules_read(ctx, &b, 1);
	CHECK_EQ_INT(b.status, 0);
	CHECK_EQ_U64(b.resets, 1);
	CHECK(!(b.flags & JOULES_READING_WRAPPED));
	/* The energy since the reset is added on: never huge, never lower. */
	CHECK_EQ_U64(b.energy_uj, 201 * J);
	uint64_t d = 12345;
	CHECK_EQ_INT(joules_delta(&a, &b, &d), JOULES_ERR_RESET);
	CHECK_EQ_U64(d, 12345); /* untouched on failure */
	/* After the reset, differences are exact again. */
	CHECK_EQ_INT(fakesys_advance(fs, BIG, 2 * J, RAPL_MODULUS), 0);
	joules_read(ctx, &c, 1);
	CHECK_EQ_INT(joules_delta(&b, &c, &d), 0);
	CHECK_EQ_U64(d, 2 * J);
	CHECK_EQ_INT(joules_delta(&a, &c, &d), JOULES_ERR_RESET);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_missing_range_a_drop_is_a_reset(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 7 * J, 0), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_INT(test_find(ctx, "rapl:package-0"), 0);
	CHECK_EQ_U64(joules_sensor(ctx, 0)->range_uj, 0);
	struct joules_reading a, b;
	joules_read(ctx, &a, 1);
	/* Even a small drop: without a range no wrap can explain it. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 6 * J), 0);
	joules_read(ctx, &b, 1);
	CHECK_EQ_INT(b.status, 0);
	CHECK_EQ_U64(b.resets, 1);
	CHECK_EQ_U64(b.energy_uj, 13 * J);
	uint64_t d;
	CHECK_EQ_INT(joules_delta(&a, &b, &d), JOULES_ERR_RESET);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_unreadable_range_is_said_and_a_drop_is_a_wrap_or_a_reset(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	/* A directory in place of the file: opened, not read (as ENODATA). */
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 134258672512ull, 0), 0);
	CHECK_EQ_INT(fakesys_mkdir(fs, PC "intel-rapl:0/max_energy_range_uj"), 0);
	/* Old kernels print 0. */
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:1", "package-1", 5 * J, 0), 0);
	CHECK_EQ_INT(fakesys_write(fs, PC "intel-rapl:1/max_energy_range_uj", "0\n"), 0);
	joules_ctx *ctx = test_open(fs);
	const struct joules_sensor *s = joules_sensor(ctx, 0);
	CHECK(s->flags & JOULES_SENSOR_READABLE);
	CHECK_EQ_U64(s->range_uj, 0);
	CHECK_STR_HAS(s->reason, "intel-rapl:0/max_energy_range_uj cannot be read");
	CHECK_STR_HAS(s->reason, "range is unknown");
	CHECK_STR_HAS(joules_sensor(ctx, 1)->reason, "max_energy_range_uj reads 0");
	struct joules_reading a, b;
	CHECK_EQ_INT(joules_read(ctx, &a, 1), 1);
	CHECK_EQ_INT(a.status, 0);
	/* The wrap of s-tui#29, seen as a drop. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 582493184ull), 0);
	CHECK_EQ_INT(joules_read(ctx, &b, 1), 1);
	CHECK_EQ_INT(b.status, 0);
	CHECK_EQ_U64(b.resets, 1);
	uint64_t d;
	CHECK_EQ_INT(joules_delta(&a, &b, &d), JOULES_ERR_RESET);
	CHECK_STR_HAS(joules_sensor_error(ctx, 0), "a wrap or a reset: range unknown");
	CHECK_STR_HAS(joules_sensor_error(ctx, 0), "max_energy_range_uj");
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_range_too_small_to_poll_is_refused(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	/* 5 J at 2 kW: a wrap every 2.5 ms. 50 J (25 ms) can still be followed. */
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 1 * J, 5 * J), 0);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:1", "package-1", 1 * J, 50 * J), 0);
	joules_ctx *ctx = test_open(fs);
	const struct joules_sensor *s = joules_sensor(ctx, 0);
	CHECK(!(s->flags & JOULES_SENSOR_READABLE));
	CHECK_STR_HAS(s->reason, "faster than any poll can follow");
	CHECK(joules_sensor(ctx, 1)->flags & JOULES_SENSOR_READABLE);
	CHECK(joules_sensor(ctx, 1)->wrap_period_ns >= 20000000ull);
	struct joules_reading r[2];
	CHECK_EQ_INT(joules_read(ctx, r, 2), 2);
	CHECK_EQ_INT(r[0].status, JOULES_ERR_UNSUPPORTED);
	CHECK_EQ_INT(r[1].status, 0);
	/* The sampler follows the 25 ms one (half: 12.5 ms), not the refused one. */
	CHECK_EQ_INT(joules_sampler_start(ctx, 100000, 0), 0);
	CHECK_EQ_U64(joules_sampler_interval(ctx), 12500);
	joules_sampler_stop(ctx);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_forward_jump_is_a_reset(void)
{
	struct fakesys *fs = wrap_tree(1 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	struct joules_reading a, b, c;
	joules_read(ctx, &a, 1);
	/* break/11: 262 kJ in well under a second, hundreds of kW. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 262000000000ull), 0);
	joules_read(ctx, &b, 1);
	CHECK_EQ_INT(b.status, 0);
	CHECK_EQ_U64(b.resets, 1);
	CHECK_EQ_U64(b.energy_uj, 1 * J); /* nothing of the jump counted */
	uint64_t d = 0;
	CHECK_EQ_INT(joules_delta(&a, &b, &d), JOULES_ERR_RESET);
	CHECK_STR_HAS(joules_sensor_error(ctx, 0), "jumped from 1000000 to 262000000000");
	CHECK_STR_HAS(joules_sensor_error(ctx, 0), "2000 W bound");
	/* Only the interval holding it is unknown. */
	CHECK_EQ_INT(fakesys_advance(fs, BIG, 3 * J, RAPL_MODULUS), 0);
	joules_read(ctx, &c, 1);
	CHECK_EQ_INT(joules_delta(&b, &c, &d), 0);
	CHECK_EQ_U64(d, 3 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_jitter_drop_is_not_a_reset(void)
{
	struct fakesys *fs = wrap_tree(10 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	CHECK_EQ_U64(joules_sensor(ctx, 0)->resolution_uj, 61);
	struct joules_reading a, b, c;
	joules_read(ctx, &a, 1);
	/* One 61 µJ step back: rounding, not a reset. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 10 * J - 61), 0);
	joules_read(ctx, &b, 1);
	CHECK_EQ_U64(b.resets, 0);
	uint64_t d = 1;
	CHECK_EQ_INT(joules_delta(&a, &b, &d), 0);
	CHECK_EQ_U64(d, 0);
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 10 * J + 500), 0);
	joules_read(ctx, &c, 1);
	CHECK_EQ_INT(joules_delta(&a, &c, &d), 0);
	CHECK_EQ_U64(d, 500);
	joules_close(ctx);
	fakesys_free(fs);
}

/* Region i over `ms` ms, the counter advanced by `uj` inside it: sensor 0's result. */
static struct joules_region_sensor region_of(joules_ctx *ctx, struct fakesys *fs, long ms,
					     uint64_t uj)
{
	struct joules_region_sensor per[MAXS];
	struct joules_region_result res;
	int id = -1;
	CHECK_EQ_INT(joules_region_begin(ctx, "still", &id), 0);
	struct timespec pause = {.tv_nsec = ms * 1000000L};
	while (nanosleep(&pause, &pause) != 0)
		;
	if (uj)
		CHECK_EQ_INT(fakesys_advance(fs, BIG, uj, RAPL_MODULUS), 0);
	CHECK_EQ_INT(joules_region_end(ctx, id, 1000, &res, per, MAXS), 0);
	return per[0];
}

static void test_still_counter_is_not_counting(void)
{
	struct fakesys *fs = wrap_tree(10 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	/* 150 ms without a change: over 100 refresh intervals of 1 ms. */
	struct joules_region_sensor r = region_of(ctx, fs, 150, 0);
	CHECK(!(r.flags & JOULES_REGION_HAS_ENERGY));
	CHECK_EQ_INT(r.error, JOULES_ERR_NOT_COUNTING);
	CHECK_STR_HAS(r.reason, "not counting");
	/* The same counter moving: its energy, exactly. */
	r = region_of(ctx, fs, 150, 2 * J);
	CHECK(r.flags & JOULES_REGION_HAS_ENERGY);
	CHECK_EQ_INT(r.state, JOULES_REGION_OK);
	CHECK_EQ_U64(r.energy_uj, 2 * J);
	/* Raw readings stay what the file holds: the judgement is the region's. */
	struct joules_reading a;
	joules_read(ctx, &a, 1);
	CHECK_EQ_INT(a.status, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_vanished_file_is_lost_others_read_on(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	size_t n = joules_sensor_count(ctx);
	CHECK(n <= MAXS);
	int gone = test_find(ctx, "rapl:package-0"), dram = test_find(ctx, "rapl:dram-1");
	struct joules_reading a[MAXS], b[MAXS];
	CHECK_EQ_INT(joules_read(ctx, a, n), (int)n);
	CHECK_EQ_INT(fakesys_remove(fs, PC "intel-rapl:0/energy_uj"), 0);
	CHECK_EQ_INT(fakesys_advance(fs, PC "intel-rapl:1:2/energy_uj", 4 * J, RAPL_MODULUS), 0);
	CHECK_EQ_INT(joules_read(ctx, b, n), (int)n);
	CHECK_EQ_INT(b[gone].status, JOULES_ERR_LOST);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gone), "intel-rapl:0/energy_uj");
	uint64_t d;
	CHECK_EQ_INT(joules_delta(&a[gone], &b[gone], &d), JOULES_ERR_LOST);
	for (size_t i = 0; i < n; i++) {
		if ((int)i == gone || strcmp(joules_sensor(ctx, i)->source, "powercap") != 0)
			continue;
		CHECK_EQ_INT(b[i].status, 0);
		CHECK_EQ_INT(joules_delta(&a[i], &b[i], &d), 0);
		CHECK_EQ_U64(d, (int)i == dram ? 4 * J : 0);
		CHECK(joules_sensor_error(ctx, i)[0] == '\0');
	}
	CHECK_EQ_U64(b[dram].energy_uj, 12 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_garbage_content_is_a_parse_error(void)
{
	static const char *const bad[] = {"", "\n", "12abc\n", "-5\n", " 7\n",
					  "99999999999999999999999\n", "\x1b[2J\n"};
	struct fakesys *fs = wrap_tree(50 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	struct joules_reading a, b, c;
	joules_read(ctx, &a, 1);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		printf("# bad content #%zu\n", k);
		CHECK_EQ_INT(fakesys_write(fs, BIG, bad[k]), 0);
		joules_read(ctx, &b, 1);
		CHECK_EQ_INT(b.status, JOULES_ERR_PARSE);
		CHECK_STR_HAS(joules_sensor_error(ctx, 0), "intel-rapl:0/energy_uj");
		/* What the file held is shown, but never a terminal escape. */
		CHECK(strchr(joules_sensor_error(ctx, 0), '\x1b') == NULL);
		CHECK_EQ_U64(b.energy_uj, 50 * J); /* unchanged, not garbage */
	}
	/* A good value again: the sensor recovers and nothing was lost. */
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, 53 * J), 0);
	joules_read(ctx, &c, 1);
	CHECK_EQ_INT(c.status, 0);
	uint64_t d;
	CHECK_EQ_INT(joules_delta(&a, &c, &d), 0);
	CHECK_EQ_U64(d, 3 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_value_above_range_is_an_error(void)
{
	struct fakesys *fs = wrap_tree(50 * J, 0);
	joules_ctx *ctx = open_wrap(fs);
	struct joules_reading a, b;
	joules_read(ctx, &a, 1);
	CHECK_EQ_INT(fakesys_write_u64(fs, BIG, FAKESYS_RAPL_RANGE_UJ + 1), 0);
	joules_read(ctx, &b, 1);
	CHECK(b.status < 0);
	CHECK(joules_sensor_error(ctx, 0)[0] != '\0');
	CHECK_EQ_U64(b.energy_uj, 50 * J);
	CHECK_EQ_U64(b.resets, 0);
	uint64_t d;
	CHECK(joules_delta(&a, &b, &d) < 0);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_env_root_used_when_none_given(void)
{
	struct fakesys *two = TEST_TREE("intel-2s"), *lap = TEST_TREE("laptop");
	const char *saved = getenv("JOULES_SYSFS_ROOT");
	char *keep = saved ? strdup(saved) : NULL;
	setenv("JOULES_SYSFS_ROOT", fakesys_root(two), 1);
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, NULL), 0);
	CHECK_EQ_U64(n_powercap(ctx), 8);
	joules_close(ctx);
	CHECK_EQ_INT(joules_open(&ctx, ""), 0);
	CHECK_EQ_U64(n_powercap(ctx), 8);
	joules_close(ctx);
	/* An explicit root wins over the environment. */
	CHECK_EQ_INT(joules_open(&ctx, fakesys_root(lap)), 0);
	CHECK_EQ_U64(n_powercap(ctx), 4);
	joules_close(ctx);
	if (keep)
		setenv("JOULES_SYSFS_ROOT", keep, 1);
	else
		unsetenv("JOULES_SYSFS_ROOT");
	free(keep);
	fakesys_free(two);
	fakesys_free(lap);
}

static void test_root_with_trailing_slash(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen");
	char root[4096];
	snprintf(root, sizeof root, "%s//", fakesys_root(fs));
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, root), 0);
	CHECK_EQ_U64(n_powercap(ctx), 2);
	struct joules_reading r[2];
	joules_read(ctx, r, 2);
	CHECK_EQ_INT(r[0].status, 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* The note of the powercap source, or NULL. */
static const char *powercap_note(const joules_ctx *ctx)
{
	for (size_t i = 0; i < joules_source_count(ctx); i++)
		if (strcmp(joules_source_name(ctx, i), "powercap") == 0)
			return joules_source_note(ctx, i);
	return NULL;
}

static void test_no_powercap_is_not_an_error(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(n_powercap(ctx), 0);
	CHECK_EQ_INT(joules_read(ctx, NULL, 0), 0);
	CHECK(joules_sensor(ctx, joules_sensor_count(ctx)) == NULL);
	CHECK_STR_HAS(powercap_note(ctx), "no intel-rapl zones");
	CHECK_STR_HAS(powercap_note(ctx), "modprobe intel_rapl_msr");
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_control_type_alone_gets_a_note(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_write(fs, PC "intel-rapl/enabled", "1\n"), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(n_powercap(ctx), 0);
	CHECK_STR_HAS(powercap_note(ctx), "no intel-rapl zones");
	joules_close(ctx);
	fakesys_free(fs);

	fs = TEST_TREE("intel-2s");
	ctx = test_open(fs);
	CHECK(powercap_note(ctx) && powercap_note(ctx)[0] == '\0');
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_same_name_zones_both_listed(void)
{
	/*
	 * A firmware that names two packages alike: both are real energy, the
	 * second a domain of its own on the socket its name claims (not the
	 * socket its directory number would say), and the note names it.
	 */
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 1 * J,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:1", "package-0", 2 * J,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(n_powercap(ctx), 2);
	struct joules_reading r[2];
	joules_read(ctx, r, 2);
	int a = test_find(ctx, "rapl:package-0"), b = test_find(ctx, "rapl:package-0#2");
	CHECK_EQ_U64(r[a].energy_uj, 1 * J);
	CHECK_EQ_U64(r[b].energy_uj, 2 * J);
	CHECK(strcmp(joules_sensor(ctx, (size_t)b)->device, "socket 0") == 0);
	CHECK_STR_HAS(joules_source_note(ctx, 0), "intel-rapl:1: named like an earlier zone");
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_bad_calls(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_INT(test_find(ctx, "rapl:package-0"), 0);
	CHECK_EQ_INT(joules_open(NULL, fakesys_root(fs)), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_read(NULL, NULL, 0), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_read(ctx, NULL, 1), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_sensor_find(ctx, "rapl:nope"), JOULES_ERR_NO_SENSOR);
	CHECK_EQ_INT(joules_sensor_find(ctx, NULL), JOULES_ERR_INVALID);
	CHECK(joules_sensor(ctx, joules_sensor_count(ctx)) == NULL);
	CHECK(strcmp(joules_sensor_error(ctx, 99), "") == 0);
	struct joules_reading a[2], b[2];
	joules_read(ctx, a, 2);
	CHECK_EQ_INT(fakesys_advance(fs, PC "intel-rapl:0/energy_uj", 1 * J, 0), 0);
	joules_read(ctx, b, 2);
	uint64_t d;
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], &d), 0);
	CHECK_EQ_U64(d, 1 * J);
	/* Swapped: later is older. */
	CHECK_EQ_INT(joules_delta(&b[0], &a[0], &d), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_delta(&a[0], &b[0], NULL), JOULES_ERR_INVALID);
	joules_close(ctx);
	joules_close(NULL);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_intel_2s_sensors),
		TEST(test_amd_zen_sensors),
		TEST(test_laptop_sensors_psys_holds_the_package),
		TEST(test_psys_holds_dram),
		TEST(test_mmio_zone_alone_is_listed),
		TEST(test_messy_tree),
		TEST(test_enabled_zero_still_counts),
		TEST(test_wrap_once_between_two_reads),
		TEST(test_wrap_landing_on_the_top_and_on_zero),
		TEST(test_two_wraps_over_a_run),
		TEST(test_ten_wraps_over_a_run),
		TEST(test_reset_is_not_a_huge_energy),
		TEST(test_missing_range_a_drop_is_a_reset),
		TEST(test_unreadable_range_is_said_and_a_drop_is_a_wrap_or_a_reset),
		TEST(test_range_too_small_to_poll_is_refused),
		TEST(test_forward_jump_is_a_reset),
		TEST(test_jitter_drop_is_not_a_reset),
		TEST(test_still_counter_is_not_counting),
		TEST(test_vanished_file_is_lost_others_read_on),
		TEST(test_garbage_content_is_a_parse_error),
		TEST(test_value_above_range_is_an_error),
		TEST(test_env_root_used_when_none_given),
		TEST(test_root_with_trailing_slash),
		TEST(test_no_powercap_is_not_an_error),
		TEST(test_control_type_alone_gets_a_note),
		TEST(test_same_name_zones_both_listed),
		TEST(test_bad_calls),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
