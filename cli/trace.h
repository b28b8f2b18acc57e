/* SPDX-License-Identifier: MIT */
/* A power trace as `joules record` writes it, read back for plotting. */
#ifndef JOULES_CLI_TRACE_H
#define JOULES_CLI_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/* One sensor's samples, in file order. watts is NaN where the sensor failed. */
struct series {
	char id[64];
	char total[16]; /* the total it adds to, "" if none */
	size_t n, cap;
	double *t, *w;
	double joules; /* the last cumulative energy seen */
};

struct trace {
	struct series *s;
	size_t n, cap;
	double t_min, t_max; /* over every row */
};

/*
 * Read a trace; on failure 0 is not returned and `err` says which line and
 * why (the message includes the path).
 */
int trace_read(const char *path, struct trace *tr, char *err, size_t errlen);
void trace_free(struct trace *tr);
/* Power of a series at time t: linear between samples, 0 outside or in a gap. */
double series_at(const struct series *s, double t);
/* Whether a series is part of the stacked total (cpu, dram or gpu). */
bool series_stacked(const struct series *s);

#endif
