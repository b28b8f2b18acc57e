/* SPDX-License-Identifier: MIT */
/* joules record's snapshots and the first failure of each sensor. */
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
		/* Half the wrap period: one tick late still leaves a margin. */
		uint64_t half = js->wrap_period_ns / 2;
		if (half && (!best || half < best))
			best = half;
	}
	return best;
}

int sampler_init(struct sampler *s, joules_ctx *ctx)
{
	size_t n = joules_sensor_count(ctx), m = n ? n : 1;
	*s = (struct sampler){.ctx = ctx, .n = n};
	s->first = calloc(m, sizeof *s->first);
	s->older = calloc(m, sizeof *s->older);
	s->prev = calloc(m, sizeof *s->prev);
	s->cur = calloc(m, sizeof *s->cur);
	s->failed = calloc(m, sizeof *s->failed);
	s->reasons = calloc(m, JOULES_REASON_LEN);
	if (!s->first || !s->older || !s->prev || !s->cur || !s->failed || !s->reasons) {
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
	free(s->failed);
	free(s->reasons);
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

void sampler_start(struct sampler *s)
{
	joules_read(s->ctx, s->first, s->n);
	for (size_t i = 0; i < s->n; i++) {
		s->failed[i] = 0;
		note(s, i, &s->first[i]);
	}
	memcpy(s->older, s->first, s->n * sizeof *s->first);
	memcpy(s->prev, s->first, s->n * sizeof *s->first);
	memcpy(s->cur, s->first, s->n * sizeof *s->first);
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

void sampler_tick(struct sampler *s)
{
	memcpy(s->older, s->prev, s->n * sizeof *s->prev);
	memcpy(s->prev, s->cur, s->n * sizeof *s->cur);
	joules_read(s->ctx, s->cur, s->n);
	s->samples++;
	/* Rows trail by a tick: the previous reading has settled by now. */
	settle(s, s->first, 0);
	settle(s, s->older, 0);
	settle(s, s->prev, 0);
	for (size_t i = 0; i < s->n; i++)
		note(s, i, &s->cur[i]);
}

void sampler_finish(struct sampler *s)
{
	settle(s, s->first, SETTLE_WAIT_NS);
	settle(s, s->older, SETTLE_WAIT_NS);
	settle(s, s->prev, SETTLE_WAIT_NS);
	settle(s, s->cur, SETTLE_WAIT_NS);
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
