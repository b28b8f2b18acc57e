/* SPDX-License-Identifier: MIT */
/* Reading a `joules record` trace (CSV, RFC 4180 quoting allowed) into bins. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "trace_label.h"
#include "utf8.h"

#define FIELDS TRACE_MAX_FIELDS

static void fail(struct trace_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct trace_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->why, sizeof err->why, fmt, ap);
	va_end(ap);
}

/* One line, without its \n or \r\n, in *buf; 1, 0 at the end, -1 when too long. */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
	int c;
	*len = 0;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (*len + 2 > *cap) {
			if (*cap >= TRACE_MAX_LINE)
				return -1;
			size_t grown = *cap ? 2 * *cap : 256;
			char *p = realloc(*buf, grown);
			if (!p)
				return -1;
			*buf = p;
			*cap = grown;
		}
		(*buf)[(*len)++] = (char)c;
	}
	if (c == EOF && *len == 0)
		return 0;
	if (*len && (*buf)[*len - 1] == '\r')
		(*len)--;
	if (!*buf) { /* an empty first line */
		*buf = malloc(1);
		if (!*buf)
			return -1;
		*cap = 1;
	}
	(*buf)[*len] = '\0';
	return 1;
}

/* 0 when line[0..len) is UTF-8 without NUL, else -1 with err set. */
static int check_text(const char *line, size_t len, struct trace_error *err)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = jl_utf8_char(line + i, len - i, &cp);
		if (n == 0) {
			fail(err, "not UTF-8: byte 0x%02x at column %zu", (unsigned char)line[i],
			     i + 1);
			return -1;
		}
		if (cp == 0) {
			fail(err, "a NUL byte at column %zu", i + 1);
			return -1;
		}
		i += n;
	}
	return 0;
}

/*
 * Split a line into at most FIELDS fields, in place (quotes removed, ""
 * made "); returns the count, or -1 if malformed.
 */
static int split(char *line, char *f[FIELDS])
{
	int k = 0;
	char *p = line;
	for (;;) {
		if (k == FIELDS)
			return -1;
		char *out = p;
		f[k++] = out;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0')
					return -1;
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++; /* "" is one quote */
				*out++ = *p;
			}
			p++;
		} else {
			for (; *p && *p != ',' && *p != '"'; p++)
				*out++ = *p;
			if (*p == '"')
				return -1; /* a quote inside an unquoted field */
		}
		char sep = *p;
		*out = '\0';
		if (sep == '\0')
			return k;
		if (sep != ',')
			return -1;
		p++;
	}
}

/* Bytes of s to quote in a message: at most 40, cut between characters. */
static int quoted_len(const char *s)
{
	size_t n = strlen(s);
	if (n <= 40)
		return (int)n;
	n = 40;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

/* A finite number in the whole field; 0, or -1 with err naming the column. */
static int number(const char *s, const char *column, double *v, struct trace_error *err)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end || !*s) {
		fail(err, "expected time_s,sensor,watts,joules,...: %s '%.*s' is not a number",
		     column, quoted_len(s), s);
		return -1;
	}
	if (!isfinite(*v) || (errno == ERANGE && fabs(*v) > 1)) {
		fail(err, "%s '%.*s' is not a finite number", column, quoted_len(s), s);
		return -1;
	}
	return 0;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot of id in the index: its series, or the empty slot where it goes. */
static size_t *slot(const struct trace *tr, const char *id)
{
	size_t mask = tr->index_cap - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask)
		if (!tr->index[i] || strcmp(tr->s[tr->index[i] - 1].id, id) == 0)
			return &tr->index[i];
}

/* Keep the index at most half full. */
static int grow_index(struct trace *tr)
{
	if (2 * (tr->n + 1) <= tr->index_cap)
		return 0;
	size_t cap = tr->index_cap ? 2 * tr->index_cap : 16;
	size_t *old = tr->index, old_cap = tr->index_cap;
	tr->index = calloc(cap, sizeof *tr->index);
	if (!tr->index) {
		tr->index = old;
		return -1;
	}
	tr->index_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			*slot(tr, tr->s[old[i] - 1].id) = old[i];
	free(old);
	return 0;
}

static struct series *find_or_add(struct trace *tr, const char *id, const char *total,
				  const char *name, const char *kind, struct trace_error *err)
{
	if (grow_index(tr) < 0)
		goto nomem;
	size_t *at = slot(tr, id);
	if (*at)
		return &tr->s[*at - 1];
	if (tr->n == TRACE_MAX_SERIES) {
		fail(err, "more than %d sensors: not a trace 'joules record' wrote", TRACE_MAX_SERIES);
		return NULL;
	}
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 8;
		struct series *s = realloc(tr->s, cap * sizeof *s);
		if (!s)
			goto nomem;
		tr->s = s;
		tr->cap = cap;
	}
	struct series *s = &tr->s[tr->n];
	*s = (struct series){.id = strdup(id), .total = strdup(total),
			     .label = trace_label(id, name, kind),
			     .bins = calloc(tr->n_bins, sizeof *s->bins)};
	if (!s->id || !s->total || !s->label || !s->bins) {
		free(s->id);
		free(s->label);
		free(s->total);
		free(s->bins);
		goto nomem;
	}
	*at = ++tr->n;
	return s;
nomem:
	fail(err, "out of memory");
	return NULL;
}

/* The mean of two groups, finite for any finite means. */
static double mean_of(double m1, double n1, double m2, double n2)
{
	double half_step = (m2 / 2 - m1 / 2) * (n2 / (n1 + n2));
	return (m1 + half_step) + half_step;
}

static void merge(struct bin *a, const struct bin *b)
{
	double all_a = (double)a->n + a->gaps, all_b = (double)b->n + b->gaps;
	if (all_b == 0)
		return;
	if (all_a == 0) {
		*a = *b;
		return;
	}
	a->t = mean_of(a->t, all_a, b->t, all_b);
	if (b->n && a->n) {
		a->w = mean_of(a->w, a->n, b->w, b->n);
		a->w_min = fmin(a->w_min, b->w_min);
		a->w_max = fmax(a->w_max, b->w_max);
	} else if (b->n) {
		a->w = b->w;
		a->w_min = b->w_min;
		a->w_max = b->w_max;
	}
	a->n += b->n;
	a->gaps += b->gaps;
}

/* The bin of the grid that holds time t (clamped to the grid). */
static size_t bin_of(const struct trace *tr, double t)
{
	double half = tr->hi / 2 - tr->lo / 2;
	if (!(half > 0))
		return 0;
	double k = (t / 2 - tr->lo / 2) / half * (double)tr->n_bins;
	if (!(k > 0))
		return 0;
	return k >= (double)tr->n_bins ? tr->n_bins - 1 : (size_t)k;
}

/*
 * Widen the grid to take t: double its span, up or down, until t is in
 * it; then move every bin to where its mean time falls. The span is at
 * least doubled each time, so this happens a few dozen times per trace.
 */
static int widen(struct trace *tr, double t)
{
	double lo = tr->lo, hi = tr->hi, half = hi / 2 - lo / 2;
	if (half == 0)
		half = fabs(t / 2 - lo / 2); /* the second time read sets the scale */
	if (!(half > 0))
		half = DBL_TRUE_MIN; /* times a few subnormals apart */
	while (t < lo || t > hi) {
		if (t > hi)
			hi = fmax(hi, fmin(lo + 4 * half, DBL_MAX));
		else
			lo = fmin(lo, fmax(hi - 4 * half, -DBL_MAX));
		half *= 2;
	}
	struct bin *moved = malloc(tr->n_bins * sizeof *moved);
	if (!moved)
		return -1;
	tr->lo = lo;
	tr->hi = hi;
	for (size_t i = 0; i < tr->n; i++) {
		struct bin *b = tr->s[i].bins;
		memset(moved, 0, tr->n_bins * sizeof *moved);
		for (size_t k = 0; k < tr->n_bins; k++)
			merge(&moved[bin_of(tr, b[k].t)], &b[k]);
		memcpy(b, moved, tr->n_bins * sizeof *b);
	}
	free(moved);
	return 0;
}

static int add_sample(struct trace *tr, struct series *s, double t, double w,
		      struct trace_error *err)
{
	if (!tr->grid) {
		tr->lo = tr->hi = tr->t_min = tr->t_max = t;
		tr->grid = true;
	}
	if ((t < tr->lo || t > tr->hi) && widen(tr, t) < 0) {
		fail(err, "out of memory");
		return -1;
	}
	bool gap = isnan(w);
	struct bin one = {.n = !gap, .gaps = gap, .t = t, .w = w, .w_min = w, .w_max = w};
	merge(&s->bins[bin_of(tr, t)], &one);
	tr->t_min = fmin(tr->t_min, t);
	tr->t_max = fmax(tr->t_max, t);
	tr->rows++;
	return 0;
}

/* Field `col` of a row of k fields, "" when the row or the header lacks it. */
static const char *column(char *f[FIELDS], int k, int col)
{
	return col >= 0 && col < k ? f[col] : "";
}

/* One data row; 0, or -1 with err set. */
static int row(struct trace *tr, char *f[FIELDS], int k, struct trace_error *err)
{
	double t, w = NAN, j;
	if (k < 4 || !f[1][0]) {
		fail(err, "expected time_s,sensor,watts,joules,...: %s",
		     k < 4 ? "too few fields" : "no sensor");
		return -1;
	}
	if (number(f[0], "time_s", &t, err) < 0 || (*f[2] && number(f[2], "watts", &w, err) < 0) ||
	    (*f[3] && number(f[3], "joules", &j, err) < 0))
		return -1;
	struct series *s = find_or_add(tr, f[1], column(f, k, tr->col_total),
				       column(f, k, tr->col_name), column(f, k, tr->col_kind), err);
	if (!s || add_sample(tr, s, t, w, err) < 0)
		return -1;
	if (*f[3])
		s->joules = j;
	if (*f[2])
		s->measured++;
	return 0;
}

static int header(struct trace *tr, char *line, struct trace_error *err)
{
	char *f[FIELDS];
	int k = split(line, f);
	if (k < 4 || strcmp(f[0], "time_s") || strcmp(f[1], "sensor") || strcmp(f[2], "watts") ||
	    strcmp(f[3], "joules")) {
		fail(err, "the header is not time_s,sensor,watts,joules (is this a 'joules record' "
			  "trace?)");
		return -1;
	}
	for (int c = 4; c < k; c++) {
		if (strcmp(f[c], "total") == 0)
			tr->col_total = c;
		else if (strcmp(f[c], "name") == 0)
			tr->col_name = c;
		else if (strcmp(f[c], "kind") == 0)
			tr->col_kind = c;
	}
	return 0;
}

int trace_read(FILE *f, size_t bins, struct trace *tr, struct trace_error *err)
{
	/* Without a header naming it, a fifth column is the total, as traces had it. */
	*tr = (struct trace){.n_bins = bins < 2 ? 2 : bins, .col_total = 4, .col_name = -1,
			     .col_kind = -1};
	*err = (struct trace_error){0};
	char *line = NULL, *fields[FIELDS];
	size_t cap = 0, len;
	int rc = 0, got;
	while (rc == 0 && (got = read_line(f, &line, &cap, &len)) != 0) {
		err->line++;
		char *text = line;
		if (got < 0) {
			fail(err, cap >= TRACE_MAX_LINE ? "longer than 1 MiB: not a trace row"
							: "out of memory");
			rc = -1;
		} else if (check_text(line, len, err) < 0) {
			rc = -1;
		} else if (err->line == 1) {
			if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
				text += 3; /* a byte order mark, as some editors write */
			rc = header(tr, text, err);
		} else if (len == 0) {
			continue;
		} else {
			int k = split(text, fields);
			if (k < 0)
				fail(err, "unbalanced quotes or too many fields");
			rc = k < 0 ? -1 : row(tr, fields, k, err);
		}
	}
	if (rc == 0 && ferror(f)) {
		fail(err, "read error: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && tr->n == 0) {
		fail(err, "no samples (record for longer than one interval)");
		err->line = 0;
		rc = -1;
	}
	free(line);
	if (rc)
		trace_free(tr);
	return rc;
}

void trace_free(struct trace *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		free(tr->s[i].id);
		free(tr->s[i].label);
		free(tr->s[i].total);
		free(tr->s[i].bins);
	}
	free(tr->s);
	free(tr->index);
	*tr = (struct trace){0};
}

bool series_stacked(const struct series *s)
{
	return strcmp(s->total, "cpu") == 0 || strcmp(s->total, "dram") == 0 ||
	       strcmp(s->total, "gpu") == 0;
}
