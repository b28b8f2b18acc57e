/* SPDX-License-Identifier: MIT */
/* Axis scales with round-numbered ticks, for any finite range. */
#ifndef JOULES_CLI_PLOT_AXES_H
#define JOULES_CLI_PLOT_AXES_H

struct axis {
	double lo, hi;       /* data range shown */
	double px_lo, px_hi; /* where it lands on the page */
	double step;         /* between ticks: 1, 2 or 5 × 10^k */
	int ticks;           /* how many, from lo to hi */
};

/*
 * An axis over [lo, hi] widened to whole ticks, about `ticks` of them (and
 * never more than a few hundred). Any finite range works: a flat one is
 * widened, and the step is never below what doubles can tell apart at the
 * range's magnitude (times like 1e16 s that differ by 2 s).
 */
void axis_init(struct axis *a, double lo, double hi, int ticks, double px_lo, double px_hi);
/* Value of tick k (0 ≤ k < ticks). */
double axis_tick(const struct axis *a, int k);
/* Where v lands, kept within a million pixels of the page. */
double axis_px(const struct axis *a, double v);
/* Tick label: as many digits as the step needs. */
void axis_label(const struct axis *a, double v, char *buf, unsigned len);

#endif
