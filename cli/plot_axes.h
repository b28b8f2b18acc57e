/* SPDX-License-Identifier: MIT */
/* Axis scales with round-numbered ticks. */
#ifndef JOULES_CLI_PLOT_AXES_H
#define JOULES_CLI_PLOT_AXES_H

struct axis {
	double lo, hi;       /* data range shown */
	double px_lo, px_hi; /* where it lands on the page */
	double step;         /* between ticks: 1, 2 or 5 × 10^k */
};

/* An axis over [lo, hi] widened to whole ticks, about `ticks` of them. */
void axis_init(struct axis *a, double lo, double hi, int ticks, double px_lo, double px_hi);
double axis_px(const struct axis *a, double v);
/* Tick label: as many decimals as the step needs. */
void axis_label(const struct axis *a, double v, char *buf, unsigned len);

#endif
