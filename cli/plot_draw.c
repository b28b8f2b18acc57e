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
#include "text.h"

#define MARGIN_LEFT 80
#define MARGIN_RIGHT 250
#define MARGIN_TOP 64
#define MARGIN_BOTTOM 56
#define FONT "sans-serif"
/* The legend shrinks to fit the figure, down to these (px). */
#define LEGEND_MIN_ROW 9
#define LEGEND_MIN_FONT 6

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

struct frame {
	struct axis x, y;
	size_t n_cols;  /* bins where a stacked series has a sample */
	size_t *cols;   /* their numbers, ascending */
	double *col_t;  /* their time: the mean time of the stacked samples in them */
	double *base;   /* running stack height at each */
	double *value;  /* one stacked series at each */
};

static bool filled(const struct bin *b)
{
	return b->n + b->gaps > 0;
}

/* The bins where some stacked series has a sample, and their time. */
static int stack_columns(const struct trace *tr, struct frame *f)
{
	f->cols = malloc(tr->n_bins * sizeof *f->cols);
	f->col_t = malloc(tr->n_bins * sizeof *f->col_t);
	f->base = calloc(tr->n_bins, sizeof *f->base);
	f->value = malloc(tr->n_bins * sizeof *f->value);
	if (!f->cols || !f->col_t || !f->base || !f->value)
		return -1;
	for (size_t k = 0; k < tr->n_bins; k++) {
		double t = 0, count = 0;
		for (size_t i = 0; i < tr->n; i++) {
			const struct bin *b = &tr->s[i].bins[k];
			if (!series_stacked(&tr->s[i]) || !filled(b))
				continue;
			double c = (double)(b->n + b->gaps);
			count += c;
			t += (b->t - t) * (c / count); /* running mean */
		}
		if (count > 0) {
			f->cols[f->n_cols] = k;
			f->col_t[f->n_cols++] = t;
		}
	}
	return 0;
}

/*
 * The power of series s at every stack column, into f->value: its mean in
 * a bin where it has samples; between two of its bins, linear in time; 0
 * before its first sample, after its last, and next to a failed sample.
 */
static void stack_values(const struct trace *tr, const struct series *s, struct frame *f)
{
	const struct bin *b = s->bins;
	size_t scan = 0, last = SIZE_MAX, next = 0;
	for (size_t j = 0; j < f->n_cols; j++) {
		size_t k = f->cols[j];
		for (; scan < k; scan++)
			if (filled(&b[scan]))
				last = scan;
		if (filled(&b[k])) {
			f->value[j] = b[k].n ? b[k].w : 0;
			continue;
		}
		if (next <= k)
			for (next = k + 1; next < tr->n_bins && !filled(&b[next]); next++)
				;
		if (last == SIZE_MAX || next >= tr->n_bins || !b[last].n || !b[next].n ||
		    b[last].gaps || b[next].gaps) {
			f->value[j] = 0;
			continue;
		}
		double x = (f->col_t[j] / 2 - b[last].t / 2) / (b[next].t / 2 - b[last].t / 2);
		x = isfinite(x) ? fmin(fmax(x, 0), 1) : 0;
		f->value[j] = b[last].w * (1 - x) + b[next].w * x;
	}
}

/* Text from outside (ids, the title, labels) shown as cli/text.h says. */
static void text(cairo_t *cr, double x, double y, double size, const char *raw, double align)
{
	char s[512];
	text_show(raw, s, sizeof s);
	cairo_text_extents_t e;
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - align * e.x_advance, y);
	cairo_show_text(cr, s);
}


/* The highest power drawn: the stack's top or any series' highest sample. */
static double highest(const struct plot *p, struct frame *f)
{
	const struct trace *tr = p->trace;
	double top = 0;
	for (size_t i = 0; i < tr->n; i++) {
		if (f->n_cols && series_stacked(&tr->s[i])) {
			stack_values(tr, &tr->s[i], f);
			for (size_t j = 0; j < f->n_cols; j++) {
				f->base[j] += f->value[j];
				top = fmax(top, f->base[j]);
			}
		}
		for (size_t k = 0; k < tr->n_bins; k++)
			if (tr->s[i].bins[k].n)
				top = fmax(top, tr->s[i].bins[k].w_max);
	}
	if (f->n_cols)
		memset(f->base, 0, tr->n_bins * sizeof *f->base);
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
	for (int k = 0; k < f->x.ticks; k++) {
		double v = axis_tick(&f->x, k), x = round(axis_px(&f->x, v)) + 0.5;
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
	for (int k = 0; k < f->y.ticks; k++) {
		double v = axis_tick(&f->y, k), y = round(axis_px(&f->y, v)) + 0.5;
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
static void draw_band(cairo_t *cr, const struct trace *tr, const struct series *s, size_t c,
		      struct frame *f)
{
	size_t n = f->n_cols;
	if (n == 0)
		return;
	stack_values(tr, s, f);
	cairo_move_to(cr, axis_px(&f->x, f->col_t[0]), axis_px(&f->y, f->base[0]));
	for (size_t j = 0; j < n; j++)
		cairo_line_to(cr, axis_px(&f->x, f->col_t[j]),
			      axis_px(&f->y, f->base[j] + f->value[j]));
	for (size_t j = n; j-- > 0;)
		cairo_line_to(cr, axis_px(&f->x, f->col_t[j]), axis_px(&f->y, f->base[j]));
	cairo_close_path(cr);
	colour(cr, c, 0.55);
	cairo_fill(cr);
	for (size_t j = 0; j < n; j++)
		f->base[j] += f->value[j];
}

/*
 * A series as a line through the mean of each bin, covering in each the
 * range from its lowest to its highest sample; a failed sample breaks it.
 */
static void draw_line(cairo_t *cr, const struct trace *tr, const struct series *s,
		      const struct frame *f)
{
	bool pen = false;
	for (size_t k = 0; k < tr->n_bins; k++) {
		const struct bin *b = &s->bins[k];
		if (!b->n) {
			pen = pen && !b->gaps;
			continue;
		}
		double x = axis_px(&f->x, b->t), y = axis_px(&f->y, b->w);
		if (b->w_min < b->w_max) {
			double lo = axis_px(&f->y, b->w_min), hi = axis_px(&f->y, b->w_max);
			if (pen)
				cairo_line_to(cr, x, lo);
			else
				cairo_move_to(cr, x, lo);
			cairo_line_to(cr, x, hi);
			cairo_line_to(cr, x, y);
		} else if (pen) {
			cairo_line_to(cr, x, y);
		} else {
			cairo_move_to(cr, x, y);
		}
		pen = !b->gaps;
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
			draw_band(cr, tr, &tr->s[i], i, f);
	if (f->n_cols) { /* the stack's top: the total of cpu, dram and gpu */
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		cairo_set_line_width(cr, 2.5);
		cairo_move_to(cr, axis_px(&f->x, f->col_t[0]), axis_px(&f->y, f->base[0]));
		for (size_t j = 1; j < f->n_cols; j++)
			cairo_line_to(cr, axis_px(&f->x, f->col_t[j]), axis_px(&f->y, f->base[j]));
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
		draw_line(cr, tr, &tr->s[i], f);
	}
	cairo_restore(cr);
}

/* A number of any size, readable: fixed decimals up to a billion, else exponent. */
static void amount(char *buf, size_t len, const char *fmt_small, double v, const char *unit)
{
	if (fabs(v) < 1e9)
		snprintf(buf, len, fmt_small, v, unit);
	else
		snprintf(buf, len, "%.3e %s", v, unit);
}

/* The swatch of series i: a filled box when stacked, else its line. */
static void swatch(cairo_t *cr, const struct series *s, size_t i, double x, double y, double h)
{
	if (series_stacked(s)) {
		colour(cr, i, 0.55);
		cairo_rectangle(cr, x, y, 18, h);
		cairo_fill(cr);
		return;
	}
	static const double dash[] = {4, 2};
	cairo_set_dash(cr, dash, s->total[0] ? 0 : 2, 0);
	colour(cr, i, 1);
	cairo_set_line_width(cr, 2);
	cairo_move_to(cr, x, y + h / 2);
	cairo_line_to(cr, x + 18, y + h / 2);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

/* Legend text at (x, y), shrunk from `size` until it fits `room` pixels. */
static void fitted(cairo_t *cr, double x, double y, double size, double room, const char *raw)
{
	char s[512];
	text_show(raw, s, sizeof s);
	cairo_text_extents_t e;
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &e);
	if (e.x_advance > room && e.x_advance > 0)
		size = fmax(LEGEND_MIN_FONT, size * room / e.x_advance);
	text(cr, x, y, size, raw, 0);
}

/*
 * The legend, inside the figure: each sensor by its short name (trace_label.h)
 * and its energy, the rows shrunk to fit the height (down to a smallest
 * size, then "+N more"), each text shrunk to fit the width. Sensors never
 * measured come last, in grey, said so, without a swatch.
 */
static void legend(cairo_t *cr, const struct plot *p, const struct frame *f)
{
	const struct trace *tr = p->trace;
	double x = f->x.px_hi + 20, y = f->y.px_hi + 8, room = p->width - (x + 26) - 6;
	size_t entries = tr->n + (f->n_cols ? 1 : 0);
	double row = fmin(22, (p->height - 8 - y) / (double)(entries ? entries : 1));
	row = fmax(row, LEGEND_MIN_ROW);
	size_t fit = (size_t)((p->height - 8 - y) / row), shown = 0;
	double font = fmin(12, row * 0.6);
	char buf[320];
	if (f->n_cols) {
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		cairo_set_line_width(cr, 2.5);
		cairo_move_to(cr, x, y + row * 0.3);
		cairo_line_to(cr, x + 18, y + row * 0.3);
		cairo_stroke(cr);
		fitted(cr, x + 26, y + font * 0.85, font, room, "total (stacked)");
		y += row;
		shown++;
	}
	for (int never = 0; never < 2; never++) {
		for (size_t i = 0; i < tr->n; i++) {
			const struct series *s = &tr->s[i];
			if ((s->measured == 0) != never)
				continue;
			if (shown + 1 == fit && shown + 1 < entries) {
				snprintf(buf, sizeof buf, "+%zu more", entries - shown);
				cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
				fitted(cr, x + 26, y + font * 0.85, font, room, buf);
				return;
			}
			char energy[48];
			if (never) {
				cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
				snprintf(buf, sizeof buf, "%s: never measured", s->label);
			} else {
				swatch(cr, s, i, x, y, row * 0.6);
				cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
				amount(energy, sizeof energy, "%.1f %s", s->joules, "J");
				snprintf(buf, sizeof buf, "%s  %s", s->label, energy);
			}
			fitted(cr, x + 26, y + font * 0.85, font, room, buf);
			y += row;
			shown++;
		}
	}
}

static void title(cairo_t *cr, const struct plot *p)
{
	const struct trace *tr = p->trace;
	char buf[200], span[48], total[48];
	double stacked = 0;
	size_t never = 0;
	for (size_t i = 0; i < tr->n; i++) {
		if (series_stacked(&tr->s[i]))
			stacked += tr->s[i].joules;
		never += tr->s[i].measured == 0;
	}
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	char shown[512];
	text(cr, MARGIN_LEFT, 28, 17, text_show_cut(p->title, shown, sizeof shown, 100), 0);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	amount(span, sizeof span, "%.2f %s", 2 * (tr->t_max / 2 - tr->t_min / 2), "s");
	amount(total, sizeof total, "%.2f %s", stacked, "J");
	char unmeasured[48] = "";
	if (never)
		snprintf(unmeasured, sizeof unmeasured, " (%zu never measured)", never);
	snprintf(buf, sizeof buf, "%zu sensors%s over %s; stacked total (cpu + dram + gpu) %s",
		 tr->n, unmeasured, span, total);
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	text(cr, MARGIN_LEFT, 48, 12, buf, 0);
}

size_t plot_columns(double width)
{
	return width > MARGIN_LEFT + MARGIN_RIGHT ? (size_t)(width - MARGIN_LEFT - MARGIN_RIGHT) : 1;
}

void plot_draw(cairo_t *cr, const struct plot *p)
{
	struct frame f = {0};
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	if (stack_columns(p->trace, &f) < 0)
		f.n_cols = 0; /* out of memory: lines only, still a figure */
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	axis_init(&f.x, p->trace->t_min < 0 ? p->trace->t_min : 0, p->trace->t_max, 10,
		  MARGIN_LEFT, p->width - MARGIN_RIGHT);
	axis_init(&f.y, 0, highest(p, &f) * 1.05, 6, p->height - MARGIN_BOTTOM, MARGIN_TOP);
	draw_marks(cr, p, &f);
	draw_axes(cr, &f);
	draw_series(cr, p, &f);
	legend(cr, p, &f);
	title(cr, p);
	free(f.cols);
	free(f.col_t);
	free(f.base);
	free(f.value);
}
