/* SPDX-License-Identifier: MIT */
/* Reading a `joules record` trace (CSV, RFC 4180 quoting allowed). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define FIELDS 5
#define FIELD_LEN 256

/* Split one line into up to FIELDS fields; returns the count, or -1 if malformed. */
static int split(const char *line, char f[FIELDS][FIELD_LEN])
{
	int k = 0;
	const char *p = line;
	for (;;) {
		size_t len = 0;
		if (k == FIELDS)
			return -1;
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
				if (*p == '"')
					p++; /* "" is one quote */
				if (len + 1 < FIELD_LEN)
					f[k][len++] = *p;
			}
			if (*p++ != '"')
				return -1;
		} else {
			for (; *p && *p != ',' && *p != '\n' && *p != '\r'; p++)
				if (len + 1 < FIELD_LEN)
					f[k][len++] = *p;
		}
		f[k++][len] = '\0';
		if (*p != ',')
			return (*p == '\0' || *p == '\n' || *p == '\r') ? k : -1;
		p++;
	}
}

static bool number(const char *s, double *v)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	*v = strtod(s, &end);
	return !errno && !*end && isfinite(*v);
}

static struct series *find_or_add(struct trace *tr, const char *id, const char *total)
{
	for (size_t i = 0; i < tr->n; i++)
		if (strcmp(tr->s[i].id, id) == 0)
			return &tr->s[i];
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 8;
		struct series *s = realloc(tr->s, cap * sizeof *s);
		if (!s)
			return NULL;
		tr->s = s;
		tr->cap = cap;
	}
	struct series *s = &tr->s[tr->n++];
	*s = (struct series){0};
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->total, sizeof s->total, "%s", total);
	return s;
}

static int append(struct series *s, double t, double w)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nt = realloc(s->t, cap * sizeof *nt);
		if (!nt)
			return -1;
		s->t = nt;
		double *nw = realloc(s->w, cap * sizeof *nw);
		if (!nw)
			return -1;
		s->w = nw;
		s->cap = cap;
	}
	s->t[s->n] = t;
	s->w[s->n++] = w;
	return 0;
}

/* One data row; 0, or -1 with err set. */
static int row(struct trace *tr, char f[FIELDS][FIELD_LEN], int k, char *err, size_t errlen)
{
	double t, w, j;
	if (k < 4 || !number(f[0], &t) || !f[1][0]) {
		snprintf(err, errlen, "expected time_s,sensor,watts,joules[,total]");
		return -1;
	}
	struct series *s = find_or_add(tr, f[1], k > 4 ? f[4] : "");
	if (!s || append(s, t, number(f[2], &w) ? w : NAN) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (number(f[3], &j))
		s->joules = j;
	if (tr->n == 1 && s->n == 1)
		tr->t_min = tr->t_max = t;
	tr->t_min = fmin(tr->t_min, t);
	tr->t_max = fmax(tr->t_max, t);
	return 0;
}

int trace_read(const char *path, struct trace *tr, char *err, size_t errlen)
{
	*tr = (struct trace){0};
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL, why[128] = "";
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	char fields[FIELDS][FIELD_LEN];
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		lineno++;
		int k = split(line, fields);
		if (lineno == 1) {
			if (k < 4 || strcmp(fields[0], "time_s") != 0 || strcmp(fields[1], "sensor") ||
			    strcmp(fields[2], "watts") || strcmp(fields[3], "joules")) {
				snprintf(why, sizeof why, "the header is not time_s,sensor,watts,joules"
					 " (is this a 'joules record' trace?)");
				rc = -1;
			}
		} else if (k == 1 && !fields[0][0]) {
			continue; /* a blank line */
		} else if (k < 0) {
			snprintf(why, sizeof why, "unbalanced quotes or too many fields");
			rc = -1;
		} else {
			rc = row(tr, fields, k, why, sizeof why);
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(why, sizeof why, "read error: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && tr->n == 0) {
		snprintf(why, sizeof why, "no samples (record for longer than one interval)");
		rc = -1;
		lineno = 0;
	}
	if (rc && lineno)
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	free(line);
	fclose(f);
	if (rc)
		trace_free(tr);
	return rc;
}

void trace_free(struct trace *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		free(tr->s[i].t);
		free(tr->s[i].w);
	}
	free(tr->s);
	*tr = (struct trace){0};
}

double series_at(const struct series *s, double t)
{
	if (s->n == 0 || t < s->t[0] || t > s->t[s->n - 1])
		return 0;
	size_t lo = 0, hi = s->n - 1;
	while (hi - lo > 1) { /* the last sample at or before t */
		size_t mid = (lo + hi) / 2;
		if (s->t[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	if (s->t[hi] <= t)
		lo = hi;
	double w0 = s->w[lo];
	if (lo == s->n - 1 || s->t[lo] == t)
		return isnan(w0) ? 0 : w0;
	double w1 = s->w[lo + 1], f = (t - s->t[lo]) / (s->t[lo + 1] - s->t[lo]);
	if (isnan(w0) || isnan(w1))
		return 0;
	return w0 + f * (w1 - w0);
}

bool series_stacked(const struct series *s)
{
	return strcmp(s->total, "cpu") == 0 || strcmp(s->total, "dram") == 0 ||
	       strcmp(s->total, "gpu") == 0;
}
