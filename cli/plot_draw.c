/* SPDX-License-Identifier: MIT */
/*
 * The figure: the sensors that add to the cpu, dram and gpu totals stacked
 * as filled bands (disjoint domains, so the top of the stack is their total
 * power), the others (cores inside packages, psys around everything) as
 * lines over them, marked regions shaded behind, axes in s and W, a legend.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_axes.h"
#include "plot_draw.h"

#define MARGIN_LEFT 80
#define MARGIN_RIGHT 250
#define MARGIN_TOP 64
#define MARGIN_BOTTOM 56
#define FONT "sans-serif"

/* Tableau 10: distinct, and readable by most colour-blind readers. */
static const double palette[][3] = {
	{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
	{0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
	{0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
	{0.090, 0.745, 0.812},
};
#define N_COLOURS (sizeof palette / sizeof palette[0])

static void colour(cairo_t *cr, size_t i, double alpha)
{
	const double *c = palette[i % N_COLOURS];
	cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The times at which the stack is evaluated: every sample of a stacked series. */
static double *stack_times(const struct trace *tr, size_t *n)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < tr->n; i++)
		total += series_stacked(&tr->s[i]) ? tr->s[i].n : 0;
	double *t = malloc((total ? total : 1) * sizeof *t);
	if (!t)
		return NULL;
	for (size_t i = 0; i < tr->n; i++)
		if (series_stacked(&tr->s[i]))
			for (size_t j = 0; j < tr->s[i].n; j++)
				t[k++] = tr->s[i].t[j];
	qsort(t, k, sizeof *t, cmp_double);
	size_t u = 0;
	for (size_t j = 0; j < k; j++)
		if (u == 0 || t[j] != t[u - 1])
			t[u++] = t[j];
	*n = u;
	return t;
}

static void text(cairo_t *cr, double x, double y, double size, const char *s, double align)
{
	cairo_text_extents_t e;
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - align * e.x_advance, y);
	cairo_show_text(cr, s);
}

struct frame {
	struct axis x, y;
	double *times; /* of the stack */
	size_t n_times;
	double *base;  /* running stack height at each time */
};

static double highest(const struct plot *p, const struct frame *f)
{
	double top = 0, sum;
	for (size_t k = 0; k < f->n_times; k++) {
		sum = 0;
		for (size_t i = 0; i < p->trace->n; i++)
			if (series_stacked(&p->trace->s[i]))
				sum += series_at(&p->trace->s[i], f->times[k]);
		top = fmax(top, sum);
	}
	for (size_t i = 0; i < p->trace->n; i++)
		for (size_t j = 0; j < p->trace->s[i].n; j++)
			if (!isnan(p->trace->s[i].w[j]))
				top = fmax(top, p->trace->s[i].w[j]);
	return top;
}

static void draw_marks(cairo_t *cr, const struct plot *p, const struct frame *f)
{
	for (size_t m = 0; m < p->n_marks; m++) {
		double x0 = axis_px(&f->x, fmax(p->marks[m].start, f->x.lo));
		double x1 = axis_px(&f->x, fmin(p->marks[m].end, f->x.hi));
		if (x1 <= x0)
			continue;
		cairo_set_source_rgba(cr, 0.95, 0.80, 0.20, 0.25);
		cairo_rectangle(cr, x0, f->y.px_hi, x1 - x0, f->y.px_lo - f->y.px_hi);
		cairo_fill(cr);
		if (p->marks[m].label) {
			cairo_set_source_rgb(cr, 0.45, 0.35, 0.05);
			text(cr, (x0 + x1) / 2, f->y.px_hi + 14, 11, p->marks[m].label, 0.5);
		}
	}
}

static void draw_axes(cairo_t *cr, const struct frame *f)
{
	char buf[32];
	cairo_set_line_width(cr, 1);
	for (double v = f->x.lo; v <= f->x.hi + f->x.step / 2; v += f->x.step) {
		double x = round(axis_px(&f->x, v)) + 0.5;
		cairo_set_source_rgb(cr, 0.90, 0.90, 0.90);
		cairo_move_to(cr, x, f->y.px_hi);
		cairo_line_to(cr, x, f->y.px_lo);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		cairo_move_to(cr, x, f->y.px_lo);
		cairo_line_to(cr, x, f->y.px_lo + 5);
		cairo_stroke(cr);
		axis_label(&f->x, v, buf, sizeof buf);
		text(cr, x, f->y.px_lo + 19, 12, buf, 0.5);
	}
	for (double v = f->y.lo; v <= f->y.hi + f->y.step / 2; v += f->y.step) {
		double y = round(axis_px(&f->y, v)) + 0.5;
		cairo_set_source_rgb(cr, 0.90, 0.90, 0.90);
		cairo_move_to(cr, f->x.px_lo, y);
		cairo_line_to(cr, f->x.px_hi, y);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		cairo_move_to(cr, f->x.px_lo - 5, y);
		cairo_line_to(cr, f->x.px_lo, y);
		cairo_stroke(cr);
		axis_label(&f->y, v, buf, sizeof buf);
		text(cr, f->x.px_lo - 8, y + 4, 12, buf, 1);
	}
	cairo_rectangle(cr, f->x.px_lo + 0.5, f->y.px_hi + 0.5, f->x.px_hi - f->x.px_lo,
			f->y.px_lo - f->y.px_hi);
	cairo_stroke(cr);
	text(cr, (f->x.px_lo + f->x.px_hi) / 2, f->y.px_lo + 42, 13, "time (s)", 0.5);
	cairo_save(cr);
	cairo_translate(cr, 22, (f->y.px_lo + f->y.px_hi) / 2);
	cairo_rotate(cr, -M_PI / 2);
	text(cr, 0, 0, 13, "power (W)", 0.5);
	cairo_restore(cr);
}

/* One stacked band: from base up by the series, then base moves up. */
static void draw_band(cairo_t *cr, const struct series *s, size_t c, struct frame *f)
{
	size_t n = f->n_times;
	if (n == 0)
		return;
	cairo_move_to(cr, axis_px(&f->x, f->times[0]), axis_px(&f->y, f->base[0]));
	for (size_t k = 0; k < n; k++)
		cairo_line_to(cr, axis_px(&f->x, f->times[k]),
			      axis_px(&f->y, f->base[k] + series_at(s, f->times[k])));
	for (size_t k = n; k-- > 0;)
		cairo_line_to(cr, axis_px(&f->x, f->times[k]), axis_px(&f->y, f->base[k]));
	cairo_close_path(cr);
	colour(cr, c, 0.55);
	cairo_fill(cr);
	for (size_t k = 0; k < n; k++)
		f->base[k] += series_at(s, f->times[k]);
}

/* A series as a line; a failed sample (NaN) breaks it. */
static void draw_line(cairo_t *cr, const struct series *s, const struct frame *f)
{
	bool pen = false;
	for (size_t j = 0; j < s->n; j++) {
		if (isnan(s->w[j])) {
			pen = false;
			continue;
		}
		double x = axis_px(&f->x, s->t[j]), y = axis_px(&f->y, s->w[j]);
		if (pen)
			cairo_line_to(cr, x, y);
		else
			cairo_move_to(cr, x, y);
		pen = true;
	}
	cairo_stroke(cr);
}

static void draw_series(cairo_t *cr, const struct plot *p, struct frame *f)
{
	const struct trace *tr = p->trace;
	cairo_save(cr);
	cairo_rectangle(cr, f->x.px_lo, f->y.px_hi, f->x.px_hi - f->x.px_lo, f->y.px_lo - f->y.px_hi);
	cairo_clip(cr);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	for (size_t i = 0; i < tr->n; i++)
		if (series_stacked(&tr->s[i]))
			draw_band(cr, &tr->s[i], i, f);
	if (f->n_times) { /* the stack's top: the total of cpu, dram and gpu */
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		cairo_set_line_width(cr, 2.5);
		cairo_move_to(cr, axis_px(&f->x, f->times[0]), axis_px(&f->y, f->base[0]));
		for (size_t k = 1; k < f->n_times; k++)
			cairo_line_to(cr, axis_px(&f->x, f->times[k]), axis_px(&f->y, f->base[k]));
		cairo_stroke(cr);
	}
	for (size_t i = 0; i < tr->n; i++) {
		if (series_stacked(&tr->s[i]))
			continue;
		static const double dash[] = {6, 3};
		/* Inside another sensor (empty total): dashed; a total of its own: solid. */
		cairo_set_dash(cr, dash, tr->s[i].total[0] ? 0 : 2, 0);
		cairo_set_line_width(cr, 2);
		colour(cr, i, 1);
		draw_line(cr, &tr->s[i], f);
	}
	cairo_restore(cr);
}

static void legend(cairo_t *cr, const struct plot *p, const struct frame *f)
{
	const struct trace *tr = p->trace;
	double x = f->x.px_hi + 20, y = f->y.px_hi + 8;
	char buf[128];
	cairo_set_font_size(cr, 12);
	if (f->n_times) {
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		cairo_set_line_width(cr, 2.5);
		cairo_move_to(cr, x, y + 6);
		cairo_line_to(cr, x + 18, y + 6);
		cairo_stroke(cr);
		text(cr, x + 26, y + 10, 12, "total (stacked)", 0);
		y += 22;
	}
	for (size_t i = 0; i < tr->n; i++, y += 22) {
		const struct series *s = &tr->s[i];
		if (series_stacked(s)) {
			colour(cr, i, 0.55);
			cairo_rectangle(cr, x, y, 18, 12);
			cairo_fill(cr);
		} else {
			static const double dash[] = {4, 2};
			cairo_set_dash(cr, dash, s->total[0] ? 0 : 2, 0);
			colour(cr, i, 1);
			cairo_set_line_width(cr, 2);
			cairo_move_to(cr, x, y + 6);
			cairo_line_to(cr, x + 18, y + 6);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
		}
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		snprintf(buf, sizeof buf, "%.40s  %.1f J", s->id, s->joules);
		text(cr, x + 26, y + 10, 12, buf, 0);
	}
}

static void title(cairo_t *cr, const struct plot *p)
{
	const struct trace *tr = p->trace;
	char buf[160];
	double stacked = 0;
	for (size_t i = 0; i < tr->n; i++)
		if (series_stacked(&tr->s[i]))
			stacked += tr->s[i].joules;
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	text(cr, MARGIN_LEFT, 28, 17, p->title, 0);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	snprintf(buf, sizeof buf, "%zu sensors over %.2f s; stacked total (cpu + dram + gpu) %.2f J",
		 tr->n, tr->t_max - tr->t_min, stacked);
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	text(cr, MARGIN_LEFT, 48, 12, buf, 0);
}

void plot_draw(cairo_t *cr, const struct plot *p)
{
	struct frame f = {0};
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	f.times = stack_times(p->trace, &f.n_times);
	f.base = calloc(f.n_times ? f.n_times : 1, sizeof *f.base);
	if (!f.times || !f.base)
		f.n_times = 0; /* out of memory: lines only, still a figure */
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	axis_init(&f.x, p->trace->t_min < 0 ? p->trace->t_min : 0, p->trace->t_max, 10,
		  MARGIN_LEFT, p->width - MARGIN_RIGHT);
	axis_init(&f.y, 0, highest(p, &f) * 1.05, 6, p->height - MARGIN_BOTTOM, MARGIN_TOP);
	draw_marks(cr, p, &f);
	draw_axes(cr, &f);
	draw_series(cr, p, &f);
	legend(cr, p, &f);
	title(cr, p);
	free(f.times);
	free(f.base);
}
