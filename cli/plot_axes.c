/* SPDX-License-Identifier: MIT */
/* Round tick steps (1, 2, 5 × 10^k), so labels read at a glance. */
#include <math.h>
#include <stdio.h>

#include "plot_axes.h"

static double nice_step(double span, int ticks)
{
	double raw = span / ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void axis_init(struct axis *a, double lo, double hi, int ticks, double px_lo, double px_hi)
{
	if (!(hi > lo)) /* a flat or single-point range still gets an axis */
		hi = lo + 1;
	a->step = nice_step(hi - lo, ticks);
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step) * a->step;
	a->px_lo = px_lo;
	a->px_hi = px_hi;
}

double axis_px(const struct axis *a, double v)
{
	return a->px_lo + (v - a->lo) / (a->hi - a->lo) * (a->px_hi - a->px_lo);
}

void axis_label(const struct axis *a, double v, char *buf, unsigned len)
{
	int decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
	if (fabs(v) < a->step * 1e-6)
		v = 0; /* no "-0" */
	snprintf(buf, len, "%.*f", decimals, v);
}
