/* SPDX-License-Identifier: MIT */
/* One measurement's snapshots: peaks, wraps and failures between first and last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sampler.h"

#define NS_PER_S 1e9
/* joules_settle() makes a reading final within 1 s whatever happens. */
#define SETTLE_WAIT_NS 1100000000ull

uint64_t sampler_max_interval_ns(const joules_ctx *ctx)
{
	uint64_t best = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++) {
		const struct joules_sensor *js = joules_sensor(ctx, i);
		/* An unreadable one is not polled (nor one refused as wrapping too fast). */
		if (!(js->flags & JOULES_SENSOR_READABLE))
			continue;
		/* Half the wrap period: one tick late still leaves a margin. */
		uint64_t half = js->wrap_period_ns / 2;
		if (half && (!best || half < best))
			best = half;
	}
	return best;
}

int sampler_init(struct sampler *s, joules_ctx *ctx, uint64_t interval_ns)
{
	size_t n = joules_sensor_count(ctx), m = n ? n : 1;
	*s = (struct sampler){.ctx = ctx, .n = n};
	/*
	 * A window much shorter than the tick (the last snapshot, taken when
	 * the command exits just after a tick) would turn one counter update
	 * into a false spike, so peaks are taken over at least half a tick.
	 */
	s->min_window_ns = interval_ns / 2;
	s->first = calloc(m, sizeof *s->first);
	s->older = calloc(m, sizeof *s->older);
	s->prev = calloc(m, sizeof *s->prev);
	s->cur = calloc(m, sizeof *s->cur);
	s->start = calloc(m, sizeof *s->start);
	s->good = calloc(m, sizeof *s->good);
	s->gaps = calloc(m, sizeof *s->gaps);
	s->spanned = calloc(m, sizeof *s->spanned);
	s->ref = calloc(m, sizeof *s->ref);
	s->peak_w = calloc(m, sizeof *s->peak_w);
	s->wraps = calloc(m, sizeof *s->wraps);
	s->failed = calloc(m, sizeof *s->failed);
	s->reasons = calloc(m, JOULES_REASON_LEN);
	s->reset_why = calloc(m, JOULES_REASON_LEN);
	if (!s->first || !s->older || !s->prev || !s->cur || !s->ref || !s->peak_w || !s->wraps ||
	    !s->failed || !s->reasons || !s->reset_why || !s->start || !s->good || !s->gaps ||
	    !s->spanned) {
		sampler_free(s);
		return JOULES_ERR_NOMEM;
	}
	return 0;
}

void sampler_free(struct sampler *s)
{
	free(s->first);
	free(s->older);
	free(s->prev);
	free(s->cur);
	free(s->start);
	free(s->good);
	free(s->gaps);
	free(s->spanned);
	free(s->ref);
	free(s->peak_w);
	free(s->wraps);
	free(s->failed);
	free(s->reasons);
	free(s->reset_why);
	*s = (struct sampler){0};
}

/* Note sensor i's failure once: the first one says what went wrong. */
static void note(struct sampler *s, size_t i, const struct joules_reading *r)
{
	if (r->status == 0 || s->failed[i])
		return;
	const char *msg = joules_sensor_error(s->ctx, i);
	s->failed[i] = r->status;
	snprintf(s->reasons + i * JOULES_REASON_LEN, JOULES_REASON_LEN, "%s",
		 *msg ? msg : joules_strerror(r->status));
}

/* Keep the library's words for a reset seen at reading r (they name the cause). */
static void note_reset(struct sampler *s, size_t i, const struct joules_reading *was,
		       const struct joules_reading *r)
{
	if (r->status || r->resets == was->resets)
		return;
	const char *msg = joules_sensor_error(s->ctx, i);
	snprintf(s->reset_why + i * JOULES_REASON_LEN, JOULES_REASON_LEN, "%s",
		 *msg ? msg : "the counter was reset (a driver reload?)");
}

void sampler_start(struct sampler *s)
{
	joules_read(s->ctx, s->first, s->n);
	for (size_t i = 0; i < s->n; i++) {
		s->peak_w[i] = -1;
		s->wraps[i] = 0;
		s->failed[i] = 0;
		s->reset_why[i * JOULES_REASON_LEN] = '\0';
		s->gaps[i] = 0;
		s->spanned[i] = 0;
		s->reasons[i * JOULES_REASON_LEN] = '\0';
		note(s, i, &s->first[i]);
	}
	memcpy(s->start, s->first, s->n * sizeof *s->first);
	memcpy(s->good, s->first, s->n * sizeof *s->first);
	memcpy(s->older, s->first, s->n * sizeof *s->first);
	memcpy(s->prev, s->first, s->n * sizeof *s->first);
	memcpy(s->cur, s->first, s->n * sizeof *s->first);
	memcpy(s->ref, s->first, s->n * sizeof *s->first);
	s->samples = 1;
}

/*
 * Let provisional readings (a GPU's last few ms, extrapolated until the
 * driver's samples covering them arrive) take their final values, waiting at
 * most wait_ns for that.
 */
static void settle(struct sampler *s, struct joules_reading *r, uint64_t wait_ns)
{
	struct timespec now, pause = {.tv_nsec = 5000000};
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t until = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec + wait_ns;
	while (joules_settle(s->ctx, r, s->n) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec >= until)
			break;
		nanosleep(&pause, NULL);
	}
}

/* Close a peak window at reading r when it is long enough and final. */
static void update_peak(struct sampler *s, size_t i, const struct joules_reading *r)
{
	uint64_t uj;
	if (r->time_ns - s->ref[i].time_ns < s->min_window_ns ||
	    (r->flags & JOULES_READING_PROVISIONAL) ||
	    (s->ref[i].flags & JOULES_READING_PROVISIONAL))
		return;
	if (joules_delta(&s->ref[i], r, &uj) == 0) {
		double w = (double)uj / 1e6 / ((double)(r->time_ns - s->ref[i].time_ns) / NS_PER_S);
		if (w > s->peak_w[i])
			s->peak_w[i] = w;
	}
	s->ref[i] = *r;
}

void sampler_tick(struct sampler *s)
{
	memcpy(s->older, s->prev, s->n * sizeof *s->prev);
	memcpy(s->prev, s->cur, s->n * sizeof *s->cur);
	joules_read(s->ctx, s->cur, s->n);
	s->samples++;
	/* Peaks trail by a tick: the previous reading has settled by now. */
	settle(s, s->first, 0);
	settle(s, s->start, 0);
	settle(s, s->good, 0);
	settle(s, s->ref, 0);
	settle(s, s->older, 0);
	settle(s, s->prev, 0);
	for (size_t i = 0; i < s->n; i++) {
		note(s, i, &s->cur[i]);
		note_reset(s, i, &s->good[i], &s->cur[i]);
		if (s->cur[i].status == 0) {
			if (s->start[i].status)
				s->start[i] = s->cur[i]; /* measured from here on */
			s->good[i] = s->cur[i];
			s->spanned[i] += !!(s->cur[i].flags & JOULES_READING_GAP);
			if ((s->cur[i].flags & JOULES_READING_GAP) && !s->failed[i])
				snprintf(s->reasons + i * JOULES_REASON_LEN, JOULES_REASON_LEN,
					 "%s", joules_sensor_error(s->ctx, i));
		} else if (s->start[i].status == 0) {
			s->gaps[i]++;
		}
		if (s->cur[i].flags & JOULES_READING_WRAPPED)
			s->wraps[i]++;
		update_peak(s, i, &s->prev[i]);
	}
}

void sampler_finish(struct sampler *s)
{
	settle(s, s->first, SETTLE_WAIT_NS);
	settle(s, s->start, SETTLE_WAIT_NS);
	settle(s, s->good, SETTLE_WAIT_NS);
	settle(s, s->ref, SETTLE_WAIT_NS);
	settle(s, s->older, SETTLE_WAIT_NS);
	settle(s, s->prev, SETTLE_WAIT_NS);
	settle(s, s->cur, SETTLE_WAIT_NS);
	for (size_t i = 0; i < s->n; i++)
		update_peak(s, i, &s->cur[i]);
}

bool sampler_watts(const struct joules_reading *a, const struct joules_reading *b,
		   double *watts)
{
	uint64_t uj;
	if (b->time_ns <= a->time_ns || joules_delta(a, b, &uj) < 0)
		return false;
	*watts = (double)uj / 1e6 / ((double)(b->time_ns - a->time_ns) / NS_PER_S);
	return true;
}

/* Seconds from the first snapshot to reading r. */
static double at(const struct sampler *s, size_t i, const struct joules_reading *r)
{
	return (double)(r->time_ns - s->first[i].time_ns) / NS_PER_S;
}

/*
 * Statuses that describe the sensor rather than a moment: a last reading
 * with one of them means the sensor measured nothing, not part of the run.
 */
static bool lasting(int status)
{
	return status == JOULES_ERR_NOT_COUNTING || status == JOULES_ERR_PERMISSION ||
	       status == JOULES_ERR_UNSUPPORTED;
}

/* What went wrong between a and b, or at the end: the result's note. */
static void write_note(const struct sampler *s, size_t i, const struct joules_reading *a,
		       const struct joules_reading *b, struct sensor_result *out)
{
	const char *why = s->reasons + i * JOULES_REASON_LEN;
	const struct joules_reading *last = &s->cur[i];
	int n = 0;
	if (a->time_ns != s->first[i].time_ns) {
		out->partial = true;
		n = snprintf(out->note, sizeof out->note, "measured from %.3f s on (the readings "
			     "before failed: %s)", at(s, i, a), why);
	} else if (last->status) {
		out->partial = true;
		n = snprintf(out->note, sizeof out->note, "partial: the energy up to its last good "
			     "reading, at %.3f s of %.3f s; then: %s", at(s, i, b),
			     at(s, i, last), joules_sensor_error(s->ctx, i));
	} else if (s->gaps[i]) {
		n = snprintf(out->note, sizeof out->note, "%u of %u readings failed (%s); the next "
			     "good reading spanned each gap", s->gaps[i], s->samples, why);
	}
	if (s->spanned[i] && n >= 0 && (size_t)n < sizeof out->note)
		snprintf(out->note + n, sizeof out->note - (size_t)n,
			 "%spower samples failed for a while (%s): integrated across the gap, "
			 "uncertainty ±%.3f J", n ? "; " : "",
			 *why ? why : "the driver refused them",
			 ((double)a->uncertainty_uj + b->uncertainty_uj) / 1e6);
}

void sampler_result(const struct sampler *s, size_t i, struct sensor_result *out)
{
	const struct joules_reading *a = &s->start[i], *b = &s->good[i], *last = &s->cur[i];
	uint64_t uj = 0;
	*out = (struct sensor_result){.wraps = s->wraps[i]};
	/* Nothing measured, or the sensor's state at the end says why: its last failure. */
	if (last->status && (a->status || lasting(last->status) || b->time_ns <= a->time_ns)) {
		const char *msg = joules_sensor_error(s->ctx, i);
		out->status = last->status;
		out->reason = *msg ? msg : joules_strerror(last->status);
		return;
	}
	if (a->status || b->time_ns <= a->time_ns)
		out->status = s->failed[i] ? s->failed[i] : JOULES_ERR_IO;
	else
		out->status = joules_delta(a, b, &uj);
	if (out->status == JOULES_ERR_RESET && s->reset_why[i * JOULES_REASON_LEN])
		out->reason = s->reset_why + i * JOULES_REASON_LEN;
	else if (out->status == JOULES_ERR_RESET)
		out->reason = "the counter was reset during the measurement (a driver reload?), "
			      "so its energy is not known; measure again";
	else if (out->status)
		out->reason = s->failed[i] ? s->reasons + i * JOULES_REASON_LEN
					   : joules_strerror(out->status);
	if (out->status)
		return;
	write_note(s, i, a, b, out);
	out->energy_j = (double)uj / 1e6;
	out->seconds = (double)(b->time_ns - a->time_ns) / NS_PER_S;
	out->mean_w = out->seconds > 0 ? out->energy_j / out->seconds : 0;
	/*
	 * The peak is at least the mean: when no window was long enough (a
	 * very short command), or the short tail after the last window drew
	 * the most, the mean is the best bound known.
	 */
	out->peak_w = s->peak_w[i] > out->mean_w ? s->peak_w[i] : out->mean_w;
}
