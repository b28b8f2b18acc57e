/* SPDX-License-Identifier: MIT */
/* joules record's rows, from the library's trace: see record_rows.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "record_rows.h"
#include "text.h"

/* Points read from the library at a time. */
#define BATCH 256

struct record_sensor {
	uint64_t after_ns;   /* the end of the last window read */
	uint64_t uj;         /* energy of its windows so far, µJ */
	uint64_t good_end_ns; /* where its next window with energy starts; 0 before the first */
	uint64_t row_ns;     /* the time of its last row; 0 before the first */
	int total;           /* joules_total_of(), or -1 */
	bool measured;       /* a window had energy: its joules column holds a value */
	bool failing;        /* its last row was a failed read */
	bool gap_said;
	bool told;           /* its coming row's note is already said on stderr */
	char note[JOULES_REASON_LEN]; /* the note of its last row, written once per run */
};

int record_rows_init(struct record_rows *w, joules_ctx *ctx, FILE *f, const bool *selected,
		     uint64_t start_ns)
{
	size_t n = joules_sensor_count(ctx);
	*w = (struct record_rows){.ctx = ctx, .f = f, .selected = selected, .start_ns = start_ns,
				  .n = n, .buf_len = BATCH};
	w->s = calloc(n ? n : 1, sizeof *w->s);
	w->buf = calloc(BATCH, sizeof *w->buf);
	if (!w->s || !w->buf) {
		record_rows_free(w);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		w->s[i].total = joules_total_of(ctx, (const uint8_t *)selected, i);
	return 0;
}

void record_rows_free(struct record_rows *w)
{
	free(w->s);
	free(w->buf);
	*w = (struct record_rows){0};
}

/* ns as seconds with every digit: "12.000345678". */
static void seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static double since_start(const struct record_rows *w, uint64_t ns)
{
	return ns > w->start_ns ? (double)(ns - w->start_ns) / 1e9 : 0;
}

/* "what: why" into out, for a note; why may be "". */
static void say(char *out, size_t len, const char *what, const char *why)
{
	size_t used = strlen(out);
	if (used >= len - 1)
		return;
	snprintf(out + used, len - used, "%s%s%s%s", used ? "; " : "", what, *why ? ": " : "", why);
}

/* "joules record: ID WHAT at T s: WHY" on stderr: the note of sensor i's coming row. */
static void tell(struct record_rows *w, size_t i, double t, const char *what, const char *why)
{
	w->s[i].told = true;
	fputs("joules record: ", stderr);
	text_put(stderr, joules_sensor(w->ctx, i)->id);
	fprintf(stderr, " %s at %.3f s: ", what, t);
	text_put(stderr, why);
	fputc('\n', stderr);
}

/*
 * One row of sensor i ending at t_ns. A note is said when it differs from
 * the sensor's last row's (a failure that lasts says why once): in the note
 * column of a wide row, else on stderr unless said there already.
 */
static void row(struct record_rows *w, size_t i, uint64_t t_ns, const double *watts,
		uint64_t window_ns, const char *status, const char *note)
{
	const struct joules_sensor *js = joules_sensor(w->ctx, i);
	struct record_sensor *s = &w->s[i];
	FILE *f = w->f;
	bool new_note = strcmp(note, s->note) != 0;
	seconds(f, t_ns > w->start_ns ? t_ns - w->start_ns : 0);
	fputc(',', f);
	csv_field(f, js->id);
	fputc(',', f);
	csv_number(f, watts != NULL, watts ? *watts : 0);
	fputc(',', f);
	if (s->measured)
		fprintf(f, "%" PRIu64 ".%06" PRIu64, s->uj / 1000000u, s->uj % 1000000u);
	fputc(',', f);
	csv_field(f, s->total < 0 ? "" : joules_total_name(s->total));
	if (w->wide) {
		fputc(',', f);
		seconds(f, window_ns);
		fputc(',', f);
		csv_field(f, status);
		fputc(',', f);
		csv_field(f, js->name);
		fputc(',', f);
		csv_field(f, joules_kind_name(js->kind));
		fputc(',', f);
		csv_field(f, js->device);
		fputc(',', f);
		if (new_note)
			csv_field(f, note);
	} else if (new_note && *note && !s->told) {
		char what[80];
		snprintf(what, sizeof what, "(%s)", status);
		tell(w, i, since_start(w, t_ns), what, note);
	}
	fputc('\n', f);
	if (new_note)
		snprintf(s->note, sizeof s->note, "%s", note);
	s->told = false;
	s->row_ns = t_ns;
}

/* The row of a window with no energy: a failed read or a reset. */
static void empty_row(struct record_rows *w, size_t i, const struct joules_trace_point *p,
		      const char *why)
{
	struct record_sensor *s = &w->s[i];
	double t = since_start(w, p->time_ns);
	char note[JOULES_REASON_LEN] = "";
	if (p->flags & JOULES_TRACE_RESET) {
		say(note, sizeof note, "the counter was reset in this window", why);
		say(note, sizeof note, "its energy is unknown and left out of joules", "");
		tell(w, i, t, "was reset", note);
		row(w, i, p->time_ns, NULL, p->window_ns, "reset", note);
		s->good_end_ns = p->time_ns;
		return;
	}
	say(note, sizeof note, "the read failed", *why ? why : joules_strerror(p->status));
	if (!s->failing)
		tell(w, i, t, "failed", note);
	s->failing = true;
	row(w, i, p->time_ns, NULL, p->window_ns, "failed", note);
}

/* The row of a window with energy, its caveats in status and note. */
static void energy_row(struct record_rows *w, size_t i, const struct joules_trace_point *p,
		       const char *why)
{
	struct record_sensor *s = &w->s[i];
	uint64_t start = p->time_ns - p->window_ns;
	char status[64] = "", note[JOULES_REASON_LEN] = "", spans[160];
	if (s->good_end_ns && start > s->good_end_ns) {
		/* Windows left the library's ring before they were read. */
		say(note, sizeof note, "windows of the trace were lost (joules record fell behind)",
		    "their energy is not in joules");
		row(w, i, start, NULL, start - s->good_end_ns, "lost", note);
		note[0] = '\0';
	}
	if (s->row_ns > start) {
		snprintf(spans, sizeof spans,
			 "from the last good reading at %.6f s, across the failed reads since: "
			 "their energy is in this row",
			 since_start(w, start));
		strcat(status, "spans");
		say(note, sizeof note, "the window spans failed reads", spans);
	}
	if (p->flags & JOULES_TRACE_GAP) {
		strcat(status, *status ? "+gap" : "gap");
		say(note, sizeof note, "power samples failed in this window; integrated across them",
		    why);
		if (!s->gap_said)
			tell(w, i, since_start(w, p->time_ns), "had a gap", note);
		s->gap_said = true;
	}
	if (p->flags & JOULES_TRACE_CARRIED) {
		strcat(status, *status ? "+carried" : "carried");
		say(note, sizeof note,
		    "a settled reading came below energy already written: the difference is taken "
		    "from this window (and the next ones if needed), never from rows written",
		    "");
	}
	s->uj += p->energy_uj;
	s->measured = true;
	s->failing = false;
	s->good_end_ns = p->time_ns;
	row(w, i, p->time_ns, &p->power_w, p->window_ns, *status ? status : "ok", note);
}

static void point(struct record_rows *w, size_t i, const struct joules_trace_point *p)
{
	char why[JOULES_REASON_LEN] = "";
	if (p->status || (p->flags & (JOULES_TRACE_GAP | JOULES_TRACE_RESET)))
		joules_trace_reason(w->ctx, i, p->sample, why, sizeof why);
	if (p->status)
		empty_row(w, i, p, why);
	else
		energy_row(w, i, p, why);
}

void record_rows_write(struct record_rows *w, uint64_t until_ns)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!w->selected[i])
			continue;
		int got;
		do {
			if (w->s[i].row_ns >= until_ns)
				break;
			got = joules_trace(w->ctx, i, w->s[i].after_ns, w->buf, w->buf_len);
			for (int k = 0; k < got && w->s[i].row_ns < until_ns; k++) {
				point(w, i, &w->buf[k]);
				w->s[i].after_ns = w->buf[k].time_ns;
			}
		} while (got == (int)w->buf_len);
	}
}

bool record_rows_done(const struct record_rows *w, uint64_t end_ns)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->selected[i] && w->s[i].row_ns < end_ns)
			return false;
	return true;
}
