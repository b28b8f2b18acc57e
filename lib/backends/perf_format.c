/* SPDX-License-Identifier: MIT */
#include "perf_format.h"

#include <ctype.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "joules.h"

static unsigned digit_value(char c)
{
	if (isdigit((unsigned char)c))
		return (unsigned)(c - '0');
	if (isxdigit((unsigned char)c))
		return (unsigned)(tolower((unsigned char)c) - 'a' + 10);
	return 99;
}

/* Digits in `base` at *p into *v; false when there are none or they overflow. */
static bool parse_uint(const char **p, uint64_t *v, unsigned base)
{
	const char *s = *p;
	uint64_t x = 0;
	for (unsigned d; (d = digit_value(*s)) < base; s++) {
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
	}
	if (s == *p)
		return false;
	*p = s;
	*v = x;
	return true;
}

/* "N" or "N-M" (M >= N), as cpulists and format bit ranges write them. */
static bool parse_range(const char **p, uint64_t *lo, uint64_t *hi)
{
	if (!parse_uint(p, lo, 10))
		return false;
	*hi = *lo;
	if (**p != '-')
		return true;
	(*p)++;
	return parse_uint(p, hi, 10) && *hi >= *lo;
}

int jl_perf_cpulist(const char *text, unsigned *cpus, size_t max, size_t *n)
{
	const char *p = text;
	size_t k = 0;
	for (;;) {
		uint64_t lo, hi;
		if (!parse_range(&p, &lo, &hi))
			return JOULES_ERR_PARSE;
		if (hi > UINT32_MAX || hi - lo >= max - k)
			return JOULES_ERR_PARSE;
		for (uint64_t c = lo; c <= hi; c++)
			cpus[k++] = (unsigned)c;
		if (*p != ',')
			break;
		p++;
	}
	if (*p != '\0')
		return JOULES_ERR_PARSE;
	*n = k;
	return 0;
}

int jl_perf_term(const char **cursor, char *name, size_t name_len, uint64_t *value)
{
	const char *p = *cursor;
	if (*p == '\0')
		return 0;
	size_t len = 0;
	while (isalnum((unsigned char)p[len]) || p[len] == '_')
		len++;
	if (len == 0 || len >= name_len)
		return JOULES_ERR_PARSE;
	memcpy(name, p, len);
	name[len] = '\0';
	p += len;
	*value = 1;
	if (*p == '=') {
		p++;
		bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
		if (hex)
			p += 2;
		if (!parse_uint(&p, value, hex ? 16 : 10))
			return JOULES_ERR_PARSE;
	}
	if (*p == ',') {
		if (p[1] == '\0')
			return JOULES_ERR_PARSE;
		p++;
	} else if (*p != '\0') {
		return JOULES_ERR_PARSE;
	}
	*cursor = p;
	return 1;
}

int jl_perf_format_apply(const char *format, uint64_t value, uint64_t *config)
{
	const char *colon = strchr(format, ':');
	if (!colon)
		return JOULES_ERR_PARSE;
	size_t field = (size_t)(colon - format);
	if (field != 6 || strncmp(format, "config", 6) != 0)
		return strncmp(format, "config", 6) == 0 ? JOULES_ERR_UNSUPPORTED : JOULES_ERR_PARSE;
	const char *p = colon + 1;
	uint64_t out = *config;
	unsigned used = 0; /* bits of value placed so far */
	for (;;) {
		uint64_t lo, hi;
		if (!parse_range(&p, &lo, &hi) || hi > 63)
			return JOULES_ERR_PARSE;
		for (uint64_t b = lo; b <= hi; b++, used++)
			if (used < 64 && (value >> used & 1))
				out |= 1ull << b;
		if (*p != ',')
			break;
		p++;
	}
	if (*p != '\0')
		return JOULES_ERR_PARSE;
	if (used < 64 && value >> used)
		return JOULES_ERR_PARSE; /* the value is wider than its field */
	*config = out;
	return 0;
}

/* A positive decimal: significant digits (at most 19) times 10^exp10. */
struct decimal {
	uint64_t digits;
	long exp10;
};

static bool parse_decimal(const char *s, struct decimal *d)
{
	uint64_t m = 0;
	long exp10 = 0;
	unsigned sig = 0;
	bool any = false, point = false;
	for (;; s++) {
		if (*s == '.' && !point) {
			point = true;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			break;
		any = true;
		unsigned digit = (unsigned)(*s - '0');
		if (sig < 19 && (sig > 0 || digit != 0)) {
			m = m * 10 + digit;
			sig++;
			exp10 -= point;
		} else if (sig >= 19) {
			exp10 += !point; /* a dropped digit before the point scales by 10 */
		} else {
			exp10 -= point; /* a leading zero after the point */
		}
	}
	if (!any)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		bool neg = *s == '-';
		if (*s == '-' || *s == '+')
			s++;
		uint64_t e;
		if (!parse_uint(&s, &e, 10) || e > 100000)
			return false;
		exp10 += neg ? -(long)e : (long)e;
	}
	if (*s != '\0' || m == 0)
		return false;
	d->digits = m;
	d->exp10 = exp10;
	return true;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The exponent p when the double nearest to `text` is exactly 2^p. */
static bool nearest_power_of_two(const char *text, int *p)
{
	/* strtod obeys LC_NUMERIC; sysfs always writes a '.'. */
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return false;
	double v = strtod_l(text, NULL, c);
	freelocale(c);
	/* A power of two: a positive normal double with no mantissa bits. */
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	unsigned biased = (unsigned)(bits >> 52 & 0x7ff);
	if (bits >> 63 || biased == 0 || biased == 0x7ff || (bits & ((1ull << 52) - 1)))
		return false;
	*p = (int)biased - 1023;
	return true;
}

int jl_perf_scale_uj(const char *text, uint64_t *num, uint64_t *den)
{
	struct decimal d;
	if (!parse_decimal(text, &d))
		return JOULES_ERR_PARSE;
	int p;
	if (nearest_power_of_two(text, &p)) {
		/* 10^6 * 2^p µJ = 15625 * 2^(p + 6): 15625 is odd, so in lowest terms. */
		int s = p + 6;
		if (s >= 0 && s <= 49) {
			*num = 15625ull << s;
			*den = 1;
			return 0;
		}
		if (s < 0 && s >= -63) {
			*num = 15625;
			*den = 1ull << -s;
			return 0;
		}
		return JOULES_ERR_PARSE;
	}
	long x = d.exp10 + 6; /* µJ = digits * 10^x */
	uint64_t m = d.digits, q = 1;
	for (; x > 0; x--) {
		if (m > UINT64_MAX / 10)
			return JOULES_ERR_PARSE;
		m *= 10;
	}
	/* 10^19 is the largest power of ten in 64 bits: round off what is finer. */
	for (; x < -19; x++)
		m = (m + 5) / 10;
	if (m == 0)
		return JOULES_ERR_PARSE;
	for (; x < 0; x++)
		q *= 10;
	uint64_t g = gcd(m, q);
	*num = m / g;
	*den = q / g;
	return 0;
}
