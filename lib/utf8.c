/* SPDX-License-Identifier: MIT */
/* UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates, ≤ U+10FFFF. */
#include <string.h>

#include "utf8.h"

/* Length a lead byte announces and the smallest code point of that length; 0 if none. */
static size_t lead(unsigned char b, uint32_t *bits, uint32_t *min)
{
	if (b < 0x80) {
		*bits = b;
		*min = 0;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		*bits = b & 0x1fu;
		*min = 0x80;
		return 2;
	}
	if ((b & 0xf0) == 0xe0) {
		*bits = b & 0x0fu;
		*min = 0x800;
		return 3;
	}
	if (b >= 0xf0 && b <= 0xf4) {
		*bits = b & 0x07u;
		*min = 0x10000;
		return 4;
	}
	return 0;
}

size_t jl_utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t len = n ? lead(p[0], &c, &min) : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool jl_utf8_cut_short(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t len = n ? lead(p[0], &c, &min) : 0;
	if (len < 2 || n >= len)
		return false;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return false;
	/* The second byte alone already rules out overlongs, surrogates and > U+10FFFF. */
	if (n >= 2) {
		uint32_t two = c << 6 | (p[1] & 0x3fu);
		if ((len == 3 && (two < 0x20 || (two >= 0x360 && two <= 0x37f))) ||
		    (len == 4 && (two < 0x10 || two > 0x10f)))
			return false;
	}
	return true;
}

void jl_utf8_clean(char *s)
{
	size_t n = strlen(s), out = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = jl_utf8_char(s + i, n - i, &cp);
		if (len == 0) {
			i++;
			continue;
		}
		memmove(s + out, s + i, len);
		out += len;
		i += len;
	}
	s[out] = '\0';
}
