/* SPDX-License-Identifier: MIT */
/*
 * Round tick steps (1, 2, 5 × 10^k), so labels read at a glance. Spans are
 * computed from halves (hi/2 − lo/2), which never overflow, and ticks are
 * counted, not stepped to: lo + step can equal lo at large magnitudes.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "plot_axes.h"

#define MAX_TICKS 200

static double clamp(double v)
{
	return fmin(fmax(v, -DBL_MAX), DBL_MAX);
}

/* The smallest 1, 2 or 5 × 10^k at least `raw`. */
static double nice_step(double raw)
{
	double mag = pow(10, floor(log10(raw))), f = raw / mag;
	return clamp((f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag);
}

void axis_init(struct axis *a, double lo, double hi, int ticks, double px_lo, double px_hi)
{
	lo = clamp(isnan(lo) ? 0 : lo);
	hi = clamp(isnan(hi) ? lo : hi);
	double m = fmax(fabs(lo), fabs(hi));
	if (!(hi > lo)) { /* a flat or single-point range still gets an axis */
		double d = fmax(1, m * 1e-6);
		if (lo <= DBL_MAX - d)
			hi = lo + d;
		else
			lo = hi - d;
	}
	/* Below ~1e-15 of the magnitude, doubles cannot place distinct ticks. */
	double raw = fmax(hi / ticks - lo / ticks, m * 8 * DBL_EPSILON);
	a->step = nice_step(fmax(raw, DBL_MIN));
	for (;;) {
		a->lo = clamp(floor(lo / a->step) * a->step);
		a->hi = clamp(ceil(hi / a->step) * a->step);
		double n = a->hi / a->step - a->lo / a->step;
		if (n <= MAX_TICKS) {
			a->ticks = (int)round(n) + 1;
			break;
		}
		a->step = nice_step(a->step * 1.5);
	}
	a->px_lo = px_lo;
	a->px_hi = px_hi;
}

double axis_tick(const struct axis *a, int k)
{
	return k == a->ticks - 1 ? a->hi : clamp(a->lo + k * a->step);
}

double axis_px(const struct axis *a, double v)
{
	double f = (v / 2 - a->lo / 2) / (a->hi / 2 - a->lo / 2);
	double px = a->px_lo + f * (a->px_hi - a->px_lo);
	return isnan(px) ? a->px_lo : fmin(fmax(px, -1e6), 1e6);
}

void axis_label(const struct axis *a, double v, char *buf, unsigned len)
{
	double m = fmax(fabs(a->lo), fabs(a->hi));
	if (fabs(v) < a->step * 1e-6)
		v = 0; /* no "-0" */
	if (m >= 1e9 || a->step < 1e-6) {
		/* Enough significant digits to tell neighbouring ticks apart. */
		int digits = (int)ceil(log10(fmax(m, a->step) / a->step)) + 1;
		snprintf(buf, len, "%.*g", digits < 1 ? 1 : digits > 17 ? 17 : digits, v);
		return;
	}
	int decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
	snprintf(buf, len, "%.*f", decimals, v);
}
