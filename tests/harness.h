/* SPDX-License-Identifier: MIT */
/*
 * A tiny TAP test harness: each test binary is a table of cases; meson runs
 * it with protocol 'tap' and counts every case.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ_U64(a, b); }
 *   static const struct test tests[] = { TEST(test_x), ... };
 *   int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
 */
#ifndef JOULES_TEST_HARNESS_H
#define JOULES_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn) {#fn, fn}

extern int harness_failures;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			harness_failures++;                                              \
		}                                                                        \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                  \
	do {                                                                                \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                            \
		if (a_ != b_) {                                                             \
			printf("#   %s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",  \
			       __FILE__, __LINE__, #a, #b, a_, b_);                         \
			harness_failures++;                                                 \
		}                                                                           \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                  \
	do {                                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);                         \
		if (a_ != b_) {                                                             \
			printf("#   %s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
			       __LINE__, #a, #b, a_, b_);                                   \
			harness_failures++;                                                 \
		}                                                                           \
	} while (0)

/* a contains b */
#define CHECK_STR_HAS(a, b)                                                                 \
	do {                                                                                \
		const char *a_ = (a), *b_ = (b);                                            \
		if (!a_ || !strstr(a_, b_)) {                                               \
			printf("#   %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
			       __LINE__, a_ ? a_ : "(null)", b_);                           \
			harness_failures++;                                                 \
		}                                                                           \
	} while (0)

int run_tests(const struct test *tests, size_t n);

#endif
