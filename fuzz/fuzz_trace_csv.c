/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the trace CSV that `joules plot` reads (cli/trace.c),
 * without cairo. The input is a whole trace file, read through a FILE as
 * plot reads it, into a few bins so that the grid widens often. Checks what
 * the reader promises: a refusal leaves the trace empty and names a reason;
 * an accepted trace has finite times in order (t_min ≤ t_max), every id
 * found once, every sample in exactly one bin at a time within the rows'
 * range, and every bin's mean power between its lowest and highest.
 *
 * Build (Debian clang): clang -g -O1 -D_GNU_SOURCE
 *   -fsanitize=fuzzer,address,undefined -Iinclude -Ilib
 *   fuzz/fuzz_trace_csv.c cli/trace.c cli/trace_label.c lib/utf8.c -lm
 * Seeds: fuzz/corpus/trace_csv/.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/trace.h"
#include "../cli/trace_label.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BINS 16

static void check(const struct trace *tr)
{
	uint64_t samples = 0;
	if (!(tr->t_min <= tr->t_max) || !isfinite(tr->t_min) || !isfinite(tr->t_max) || tr->n == 0 ||
	    tr->n > TRACE_MAX_SERIES)
		abort();
	for (size_t i = 0; i < tr->n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(tr->s[i].id, tr->s[j].id) == 0)
				abort(); /* one series per id */
		for (size_t k = 0; k < tr->n_bins; k++) {
			const struct bin *b = &tr->s[i].bins[k];
			samples += b->n + b->gaps;
			if (b->n + b->gaps && !(b->t >= tr->t_min && b->t <= tr->t_max))
				abort();
			if (b->n && !(b->w_min <= b->w && b->w <= b->w_max))
				abort();
		}
		if (!tr->s[i].label || strlen(tr->s[i].label) > TRACE_LABEL_MAX)
			abort(); /* a legend name, and a short one */
	}
	if (samples != tr->rows)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0; /* fmemopen needs a byte; an empty file is a seed of its own */
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	struct trace tr;
	struct trace_error err;
	if (trace_read(f, BINS, &tr, &err) == 0) {
		check(&tr);
		trace_free(&tr);
	} else if (tr.n || tr.s || !err.why[0]) {
		abort(); /* refused: nothing kept, and a reason */
	}
	fclose(f);
	return 0;
}
