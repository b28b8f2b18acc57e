/* SPDX-License-Identifier: MIT */
/* The gap rules of sampled sensors: which failures are skipped, and what a gap costs. */
#include <errno.h>

#include "gap.h"
#include "harness.h"

#define MS 1000000ull

static void test_transient_failures_are_skipped_then_reported(void)
{
	struct jl_gap g = {0};
	CHECK(jl_gap_fail(&g, true, false));
	CHECK(jl_gap_flag(&g)); /* open */
	for (unsigned k = 2; k < JL_GAP_MAX_SAMPLES; k++)
		CHECK(jl_gap_fail(&g, true, false));
	/* The 50th in a row is not "a moment" any more. */
	CHECK(!jl_gap_fail(&g, true, false));
	CHECK(!jl_gap_fail(&g, true, false));
	jl_gap_close(&g, 10 * MS, 1000000, 1000000);
	CHECK_EQ_U64(g.failed, 0);
	CHECK_EQ_U64(g.seq, 2); /* opened, closed */
}

static void test_lasting_failure_is_reported_at_once(void)
{
	struct jl_gap g = {0};
	CHECK(!jl_gap_fail(&g, false, false));
	CHECK_EQ_U64(g.seq, 0);
}

static void test_eio_once_is_a_gap_twice_is_a_fault(void)
{
	struct jl_gap g = {0};
	CHECK(jl_gap_fail(&g, true, true));
	CHECK(!jl_gap_fail(&g, true, true));
	jl_gap_close(&g, 0, 0, 0);
	CHECK(jl_gap_fail(&g, true, true)); /* after a good sample: once again */
}

static void test_closing_counts_half_the_gap_at_the_larger_power(void)
{
	struct jl_gap g = {0};
	/* No gap open: nothing. */
	jl_gap_close(&g, 300 * MS, 150000000, 150000000);
	CHECK_EQ_U64(g.unc_uj, 0);
	CHECK(!jl_gap_flag(&g));
	CHECK(jl_gap_fail(&g, true, false));
	/* 0.3 s between 100 W and 150 W samples: 150 W x 0.3 s / 2 = 22.5 J. */
	jl_gap_close(&g, 300 * MS, 100000000, 150000000);
	CHECK_EQ_U64(g.unc_uj, 22500000);
	/* Flagged once after it closed, then not. */
	CHECK(jl_gap_flag(&g));
	CHECK(!jl_gap_flag(&g));
}

static void test_transient_errnos(void)
{
	static const int yes[] = {EBUSY, EPERM, EAGAIN, ENODATA, ETIMEDOUT, EIO};
	static const int no[] = {ENODEV, ENXIO, ENOENT, EACCES, EINVAL, 0};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		CHECK(jl_gap_transient_errno(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		CHECK(!jl_gap_transient_errno(no[i]));
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_transient_failures_are_skipped_then_reported),
		TEST(test_lasting_failure_is_reported_at_once),
		TEST(test_eio_once_is_a_gap_twice_is_a_fault),
		TEST(test_closing_counts_half_the_gap_at_the_larger_power),
		TEST(test_transient_errnos),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
