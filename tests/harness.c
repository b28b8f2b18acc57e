/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <stdlib.h>

int harness_failures;

int run_tests(const struct test *tests, size_t n)
{
	const char *only = getenv("TEST_ONLY");
	int failed = 0;
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		if (only && strcmp(only, tests[i].name) != 0) {
			printf("ok %zu - %s # SKIP not selected\n", i + 1, tests[i].name);
			continue;
		}
		harness_failures = 0;
		tests[i].fn();
		printf("%s %zu - %s\n", harness_failures ? "not ok" : "ok", i + 1, tests[i].name);
		fflush(stdout);
		failed += harness_failures != 0;
	}
	return failed ? 1 : 0;
}
