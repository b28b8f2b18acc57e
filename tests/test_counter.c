/* SPDX-License-Identifier: MIT */
/* The counter arithmetic: wraps extended exactly, resets never a huge energy. */
#include "counter.h"
#include "harness.h"

#define MS 1000000ull
#define S 1000000000ull

/* A powercap-like counter: µJ, wraps at 1000 J, bounded at 2 kW. */
static void init_rapl(struct jl_counter *c)
{
	jl_counter_init(c, 1000000000ull, 1, 1, 2000000000ull);
}

static void test_first_reading_starts_the_counter(void)
{
	struct jl_counter c;
	init_rapl(&c);
	CHECK_EQ_INT(jl_counter_update(&c, 12345, 0), JL_COUNTER_FIRST);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 12345);
	CHECK_EQ_INT(jl_counter_update(&c, 12345, MS), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 12345);
}

static void test_wrap_once_is_exact(void)
{
	struct jl_counter c;
	init_rapl(&c);
	jl_counter_update(&c, 999000000ull, 0);
	/* 1 J to the top, then 5 J more: 6 J in 1 s. */
	CHECK_EQ_INT(jl_counter_update(&c, 5000000ull, S), JL_COUNTER_WRAP);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 999000000ull + 6000000ull);
	CHECK_EQ_U64(c.resets, 0);
}

static void test_wrap_landing_on_zero_and_on_the_top(void)
{
	struct jl_counter c;
	init_rapl(&c);
	jl_counter_update(&c, 999999990ull, 0);
	CHECK_EQ_INT(jl_counter_update(&c, 0, S), JL_COUNTER_WRAP);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 1000000000ull);
	CHECK_EQ_INT(jl_counter_update(&c, 999999999ull, 2 * S), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 1999999999ull);
	CHECK_EQ_INT(jl_counter_update(&c, 0, 3 * S), JL_COUNTER_WRAP);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 2000000000ull);
}

static void test_ten_wraps_over_a_run(void)
{
	struct jl_counter c;
	init_rapl(&c);
	uint64_t raw = 700000000ull, t = 0, total = raw;
	jl_counter_update(&c, raw, t);
	/* 337 J per second, 30 s: 10110 J, ten wraps of 1000 J. */
	int wraps = 0;
	for (int i = 0; i < 30; i++) {
		raw = (raw + 337000000ull) % 1000000000ull;
		total += 337000000ull;
		t += S;
		wraps += jl_counter_update(&c, raw, t) == JL_COUNTER_WRAP;
	}
	CHECK_EQ_INT(wraps, 10);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), total);
}

static void test_drop_too_big_for_a_wrap_is_a_reset(void)
{
	struct jl_counter c;
	init_rapl(&c);
	jl_counter_update(&c, 200000000ull, 0);
	/* A wrap would mean 800 J in 1 ms: 800 kW. */
	CHECK_EQ_INT(jl_counter_update(&c, 3000000ull, MS), JL_COUNTER_RESET);
	CHECK_EQ_U64(c.resets, 1);
	/* The energy since the reset is added, nothing huge or negative. */
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 203000000ull);
}

static void test_64bit_counter_drop_is_a_reset(void)
{
	struct jl_counter c;
	jl_counter_init(&c, 0, 1000, 1, 0); /* NVML-like: mJ, never wraps */
	jl_counter_update(&c, 5000, 0);
	CHECK_EQ_INT(jl_counter_update(&c, 7000, S), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 7000000ull);
	CHECK_EQ_INT(jl_counter_update(&c, 10, 2 * S), JL_COUNTER_RESET);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 7010000ull);
	CHECK_EQ_U64(c.resets, 1);
}

static void test_raw_outside_range_is_rejected(void)
{
	struct jl_counter c;
	init_rapl(&c);
	jl_counter_update(&c, 10, 0);
	CHECK_EQ_INT(jl_counter_update(&c, 1000000000ull, S), JL_COUNTER_BAD);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 10);
}

static void test_fractional_scale_is_exact(void)
{
	struct jl_counter c;
	/* perf's 2^-32 J per count = 15625/67108864 µJ. */
	jl_counter_init(&c, 0, 15625, 67108864, 0);
	jl_counter_update(&c, UINT64_C(1) << 52, 0);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 1000000ull * 1048576ull);
}

static void test_wrap_period(void)
{
	struct jl_counter c;
	init_rapl(&c); /* 1000 J at 2 kW: 0.5 s */
	CHECK_EQ_U64(jl_counter_wrap_period_ns(&c), 500 * MS);
	jl_counter_init(&c, 0, 1, 1, 2000000000ull);
	CHECK_EQ_U64(jl_counter_wrap_period_ns(&c), 0);
}

static void test_forward_jump_beyond_the_bound_is_a_reset(void)
{
	struct jl_counter c;
	init_rapl(&c);
	jl_counter_update(&c, 1000000ull, 0);
	/* 2 kW over 1 s + 10 ms slack: 2020 J; 3 J is fine, 262 J in 10 ms is not. */
	CHECK_EQ_INT(jl_counter_update(&c, 4000000ull, S), JL_COUNTER_ADVANCE);
	CHECK_EQ_INT(jl_counter_update(&c, 266000000ull, S + 10 * MS), JL_COUNTER_JUMP);
	CHECK_EQ_U64(c.resets, 1);
	/* Nothing of the jump is counted; the intervals after it count again. */
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 4000000ull);
	CHECK_EQ_INT(jl_counter_update(&c, 267000000ull, 2 * S), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 5000000ull);
	CHECK_EQ_U64(c.resets, 1);
	/* Exactly at the bound is still power, not a jump. */
	jl_counter_init(&c, 0, 1, 1, 2000000000ull);
	jl_counter_update(&c, 0, 0);
	CHECK_EQ_INT(jl_counter_update(&c, 2020000000ull, S), JL_COUNTER_ADVANCE);
	CHECK_EQ_INT(jl_counter_update(&c, 2020000000ull + 20000001ull, S), JL_COUNTER_JUMP);
}

static void test_jitter_is_not_a_reset(void)
{
	struct jl_counter c;
	init_rapl(&c);
	c.jitter_raw = 122; /* two 61 µJ steps */
	jl_counter_update(&c, 5000000ull, 0);
	/* 61 µJ back: jitter; nothing changes, the higher value is kept. */
	CHECK_EQ_INT(jl_counter_update(&c, 4999939ull, MS), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 5000000ull);
	CHECK_EQ_U64(c.resets, 0);
	/* The next rise counts from the higher value, not twice. */
	CHECK_EQ_INT(jl_counter_update(&c, 5000100ull, 2 * MS), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 5000100ull);
	/* 123 µJ back is more than rounding: a wrap or a reset. */
	CHECK_EQ_INT(jl_counter_update(&c, 4999977ull, 3 * MS), JL_COUNTER_RESET);
	CHECK_EQ_U64(c.resets, 1);
	/* A 64-bit counter (NVML) has jitter too, in its own raw units. */
	jl_counter_init(&c, 0, 1000, 1, 0);
	c.jitter_raw = 2;
	jl_counter_update(&c, 100, 0);
	CHECK_EQ_INT(jl_counter_update(&c, 98, MS), JL_COUNTER_ADVANCE);
	CHECK_EQ_INT(jl_counter_update(&c, 99, 2 * MS), JL_COUNTER_ADVANCE);
	CHECK_EQ_U64(jl_counter_energy_uj(&c), 100000);
	/* Jitter is judged from the highest value seen: 100 to 97 is 3 units. */
	CHECK_EQ_INT(jl_counter_update(&c, 97, 3 * MS), JL_COUNTER_RESET);
}

static void test_raw_of_uj_rounds_up(void)
{
	struct jl_counter c;
	jl_counter_init(&c, 0, 15625, 67108864, 0); /* perf: 2^-32 J per count */
	CHECK_EQ_U64(jl_counter_raw_of_uj(&c, 1), 4295);
	jl_counter_init(&c, 0, 1000, 1, 0); /* NVML: mJ */
	CHECK_EQ_U64(jl_counter_raw_of_uj(&c, 2000), 2);
	CHECK_EQ_U64(jl_counter_raw_of_uj(&c, 2001), 3);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_first_reading_starts_the_counter),
		TEST(test_wrap_once_is_exact),
		TEST(test_wrap_landing_on_zero_and_on_the_top),
		TEST(test_ten_wraps_over_a_run),
		TEST(test_drop_too_big_for_a_wrap_is_a_reset),
		TEST(test_64bit_counter_drop_is_a_reset),
		TEST(test_raw_outside_range_is_rejected),
		TEST(test_fractional_scale_is_exact),
		TEST(test_wrap_period),
		TEST(test_forward_jump_beyond_the_bound_is_a_reset),
		TEST(test_jitter_is_not_a_reset),
		TEST(test_raw_of_uj_rounds_up),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
