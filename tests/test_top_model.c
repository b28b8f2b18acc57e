/* SPDX-License-Identifier: MIT */
/*
 * The numbers of `joules top` (cli/top_model.c), fed snapshots of known
 * values: power, energy since start, provisional readings settled a tick
 * late, failures that keep energy, resets, totals, sort orders, the ring.
 * The sensors are those of a fake two-socket tree, opened for real.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "testutil.h"
#include "top_model.h"

#define S 1000000000ull

struct fixture {
	struct fakesys *fs;
	joules_ctx *ctx;
	struct top_model m;
	struct joules_reading *snap;
	size_t n;
	int pkg0, pkg1, core0, dram0, dram1;
};

static void setup(struct fixture *f)
{
	*f = (struct fixture){0};
	f->fs = TEST_TREE("intel-2s");
	f->ctx = test_open(f->fs);
	f->n = joules_sensor_count(f->ctx);
	f->snap = calloc(f->n, sizeof *f->snap);
	CHECK(f->snap != NULL);
	CHECK_EQ_INT(top_model_init(&f->m, f->ctx), 0);
	f->pkg0 = test_find(f->ctx, "rapl:package-0");
	f->pkg1 = test_find(f->ctx, "rapl:package-1");
	f->core0 = test_find(f->ctx, "rapl:core-0");
	f->dram0 = test_find(f->ctx, "rapl:dram-0");
	f->dram1 = test_find(f->ctx, "rapl:dram-1");
}

static void teardown(struct fixture *f)
{
	top_model_free(&f->m);
	free(f->snap);
	joules_close(f->ctx);
	fakesys_free(f->fs);
}

/* A snapshot at `sec` seconds where every sensor has used `watts`[i] since 0. */
static void feed(struct fixture *f, double sec, const double *watts)
{
	for (size_t i = 0; i < f->n; i++)
		f->snap[i] = (struct joules_reading){
			.energy_uj = 1000000 + (uint64_t)llround(watts[i] * sec * 1e6),
			.time_ns = (uint64_t)llround(sec * 1e9) + S,
		};
	top_model_add(&f->m, f->snap);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

static void test_power_and_energy_from_two_readings(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.pkg0] = 5;
	feed(&f, 0, w);
	CHECK(f.m.s[f.pkg0].state == TOP_WAITING);
	CHECK(!f.m.s[f.pkg0].have_power);
	feed(&f, 2, w);
	CHECK(f.m.s[f.pkg0].state == TOP_OK);
	CHECK(near(f.m.s[f.pkg0].power_w, 5));
	CHECK(near(f.m.s[f.pkg0].energy_j, 10));
	feed(&f, 3, w);
	CHECK(near(f.m.s[f.pkg0].energy_j, 15));
	char st[64];
	top_model_status(&f.m, (size_t)f.pkg0, st, sizeof st);
	CHECK_STR_HAS(st, "ok");
	teardown(&f);
}

static void test_provisional_waits_for_settle(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.pkg0] = 10;
	feed(&f, 0, w);
	/* A provisional reading at 1 s, extrapolated too low. */
	f.snap[f.pkg0] = (struct joules_reading){
		.energy_uj = 1000000 + 4000000, .time_ns = 2 * S, .flags = JOULES_READING_PROVISIONAL};
	top_model_add(&f.m, f.snap);
	CHECK(!f.m.s[f.pkg0].have_power);
	CHECK(f.m.waiting[f.pkg0]);
	/* Still provisional: nothing taken. */
	top_model_take_settled(&f.m);
	CHECK(!f.m.s[f.pkg0].have_power);
	/* A newer provisional one while the first waits is dropped. */
	f.snap[f.pkg0].time_ns = 3 * S;
	f.snap[f.pkg0].energy_uj = 1000000 + 15000000;
	top_model_add(&f.m, f.snap);
	CHECK_EQ_U64(f.m.pending[f.pkg0].time_ns, 2 * S);
	/* Settled (as joules_settle does): the final value counts, never the guess. */
	f.m.pending[f.pkg0].energy_uj = 1000000 + 10000000;
	f.m.pending[f.pkg0].flags = 0;
	top_model_take_settled(&f.m);
	CHECK(!f.m.waiting[f.pkg0]);
	CHECK(f.m.s[f.pkg0].have_power);
	CHECK(near(f.m.s[f.pkg0].power_w, 10));
	CHECK(near(f.m.s[f.pkg0].energy_j, 10));
	/* The next final reading counts everything since, the dropped one included. */
	feed(&f, 4, w);
	CHECK(near(f.m.s[f.pkg0].energy_j, 40));
	CHECK(near(f.m.s[f.pkg0].power_w, 10));
	teardown(&f);
}

static void test_reset_counts_from_the_last_snapshot(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.pkg0] = 10;
	w[f.dram0] = 2;
	feed(&f, 0, w);
	feed(&f, 1, w);
	/* A snapshot at 2 s, package-0's still provisional, then the reset. */
	for (size_t i = 0; i < f.n; i++) {
		f.snap[i].time_ns += S;
		f.snap[i].energy_uj += (uint64_t)(w[i] * 1e6);
	}
	f.snap[f.pkg0].flags = JOULES_READING_PROVISIONAL;
	top_model_add(&f.m, f.snap);
	top_model_reset(&f.m);
	CHECK(near(f.m.s[f.pkg0].energy_j, 0));
	CHECK(near(f.m.s[f.dram0].energy_j, 0));
	/* Settled: its power counts, its energy (from before the reset) does not. */
	f.m.pending[f.pkg0].flags = 0;
	top_model_take_settled(&f.m);
	CHECK(near(f.m.s[f.pkg0].power_w, 10));
	CHECK(near(f.m.s[f.pkg0].energy_j, 0));
	feed(&f, 3, w);
	CHECK(near(f.m.s[f.pkg0].energy_j, 10));
	CHECK(near(f.m.s[f.dram0].energy_j, 2));
	CHECK(near(f.m.totals[JOULES_TOTAL_CPU].energy_j, 10));
	teardown(&f);
}

static void test_failure_keeps_energy_and_recovers(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.pkg1] = 4;
	feed(&f, 0, w);
	feed(&f, 1, w);
	CHECK(near(f.m.s[f.pkg1].energy_j, 4));
	f.snap[f.pkg1] = (struct joules_reading){.time_ns = 3 * S, .status = JOULES_ERR_LOST};
	top_model_add(&f.m, f.snap);
	char st[64];
	top_model_status(&f.m, (size_t)f.pkg1, st, sizeof st);
	CHECK_STR_HAS(st, "failed: lost");
	CHECK(f.m.s[f.pkg1].state == TOP_FAILED);
	CHECK(!f.m.s[f.pkg1].have_power);
	CHECK(near(f.m.s[f.pkg1].energy_j, 4));
	CHECK_EQ_INT(f.m.totals[JOULES_TOTAL_CPU].incomplete, 1);
	/* Back at 5 s with a counter far ahead: the gap is not counted. */
	feed(&f, 5, w);
	CHECK(f.m.s[f.pkg1].state == TOP_WAITING);
	CHECK(near(f.m.s[f.pkg1].energy_j, 4));
	top_model_status(&f.m, (size_t)f.pkg1, st, sizeof st);
	CHECK_STR_HAS(st, "recovered");
	feed(&f, 6, w);
	CHECK(f.m.s[f.pkg1].state == TOP_OK);
	CHECK(near(f.m.s[f.pkg1].energy_j, 8));
	CHECK(near(f.m.s[f.pkg1].power_w, 4));
	/* A reset of energy since start forgets the gap. */
	top_model_reset(&f.m);
	CHECK(near(f.m.s[f.pkg1].energy_j, 0));
	CHECK(near(f.m.s[f.pkg1].power_w, 4));
	top_model_status(&f.m, (size_t)f.pkg1, st, sizeof st);
	CHECK_STR_HAS(st, "ok");
	CHECK_EQ_INT(f.m.totals[JOULES_TOTAL_CPU].incomplete, 0);
	teardown(&f);
}

static void test_counter_reset_is_a_gap(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.dram0] = 2;
	feed(&f, 0, w);
	feed(&f, 1, w);
	/* The driver reloaded: the library adds the new counter's value (the
	 * energy since the reset) and counts a reset, which joules_delta refuses. */
	f.snap[f.dram0].time_ns += S;
	f.snap[f.dram0].energy_uj += 500000;
	f.snap[f.dram0].resets = 1;
	top_model_add(&f.m, f.snap);
	char st[64];
	top_model_status(&f.m, (size_t)f.dram0, st, sizeof st);
	CHECK_STR_HAS(st, "counter reset");
	CHECK(near(f.m.s[f.dram0].energy_j, 2));
	CHECK(!f.m.s[f.dram0].have_power);
	/* From the new start on, counted again. */
	f.snap[f.dram0].time_ns += S;
	f.snap[f.dram0].energy_uj += 2000000;
	top_model_add(&f.m, f.snap);
	CHECK(near(f.m.s[f.dram0].energy_j, 4));
	CHECK(near(f.m.s[f.dram0].power_w, 2));
	teardown(&f);
}

static void test_totals_never_count_twice(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	w[f.pkg0] = 5;
	w[f.core0] = 3; /* inside package-0 */
	w[f.pkg1] = 2;
	w[f.dram0] = 1;
	w[f.dram1] = 0.5;
	feed(&f, 0, w);
	char st[64];
	top_model_total_status(&f.m.totals[JOULES_TOTAL_CPU], st, sizeof st);
	CHECK_STR_HAS(st, "waiting");
	feed(&f, 2, w);
	CHECK(near(f.m.totals[JOULES_TOTAL_CPU].power_w, 7));
	CHECK(near(f.m.totals[JOULES_TOTAL_CPU].energy_j, 14));
	CHECK_EQ_INT(f.m.totals[JOULES_TOTAL_CPU].sensors, 2);
	CHECK(near(f.m.totals[JOULES_TOTAL_DRAM].power_w, 1.5));
	CHECK_EQ_INT(f.m.totals[JOULES_TOTAL_GPU].sensors, 0);
	top_model_total_status(&f.m.totals[JOULES_TOTAL_CPU], st, sizeof st);
	CHECK_STR_HAS(st, "ok");
	top_model_total_status(&f.m.totals[JOULES_TOTAL_GPU], st, sizeof st);
	CHECK_STR_HAS(st, "not measured");
	teardown(&f);
}

/* Position of sensor i in rows. */
static size_t where(const size_t *rows, size_t n, int i)
{
	for (size_t r = 0; r < n; r++)
		if (rows[r] == (size_t)i)
			return r;
	return n;
}

static void test_sort_orders_within_groups(void)
{
	struct fixture f;
	setup(&f);
	size_t rows[16];
	double w[16] = {0};
	w[f.pkg0] = 1;
	w[f.pkg1] = 9;
	w[f.core0] = 5;
	w[f.dram0] = 20;
	feed(&f, 0, w);
	feed(&f, 1, w);
	top_model_order(&f.m, TOP_SORT_KIND, rows);
	CHECK(where(rows, f.n, f.pkg0) < where(rows, f.n, f.pkg1));
	CHECK(where(rows, f.n, f.pkg1) < where(rows, f.n, f.core0));
	CHECK(where(rows, f.n, f.core0) < where(rows, f.n, f.dram0));
	top_model_order(&f.m, TOP_SORT_POWER, rows);
	CHECK_EQ_INT(rows[0], f.pkg1);
	CHECK_EQ_INT(rows[1], f.core0);
	CHECK_EQ_INT(rows[2], f.pkg0);
	/* Groups stay together: dram after every cpu sensor though it draws most. */
	CHECK(where(rows, f.n, f.dram0) > where(rows, f.n, f.pkg0));
	top_model_order(&f.m, TOP_SORT_ENERGY, rows);
	CHECK_EQ_INT(rows[0], f.pkg1);
	top_model_order(&f.m, TOP_SORT_NAME, rows);
	CHECK_STR_HAS(joules_sensor(f.ctx, rows[0])->name, "core-0");
	CHECK(where(rows, f.n, f.pkg0) < where(rows, f.n, f.pkg1));
	teardown(&f);
}

static void test_recent_power_ring(void)
{
	struct fixture f;
	setup(&f);
	double w[16] = {0};
	float recent[4];
	feed(&f, 0, w);
	for (int k = 1; k <= 2; k++) {
		w[f.pkg0] = k;
		/* Power k over the last second: energy grows by k. */
		for (size_t i = 0; i < f.n; i++)
			f.snap[i].time_ns += S;
		f.snap[f.pkg0].energy_uj += (uint64_t)k * 1000000;
		top_model_add(&f.m, f.snap);
	}
	top_model_recent(&f.m, (size_t)f.pkg0, recent, 4);
	CHECK(isnan(recent[0]) && isnan(recent[1]));
	CHECK(near(recent[2], 1) && near(recent[3], 2));
	/* A failure leaves a hole. */
	f.snap[f.pkg0].status = JOULES_ERR_IO;
	top_model_add(&f.m, f.snap);
	top_model_recent(&f.m, (size_t)f.pkg0, recent, 4);
	CHECK(near(recent[1], 1) && near(recent[2], 2) && isnan(recent[3]));
	/* More than the ring holds: the oldest go. */
	f.snap[f.pkg0].status = 0;
	for (int k = 0; k < TOP_RING + 10; k++) {
		for (size_t i = 0; i < f.n; i++)
			f.snap[i].time_ns += S;
		f.snap[f.pkg0].energy_uj += 3000000;
		top_model_add(&f.m, f.snap);
	}
	CHECK_EQ_INT(f.m.s[f.pkg0].ring_len, TOP_RING);
	top_model_recent(&f.m, (size_t)f.pkg0, recent, 4);
	CHECK(near(recent[0], 3) && near(recent[3], 3));
	teardown(&f);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_power_and_energy_from_two_readings),
		TEST(test_provisional_waits_for_settle),
		TEST(test_reset_counts_from_the_last_snapshot),
		TEST(test_failure_keeps_energy_and_recovers),
		TEST(test_counter_reset_is_a_gap),
		TEST(test_totals_never_count_twice),
		TEST(test_sort_orders_within_groups),
		TEST(test_recent_power_ring),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
