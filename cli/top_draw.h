/* SPDX-License-Identifier: MIT */
/*
 * `joules top` on a terminal, with ncurses: a title line, a header, each
 * group's total and its sensors' rows with a sparkline of recent power, a
 * line of keys; the help over it on demand. Columns give way as the
 * terminal narrows (kind, device, then the sparkline, then clipping), rows
 * that do not fit scroll, and nothing is drawn outside it however small.
 */
#ifndef JOULES_CLI_TOP_DRAW_H
#define JOULES_CLI_TOP_DRAW_H

#include <stdbool.h>

#include "top_model.h"

struct top_view {
	const struct top_model *m;
	size_t *rows;      /* scratch: m->n indices */
	enum top_sort sort;
	double interval_s; /* between readings */
	double elapsed_s;  /* since start or the last reset */
	bool paused, help;
	int scroll; /* lines of rows scrolled off the top; top_draw() keeps it in range */
	bool color; /* false under NO_COLOR or on a terminal without colours */
	bool utf8;  /* the locale's charset is UTF-8: block characters for the sparkline */
};

/* Once, after the screen is set up: colour pairs when v->color. */
void top_draw_setup(const struct top_view *v);
/* The whole screen, then refresh. */
void top_draw(struct top_view *v);

#endif
