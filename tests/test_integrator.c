/* SPDX-License-Identifier: MIT */
/* Power integration: exact trapezoids, no drift over long runs. */
#include "harness.h"
#include "integrator.h"

#define MS 1000000ull
#define S 1000000000ull

static void test_first_sample_only_starts(void)
{
	struct jl_integrator ig = {0};
	jl_integrator_add(&ig, 100000000ull, 5 * S);
	CHECK_EQ_U64(ig.uj, 0);
}

static void test_constant_power(void)
{
	struct jl_integrator ig = {0};
	for (uint64_t t = 0; t <= 10 * S; t += 100 * MS)
		jl_integrator_add(&ig, 50000000ull, t); /* 50 W */
	CHECK_EQ_U64(ig.uj, 500000000ull);           /* 500 J */
}

static void test_ramp_is_a_trapezoid(void)
{
	struct jl_integrator ig = {0};
	jl_integrator_add(&ig, 0, 0);
	jl_integrator_add(&ig, 100000000ull, 2 * S); /* 0 → 100 W over 2 s: 100 J */
	CHECK_EQ_U64(ig.uj, 100000000ull);
}

static void test_no_drift_from_tiny_steps(void)
{
	/* 3 µW in 1e5 steps of 10 µs (3e-5 µJ each): exactly 3 µJ in 1 s. */
	struct jl_integrator ig = {0};
	uint64_t t = 0;
	jl_integrator_add(&ig, 3, t);
	for (int i = 0; i < 100000; i++) {
		t += 10000;
		jl_integrator_add(&ig, 3, t);
	}
	CHECK_EQ_U64(ig.uj, 3);
	CHECK_EQ_U64(ig.rem, 0);
}

static void test_time_going_backwards_adds_nothing(void)
{
	struct jl_integrator ig = {0};
	jl_integrator_add(&ig, 10000000ull, 10 * S);
	jl_integrator_add(&ig, 10000000ull, 9 * S);
	CHECK_EQ_U64(ig.uj, 0);
	jl_integrator_add(&ig, 10000000ull, 11 * S); /* from 10 s: 10 J */
	CHECK_EQ_U64(ig.uj, 10000000ull);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_first_sample_only_starts),
		TEST(test_constant_power),
		TEST(test_ramp_is_a_trapezoid),
		TEST(test_no_drift_from_tiny_steps),
		TEST(test_time_going_backwards_adds_nothing),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
