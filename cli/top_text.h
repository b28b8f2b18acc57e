/* SPDX-License-Identifier: MIT */
/*
 * `joules top` as plain text: the cells every view shares (power, energy,
 * labels) and a whole frame for `joules top --once`, which needs no
 * terminal.
 */
#ifndef JOULES_CLI_TOP_TEXT_H
#define JOULES_CLI_TOP_TEXT_H

#include <stdio.h>

#include "top_model.h"

/* "12.34" W, or "-" when there is none. */
void top_text_power(char *buf, size_t len, bool have, double watts);
/* "123.456" J, or "-" for a sensor that never read. */
void top_text_energy(char *buf, size_t len, bool have, double joules);
/* A group's label: "cpu total", ..., "other". */
const char *top_text_group(int group);
/* Widest name of a sensor and widest device among m's sensors. */
int top_text_name_width(const struct top_model *m);
int top_text_device_width(const struct top_model *m);

/*
 * One frame: a title line, a header, every group's total then its rows
 * (names indented), then the reason of every failed or unreadable sensor.
 * 0, or -1 when it could not be written.
 */
int top_text_frame(FILE *f, const struct top_model *m, enum top_sort sort, double interval_s,
		   double elapsed_s);

#endif
