/* SPDX-License-Identifier: MIT */
/*
 * The rows of `joules record`: the library's power trace (joules_trace,
 * final readings only) of each selected sensor, one CSV row per window,
 * with its cumulative energy. The trace is the one source of a row's
 * numbers, so watts × window_s is the row's Δjoules and the joules column
 * never decreases (docs/design.md, "Traces").
 *
 * By default a row has the five columns every version of joules wrote
 * (RECORD_HEADER), which scripts count on; what a window's status and note
 * would say is said on stderr instead, once per run of the same note. Wide
 * rows (--wide) add the window's length, its status, the sensor's name,
 * kind and device, and the note.
 */
#ifndef JOULES_CLI_RECORD_ROWS_H
#define JOULES_CLI_RECORD_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "joules.h"

#define RECORD_HEADER "time_s,sensor,watts,joules,total"
#define RECORD_HEADER_WIDE RECORD_HEADER ",window_s,status,name,kind,device,note"

struct record_sensor; /* per selected sensor: where its rows are */

struct record_rows {
	joules_ctx *ctx;
	FILE *f;
	const bool *selected;
	uint64_t start_ns; /* time_s 0, CLOCK_MONOTONIC */
	struct record_sensor *s;
	struct joules_trace_point *buf;
	size_t n, buf_len;
	bool wide; /* the columns of RECORD_HEADER_WIDE, else of RECORD_HEADER */
};

/* Ready to write the rows of the selected sensors from start_ns on. 0, or -1 out of memory. */
int record_rows_init(struct record_rows *w, joules_ctx *ctx, FILE *f, const bool *selected,
		     uint64_t start_ns);
void record_rows_free(struct record_rows *w);

/*
 * Write the windows the trace holds that are not written yet, of each
 * sensor until it has a row at or after until_ns (UINT64_MAX: all).
 */
void record_rows_write(struct record_rows *w, uint64_t until_ns);

/*
 * Whether every selected sensor has a row for a reading taken at or after
 * end_ns (or has been failing since): the recording's last rows are out.
 */
bool record_rows_done(const struct record_rows *w, uint64_t end_ns);

#endif
