/* SPDX-License-Identifier: MIT */
/* `joules top` on a terminal; see top_draw.h. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "top_draw.h"
#include "top_text.h"

enum pair { PAIR_OK = 1, PAIR_BAD, PAIR_WAIT, PAIR_SPARK, PAIR_TITLE };

/* Column widths; 0 hides a column. */
struct layout {
	int name, kind, device, power, spark, energy, status;
};

#define NAME_MAX_W 24
#define KIND_W 12
#define DEVICE_MAX_W 16
#define POWER_W 9
#define ENERGY_W 12
#define STATUS_W 21 /* "failed: no permission" */
#define SPARK_MIN 8

void top_draw_setup(const struct top_view *v)
{
	if (!v->color)
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_OK, COLOR_GREEN, -1);
	init_pair(PAIR_BAD, COLOR_RED, -1);
	init_pair(PAIR_WAIT, COLOR_YELLOW, -1);
	init_pair(PAIR_SPARK, COLOR_CYAN, -1);
	init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
}

static attr_t color(const struct top_view *v, enum pair p)
{
	return v->color ? COLOR_PAIR(p) : A_NORMAL;
}

/* Columns taken by the visible columns and the spaces between them. */
static int used(const struct layout *l)
{
	int w = l->name;
	const int rest[] = {l->kind, l->device, l->power, l->spark, l->energy, l->status};
	for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++)
		w += rest[k] ? rest[k] + 1 : 0;
	return w;
}

/*
 * Widths that fit `cols`. The sparkline takes what is left; to keep it, kind
 * gives way first (the group line says much of it), then the device. When
 * even that leaves too little, the sparkline goes and they come back if
 * they fit. Status gets at least STATUS_W and is drawn to the right edge.
 */
static struct layout fit(const struct top_model *m, int cols)
{
	int name = top_text_name_width(m), device = top_text_device_width(m);
	struct layout l = {
		.name = name < NAME_MAX_W ? name : NAME_MAX_W,
		.kind = KIND_W,
		.device = device < DEVICE_MAX_W ? device : DEVICE_MAX_W,
		.power = POWER_W,
		.energy = ENERGY_W,
		.status = STATUS_W,
	};
	int full_device = l.device;
	for (int step = 0; step < 3; step++) {
		int spare = cols - used(&l) - 1;
		if (spare >= SPARK_MIN) {
			l.spark = spare > TOP_RING ? TOP_RING : spare;
			return l;
		}
		if (step == 0)
			l.kind = 0;
		else if (step == 1)
			l.device = 0;
	}
	l.kind = KIND_W;
	if (used(&l) > cols)
		l.kind = 0;
	l.device = full_device;
	if (used(&l) > cols)
		l.device = 0;
	return l;
}

/*
 * Text at (y, x), at most `width` columns and never past the screen's
 * right edge; right-aligned when `right`. Characters are one column each
 * (ASCII, or the sparkline's blocks): count them, not bytes.
 */
static void put(int y, int x, int width, bool right, attr_t attr, const char *text)
{
	if (y < 0 || y >= LINES || x >= COLS || width <= 0)
		return;
	if (x + width > COLS)
		width = COLS - x;
	int chars = 0;
	size_t bytes = 0;
	for (const char *p = text; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (chars == width)
			break;
		chars++;
		bytes = (size_t)(p - text) + 1;
		while (((unsigned char)p[1] & 0xc0) == 0x80) {
			p++;
			bytes++;
		}
	}
	attron(attr);
	mvaddnstr(y, right ? x + width - chars : x, text, (int)bytes);
	attroff(attr);
}

static void title(const struct top_view *v)
{
	char buf[256];
	snprintf(buf, sizeof buf, " joules top  every %g s  %.0f s since start  sort: %s%s",
		 v->interval_s, v->elapsed_s, top_sort_names[v->sort], v->paused ? "  PAUSED" : "");
	move(0, 0);
	attron(v->color ? color(v, PAIR_TITLE) : A_REVERSE);
	hline(' ', COLS);
	attroff(v->color ? color(v, PAIR_TITLE) : A_REVERSE);
	put(0, 0, COLS, false, v->color ? color(v, PAIR_TITLE) : A_REVERSE, buf);
}

/* x of each column after the name, in order; columns of width 0 take none. */
static int next_x(int x, int width)
{
	return width ? x + width + 1 : x;
}

static void header(const struct layout *l, int y)
{
	int x = 0;
	put(y, x, l->name, false, A_BOLD, "SENSOR");
	x = next_x(x, l->name);
	put(y, x, l->kind, false, A_BOLD, "KIND");
	x = next_x(x, l->kind);
	put(y, x, l->device, false, A_BOLD, "DEVICE");
	x = next_x(x, l->device);
	put(y, x, l->power, true, A_BOLD, "POWER W");
	x = next_x(x, l->power);
	put(y, x, l->spark, false, A_BOLD, "RECENT");
	x = next_x(x, l->spark);
	put(y, x, l->energy, true, A_BOLD, "ENERGY J");
	x = next_x(x, l->energy);
	put(y, x, COLS - x, false, A_BOLD, "STATUS");
}

/* The sparkline of sensor i, scaled to its highest recent power. */
static void sparkline(const struct top_view *v, size_t i, int y, int x, int width)
{
	static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[8] = {'_', '.', ',', '-', '=', '+', '*', '#'};
	float recent[TOP_RING];
	char line[TOP_RING * 3 + 1];
	size_t len = 0;
	top_model_recent(v->m, i, recent, (unsigned)width);
	float top = 0;
	for (int k = 0; k < width; k++)
		if (!isnan(recent[k]) && recent[k] > top)
			top = recent[k];
	for (int k = 0; k < width; k++) {
		if (isnan(recent[k])) {
			line[len++] = ' ';
			continue;
		}
		int level = top > 0 ? (int)lroundf(recent[k] / top * 7) : 0;
		level = level < 0 ? 0 : level > 7 ? 7 : level;
		if (v->utf8) {
			memcpy(line + len, blocks[level], 3);
			len += 3;
		} else {
			line[len++] = ascii[level];
		}
	}
	line[len] = '\0';
	put(y, x, width, false, color(v, PAIR_SPARK), line);
}

static attr_t state_color(const struct top_view *v, enum top_state state, enum top_gap gap)
{
	if (state == TOP_FAILED || state == TOP_UNREADABLE)
		return color(v, PAIR_BAD) | (v->color ? A_NORMAL : A_BOLD);
	if (state == TOP_WAITING || gap != TOP_GAP_NONE)
		return color(v, PAIR_WAIT);
	return color(v, PAIR_OK);
}

static void total_row(const struct top_view *v, const struct layout *l, int group, int y)
{
	char power[32] = "", energy[32] = "", status[64] = "";
	if (group != TOP_GROUP_OTHER) {
		const struct top_total *t = &v->m->totals[group];
		top_text_power(power, sizeof power, t->missing_power < t->sensors, t->power_w);
		top_text_energy(energy, sizeof energy, t->sensors > 0, t->energy_j);
		top_model_total_status(t, status, sizeof status);
	}
	int x = 0;
	put(y, x, l->name, false, A_BOLD, top_text_group(group));
	x = next_x(next_x(next_x(x, l->name), l->kind), l->device);
	put(y, x, l->power, true, A_BOLD, power);
	x = next_x(next_x(x, l->power), l->spark);
	put(y, x, l->energy, true, A_BOLD, energy);
	x = next_x(x, l->energy);
	put(y, x, COLS - x, false, A_BOLD, status);
}

static void sensor_row(const struct top_view *v, const struct layout *l, size_t i, int y)
{
	const struct joules_sensor *js = joules_sensor(v->m->ctx, i);
	const struct top_sensor *s = &v->m->s[i];
	char name[JOULES_NAME_LEN + 2], power[32], energy[32], status[64];
	snprintf(name, sizeof name, "  %s", js->name);
	top_text_power(power, sizeof power, s->have_power, s->power_w);
	top_text_energy(energy, sizeof energy, s->state != TOP_UNREADABLE && s->have_last,
			 s->energy_j);
	top_model_status(v->m, i, status, sizeof status);
	int x = 0;
	put(y, x, l->name, false, A_NORMAL, name);
	x = next_x(x, l->name);
	put(y, x, l->kind, false, A_NORMAL, joules_kind_name(js->kind));
	x = next_x(x, l->kind);
	put(y, x, l->device, false, A_NORMAL, js->device);
	x = next_x(x, l->device);
	put(y, x, l->power, true, A_NORMAL, power);
	x = next_x(x, l->power);
	if (l->spark)
		sparkline(v, i, y, x, l->spark);
	x = next_x(x, l->spark);
	put(y, x, l->energy, true, A_NORMAL, energy);
	x = next_x(x, l->energy);
	put(y, x, COLS - x, false, state_color(v, s->state, s->gap), status);
}

static void help(void)
{
	static const char *const lines[] = {
		"joules top: keys",
		"",
		"q      quit",
		"p      pause (or resume) the view",
		"r      reset energy since start",
		"s      next sort: kind, power, energy, name",
		"arrows, PgUp, PgDn, Home, End: scroll",
		"+ -    longer or shorter interval",
		"?      this help",
		"",
		"any key closes this help",
	};
	int n = (int)(sizeof lines / sizeof lines[0]), w = 46;
	int top = LINES > n + 2 ? (LINES - n - 2) / 2 : 0;
	int left = COLS > w + 2 ? (COLS - w - 2) / 2 : 0;
	for (int k = -1; k <= n; k++) {
		move(top + k + 1, left);
		if (top + k + 1 < LINES)
			for (int c = 0; c < w + 2 && left + c < COLS; c++)
				addch(' ' | A_REVERSE);
		if (k >= 0 && k < n)
			put(top + k + 1, left + 1, w, false, A_REVERSE, lines[k]);
	}
}

/* Lines the rows take: each sensor, and a total line where a group starts. */
static int count_lines(const struct top_view *v)
{
	int lines = 0, group = -2;
	for (size_t r = 0; r < v->m->n; r++) {
		int g = top_model_group(v->m, v->rows[r]);
		lines += g != group ? 2 : 1;
		group = g;
	}
	return lines;
}

void top_draw(struct top_view *v)
{
	erase();
	if (LINES < 1 || COLS < 1) {
		refresh();
		return;
	}
	struct layout l = fit(v->m, COLS);
	title(v);
	/* The keys' line only when rows keep most of the screen. */
	int last = LINES >= 8 ? LINES - 2 : LINES - 1;
	if (LINES >= 8)
		put(LINES - 1, 0, COLS, false, A_NORMAL,
		    "q quit  p pause  r reset  s sort  +/- interval  arrows scroll  ? help");
	header(&l, 1);
	top_model_order(v->m, v->sort, v->rows);
	/* Rows from line 2 to `last`; when they do not all fit, the last line
	 * says how many are hidden and the view scrolls. */
	int room = last - 1, lines = count_lines(v);
	int shown = lines > room ? room - 1 : room;
	int most = lines > room ? lines - shown : 0;
	if (shown < 0)
		shown = 0;
	v->scroll = v->scroll < 0 ? 0 : v->scroll > most ? most : v->scroll;
	int k = 0, y = 2, group = -2;
	for (size_t r = 0; r < v->m->n && k < v->scroll + shown; r++) {
		size_t i = v->rows[r];
		if (top_model_group(v->m, i) != group) {
			group = top_model_group(v->m, i);
			if (k++ >= v->scroll)
				total_row(v, &l, group, y++);
		}
		if (k < v->scroll + shown && k++ >= v->scroll)
			sensor_row(v, &l, i, y++);
	}
	if (lines > room && room > 0) {
		char more[96];
		snprintf(more, sizeof more, "(%d of %d lines above, %d below: arrow keys scroll)",
			 v->scroll, lines, lines - v->scroll - shown);
		put(last, 0, COLS, false, A_NORMAL, more);
	}
	if (!v->m->n && last >= 2)
		put(2, 0, COLS, false, A_NORMAL,
		    "(no energy sensors here: 'joules list' shows what was looked for)");
	if (v->help)
		help();
	refresh();
}
