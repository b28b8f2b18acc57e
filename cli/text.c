/* SPDX-License-Identifier: MIT */
/* Showing text from outside: controls and bytes that are not UTF-8 escaped. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

/* Where the units go: a stream, or a buffer that takes only whole units. */
struct sink {
	FILE *f;
	char *buf;
	size_t len, used;
	bool full;
	int columns, max_columns;
};

/* A unit: a character, or an escape taking `columns` columns. */
static void emit(struct sink *k, const char *unit, size_t n, int columns)
{
	if (k->columns + columns > k->max_columns)
		k->full = true;
	k->columns += columns;
	if (k->f) {
		fwrite(unit, 1, n, k->f);
		return;
	}
	if (!k->buf || k->full)
		return;
	if (k->used + n >= k->len) {
		k->full = true;
		return;
	}
	memcpy(k->buf + k->used, unit, n);
	k->used += n;
	k->buf[k->used] = '\0';
}

static void escaped(struct sink *k, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[v >> 4 & 0xf], hex[v & 0xf]};
	emit(k, e, sizeof e, 4);
}

static bool control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

enum mode { SHOW, SHOW_QUOTED, JSON };

/* Every unit of s: shown, shown inside CSV quotes ('"' doubled), or for JSON. */
static void walk(struct sink *k, const char *s, enum mode mode)
{
	bool json = mode == JSON;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = jl_utf8_char(s + i, n - i, &cp);
		if (len == 1 && cp == '"' && mode == SHOW_QUOTED) {
			emit(k, "\"\"", 2, 2);
		} else if (len && (json || !control(cp))) {
			emit(k, s + i, len, 1);
		} else if (len) {
			escaped(k, cp);
		} else if (jl_utf8_cut_short(s + i, n - i)) {
			break; /* the string was cut inside its last character */
		} else if (json) {
			emit(k, "\xef\xbf\xbd", 3, 1); /* U+FFFD REPLACEMENT CHARACTER */
		} else {
			escaped(k, (unsigned char)s[i]);
		}
		i += len ? len : 1;
	}
}

void text_put(FILE *f, const char *s)
{
	struct sink k = {.f = f, .max_columns = INT_MAX};
	walk(&k, s, SHOW);
}

void text_put_quoted(FILE *f, const char *s)
{
	struct sink k = {.f = f, .max_columns = INT_MAX};
	walk(&k, s, SHOW_QUOTED);
}

void text_pad(FILE *f, const char *s, int width)
{
	struct sink k = {.f = f, .max_columns = INT_MAX};
	walk(&k, s, SHOW);
	for (; k.columns < width; k.columns++)
		fputc(' ', f);
}

int text_width(const char *s)
{
	struct sink k = {.max_columns = INT_MAX};
	walk(&k, s, SHOW);
	return k.columns;
}

const char *text_show_cut(const char *s, char *buf, size_t len, int columns)
{
	static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
	struct sink k = {.buf = buf, .len = len > 3 ? len - 3 : len, .max_columns = columns};
	buf[0] = '\0';
	walk(&k, s, SHOW);
	if (k.full && len > 3)
		memcpy(buf + k.used, ellipsis, sizeof ellipsis);
	return buf;
}

const char *text_show(const char *s, char *buf, size_t len)
{
	return text_show_cut(s, buf, len, INT_MAX);
}

json_object *text_json(const char *s)
{
	size_t room = 3 * strlen(s) + 1; /* a byte becomes at most 3 (U+FFFD) */
	char *clean = malloc(room);
	if (!clean)
		return NULL;
	struct sink k = {.buf = clean, .len = room, .max_columns = INT_MAX};
	clean[0] = '\0';
	walk(&k, s, JSON);
	json_object *o = json_object_new_string_len(clean, (int)k.used);
	free(clean);
	return o;
}

void text_json_print(FILE *f, json_object *root)
{
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	/* Outside strings a document is ASCII, so these bytes are inside strings. */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == 0x7f) {
			fputs("\\u007f", f);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[1]);
			p++;
		} else {
			fputc(*p, f);
		}
	}
	fputc('\n', f);
}
