/* SPDX-License-Identifier: MIT */
/* Drawing a power trace with cairo. */
#ifndef JOULES_CLI_PLOT_DRAW_H
#define JOULES_CLI_PLOT_DRAW_H

#include <cairo.h>

#include "trace.h"

/* A region to shade: --mark START:END[:LABEL]. */
struct mark {
	double start, end;
	const char *label;
};

struct plot {
	const struct trace *trace;
	const struct mark *marks;
	size_t n_marks;
	const char *title;
	double width, height;
};

/* Pixel columns of the plot area in a figure `width` pixels wide. */
size_t plot_columns(double width);
/* Draw the whole figure on cr (any surface, of width × height). */
void plot_draw(cairo_t *cr, const struct plot *p);

#endif
