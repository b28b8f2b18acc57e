/* SPDX-License-Identifier: MIT */
/*
 * The one line each benchmark prints per figure, for bench/run to collect:
 *   BENCH <TAB> row <TAB> value <TAB> unit <TAB> floor label <TAB> floor <TAB> target
 * and, for a figure this machine cannot take,
 *   BENCH-SKIP <TAB> row <TAB> target <TAB> why
 * `target` is "ratio OP X" (on value / floor), "value OP X" (on the figure
 * itself, in its unit) or "" for a figure reported without one; OP is one
 * of <=, <, >=, ==. The runner computes the ratio and whether it is met.
 */
#ifndef JOULES_BENCH_REPORT_H
#define JOULES_BENCH_REPORT_H

/* floor_label NULL: a figure without a floor (floor is then ignored). */
void bench_row(const char *row, double value, const char *unit, const char *floor_label,
	       double floor, const char *target);
void bench_skip(const char *row, const char *target, const char *why);

#endif
