/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the perf PMU parsers (lib/backends/perf_format.c) on
 * the text of a cpumask, an events/ file, a format/ file and a .scale.
 * The first byte picks the parser; the rest is the file's text. Checks
 * what each promises: results in range, refusals leave outputs as they
 * were, a scale is a fraction in lowest terms.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/perf_format.h"
#include "joules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: {
		unsigned cpus[16];
		size_t n = 99;
		int r = jl_perf_cpulist(s, cpus, 16, &n);
		if (r == 0 && (n == 0 || n > 16))
			abort();
		if (r != 0 && r != JOULES_ERR_PARSE)
			abort();
		break;
	}
	case 1: {
		const char *cursor = s;
		char name[32];
		uint64_t v;
		int r, terms = 0;
		while ((r = jl_perf_term(&cursor, name, sizeof name, &v)) == 1) {
			if (strlen(name) >= sizeof name || ++terms > (int)size)
				abort();
		}
		if (r != 0 && r != JOULES_ERR_PARSE)
			abort();
		break;
	}
	case 2: {
		uint64_t config = 0x5a5a, value = size > 9 ? (uint64_t)data[size - 1] << 3 : 1;
		int r = jl_perf_format_apply(s, value, &config);
		if (r != 0 && r != JOULES_ERR_PARSE && r != JOULES_ERR_UNSUPPORTED)
			abort();
		break;
	}
	default: {
		uint64_t num = 7, den = 7;
		int r = jl_perf_scale_uj(s, &num, &den);
		if (r == 0 && (num == 0 || den == 0 || gcd(num, den) != 1))
			abort();
		if (r != 0 && r != JOULES_ERR_PARSE)
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
