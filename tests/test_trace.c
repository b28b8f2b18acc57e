/* SPDX-License-Identifier: MIT */
/*
 * The windows of a power trace (lib/trace.c), fed final readings by hand:
 * each point's power is its energy over its window; a failed reading gives
 * a point with its status and no energy, and the next good one spans it
 * from the last good reading; a reset gives a point without energy; a
 * settled reading lower than one before it never makes the sum go down,
 * the difference carried into the next windows and flagged.
 */
#include <math.h>
#include <stdlib.h>

#include "fakesys.h"
#include "harness.h"
#include "region.h"
#include "testutil.h"

#define MS 1000000ull
#define LEN 16

struct feed {
	struct jl_stream st;
	struct joules_trace_point ring[LEN];
	uint64_t sample;
};

static void init(struct feed *f)
{
	*f = (struct feed){0};
	f->st.trace = f->ring;
}

static void give_after(struct feed *f, uint64_t ms, uint64_t uj, int status, uint32_t resets,
		       bool opens)
{
	struct joules_reading r = {.energy_uj = uj, .time_ns = ms * MS, .status = status,
				   .resets = resets};
	jl_trace_add(&f->st, LEN, &r, ++f->sample, opens);
}

static void give(struct feed *f, uint64_t ms, uint64_t uj, int status, uint32_t resets)
{
	give_after(f, ms, uj, status, resets, false);
}

static const struct joules_trace_point *point(const struct feed *f, unsigned k)
{
	return k < f->st.trace_count ? &f->ring[k] : NULL;
}

/* Sum of the points' energy: it only rises, and each power is energy / window. */
static uint64_t sum_checked(const struct feed *f)
{
	uint64_t sum = 0;
	for (unsigned k = 0; k < f->st.trace_count; k++) {
		const struct joules_trace_point *p = &f->ring[k];
		sum += p->energy_uj;
		if (p->status == 0)
			CHECK(p->window_ns && fabs(p->power_w * (double)p->window_ns / 1e3 -
						   (double)p->energy_uj) <= 1e-9 * (double)p->energy_uj);
		else
			CHECK(p->energy_uj == 0 && p->power_w == 0);
	}
	return sum;
}

static void test_windows(void)
{
	struct feed f;
	init(&f);
	give(&f, 0, 1000, 0, 0); /* opens the trace: no point */
	give(&f, 100, 3000, 0, 0);
	give(&f, 200, 6000, 0, 0);
	CHECK_EQ_INT(f.st.trace_count, 2);
	CHECK_EQ_U64(point(&f, 0)->energy_uj, 2000);
	CHECK_EQ_U64(point(&f, 0)->window_ns, 100 * MS);
	CHECK(point(&f, 0)->power_w == 0.02);
	CHECK_EQ_U64(point(&f, 1)->sample, 3);
	CHECK_EQ_U64(sum_checked(&f), 5000);
}

/* The first reading after a sleep makes no window: the next one starts from it. */
static void test_a_reading_after_a_sleep_opens_a_stretch(void)
{
	struct feed f;
	init(&f);
	give(&f, 0, 1000, 0, 0);
	give(&f, 100, 3000, 0, 0);
	give_after(&f, 3000, 50000, 0, 0, true); /* asleep from 100 to 3000 ms */
	give(&f, 3100, 52000, 0, 0);
	CHECK_EQ_INT(f.st.trace_count, 2);
	CHECK_EQ_U64(point(&f, 1)->window_ns, 100 * MS);
	CHECK_EQ_U64(point(&f, 1)->energy_uj, 2000);
	CHECK_EQ_U64(sum_checked(&f), 4000);
	/* A reset seen after the sleep is still a reset point. */
	give_after(&f, 6000, 10, 0, 1, true);
	CHECK_EQ_INT(f.st.trace_count, 3);
	CHECK_EQ_INT(point(&f, 2)->status, JOULES_ERR_RESET);
}

static void test_failed_reads_are_spanned(void)
{
	struct feed f;
	init(&f);
	give(&f, 0, 0, JOULES_ERR_IO, 0); /* failing from the start: a point, no window */
	give(&f, 100, 1000, 0, 0);
	give(&f, 200, 2000, 0, 0);
	give(&f, 300, 2000, JOULES_ERR_IO, 0);
	give(&f, 400, 2000, JOULES_ERR_IO, 0);
	give(&f, 500, 6000, 0, 0);
	CHECK_EQ_INT(f.st.trace_count, 5);
	CHECK_EQ_INT(point(&f, 0)->status, JOULES_ERR_IO);
	CHECK_EQ_U64(point(&f, 0)->window_ns, 0);
	CHECK_EQ_U64(point(&f, 1)->energy_uj, 1000);
	CHECK_EQ_INT(point(&f, 2)->status, JOULES_ERR_IO);
	CHECK_EQ_U64(point(&f, 2)->window_ns, 100 * MS); /* since the point before */
	CHECK_EQ_INT(point(&f, 3)->status, JOULES_ERR_IO);
	/* From the last good reading (200 ms), across both: the energy kept. */
	CHECK_EQ_INT(point(&f, 4)->status, 0);
	CHECK_EQ_U64(point(&f, 4)->window_ns, 300 * MS);
	CHECK_EQ_U64(point(&f, 4)->energy_uj, 4000);
	CHECK_EQ_U64(sum_checked(&f), 5000);
}

static void test_reset(void)
{
	struct feed f;
	init(&f);
	give(&f, 0, 1000, 0, 0);
	give(&f, 100, 2000, 0, 0);
	give(&f, 200, 2500, 0, 1); /* reset in (100, 200]: energy unknown */
	give(&f, 300, 4500, 0, 1);
	CHECK_EQ_INT(f.st.trace_count, 3);
	CHECK_EQ_INT(point(&f, 1)->status, JOULES_ERR_RESET);
	CHECK(point(&f, 1)->flags & JOULES_TRACE_RESET);
	CHECK_EQ_U64(point(&f, 1)->window_ns, 100 * MS);
	CHECK_EQ_U64(point(&f, 2)->energy_uj, 2000);
	CHECK_EQ_U64(point(&f, 2)->flags, 0);
	CHECK_EQ_U64(sum_checked(&f), 3000);
}

static void test_lower_settled_reading_is_carried(void)
{
	struct feed f;
	init(&f);
	give(&f, 0, 10000, 0, 0);
	give(&f, 100, 20000, 0, 0);
	give(&f, 200, 19000, 0, 0); /* refined lower: 1000 µJ already given */
	give(&f, 300, 19600, 0, 0); /* 600 of it absorbed, 400 left */
	give(&f, 400, 21000, 0, 0); /* the rest absorbed: 1000 given */
	give(&f, 500, 22000, 0, 0); /* clean again */
	CHECK_EQ_INT(f.st.trace_count, 5);
	uint64_t want[] = {10000, 0, 0, 1000, 1000};
	uint32_t carried[] = {0, 1, 1, 1, 0};
	for (unsigned k = 0; k < 5; k++) {
		CHECK_EQ_U64(point(&f, k)->energy_uj, want[k]);
		CHECK_EQ_INT(!!(point(&f, k)->flags & JOULES_TRACE_CARRIED), carried[k]);
		CHECK_EQ_INT(point(&f, k)->status, 0);
	}
	/* The sum ends where the readings do: nothing lost, nothing taken back. */
	CHECK_EQ_U64(sum_checked(&f), 22000 - 10000);
}

#define PKG0 "class/powercap/intel-rapl:0/energy_uj"

/*
 * Through the public API on a fake tree: package-0's file holds garbage
 * for two samples, then a number again, then a lower one (a reset). The points say so, each with the library's message as
 * the sample took it (joules_trace_reason); the next good point spans the
 * failed ones.
 */
static void test_points_and_reasons_through_the_api(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, 5000000), 0);
	joules_ctx *ctx = test_open(fs);
	int p0 = test_find(ctx, "rapl:package-0");
	char why[JOULES_REASON_LEN];
	CHECK(joules_max_interval_ns(ctx) > 0); /* RAPL wraps: half its period */
	CHECK_EQ_INT(joules_sampler_start(ctx, 0, LEN), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_advance(fs, PKG0, 1000, 0), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_write(fs, PKG0, "garbage\n"), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, 5002000), 0);
	CHECK_EQ_INT(joules_sample(ctx), 0);
	CHECK_EQ_INT(fakesys_write_u64(fs, PKG0, 100), 0); /* down: a reset */
	CHECK_EQ_INT(joules_sample(ctx), 0);
	struct joules_trace_point tp[LEN];
	int n = joules_trace(ctx, (size_t)p0, 0, tp, LEN);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		CHECK_EQ_INT(tp[0].status, 0);
		CHECK_EQ_U64(tp[0].energy_uj, 1000);
		CHECK(tp[1].status < 0 && tp[2].status < 0);
		CHECK_EQ_INT(joules_trace_reason(ctx, (size_t)p0, tp[1].sample, why, sizeof why), 0);
		CHECK_STR_HAS(why, "energy_uj");
		CHECK_EQ_INT(tp[3].status, 0);
		CHECK_EQ_U64(tp[3].energy_uj, 1000); /* across the failed reads */
		CHECK_EQ_U64(tp[3].window_ns, tp[3].time_ns - tp[0].time_ns);
		CHECK_EQ_INT(tp[4].status, JOULES_ERR_RESET);
		CHECK(tp[4].flags & JOULES_TRACE_RESET);
		CHECK_EQ_INT(joules_trace_reason(ctx, (size_t)p0, tp[4].sample, why, sizeof why), 0);
		CHECK_STR_HAS(why, "went down");
		/* A good point has no message. */
		CHECK_EQ_INT(joules_trace_reason(ctx, (size_t)p0, tp[0].sample, why, sizeof why), 0);
		CHECK_EQ_INT(why[0], 0);
	}
	CHECK_EQ_INT(joules_trace_reason(ctx, 9999, 1, why, sizeof why), JOULES_ERR_NO_SENSOR);
	CHECK_EQ_INT(joules_trace_reason(ctx, (size_t)p0, 1, NULL, 0), JOULES_ERR_INVALID);
	joules_close(ctx);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {TEST(test_windows),
					    TEST(test_a_reading_after_a_sleep_opens_a_stretch),
					    TEST(test_failed_reads_are_spanned),
					    TEST(test_reset),
					    TEST(test_lower_settled_reading_is_carried),
					    TEST(test_points_and_reasons_through_the_api)};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
