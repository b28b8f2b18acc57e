/* SPDX-License-Identifier: MIT */
/*
 * A power trace as `joules record` writes it, read back for plotting in
 * memory bounded by the series, not the rows: each series keeps a fixed
 * number of bins (about two per pixel column of the figure) over one time
 * grid shared by all series. The grid starts at the first time read and
 * doubles its span (merging bins in pairs) whenever a row falls outside, so
 * rows may come in any order and any number. A bin keeps the count, mean
 * time and mean, lowest and highest power of its samples: the mean is what
 * the stacked bands show (the mean power over the column), lowest and
 * highest the envelope a line covers.
 *
 * No cairo here: the parser is fuzzed on its own (fuzz/fuzz_trace_csv.c).
 */
#ifndef JOULES_CLI_TRACE_H
#define JOULES_CLI_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * More sensors than this in one trace is not a trace joules wrote (a
 * two-socket machine with amd_energy has one per core: 258 for 2 × 128).
 */
#define TRACE_MAX_SERIES 1024
/* A longer line is not a trace row. */
#define TRACE_MAX_LINE (1u << 20)
/* Columns of a row at most (record --wide writes 11; more are not a trace). */
#define TRACE_MAX_FIELDS 16

struct bin {
	uint64_t n;    /* samples with a power */
	uint64_t gaps; /* samples where the sensor failed (empty watts) */
	double t;      /* mean time of all its samples, s */
	double w, w_min, w_max; /* mean, lowest, highest power of the n samples, W */
};

struct series {
	char *id;
	char *label;      /* short and readable: "GPU 0 H200", "package-0" (trace_label.h) */
	char *total;      /* the total it adds to, "" if none */
	struct bin *bins; /* trace.n_bins of them */
	double joules;    /* the last cumulative energy seen */
	uint64_t measured; /* rows with a power: 0 for a sensor never measured */
};

struct trace {
	struct series *s;
	size_t n, cap;
	size_t *index, index_cap; /* open addressing on the id: series number + 1, 0 empty */
	size_t n_bins;
	double lo, hi;       /* the grid: bin k covers lo + [k, k + 1) × (hi − lo) / n_bins */
	bool grid;           /* a first time was read: lo and hi hold */
	double t_min, t_max; /* over every row */
	size_t rows;
	/* Where the optional columns are (from the header), or -1. */
	int col_total, col_name, col_kind;
};

/* What went wrong reading a trace: the line (0 when none) and why. */
struct trace_error {
	unsigned long line;
	char why[192];
};

/*
 * Read a trace from f into tr with `bins` bins per series (≥ 2). Returns 0,
 * or -1 with *err set (tr is then empty). Every line must be valid UTF-8;
 * times and powers finite numbers. The header names the columns: the
 * first four are time_s,sensor,watts,joules; total, name and kind are
 * found by name wherever they are (the five columns 'joules record' writes
 * by default, or the eleven of 'joules record --wide'); others (window_s,
 * status, note...) are not needed to draw. A row without watts is a failed
 * sample.
 */
int trace_read(FILE *f, size_t bins, struct trace *tr, struct trace_error *err);
void trace_free(struct trace *tr);
/* Whether a series is part of the stacked total (cpu, dram or gpu). */
bool series_stacked(const struct series *s);

#endif
