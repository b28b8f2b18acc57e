/* SPDX-License-Identifier: MIT */
/*
 * The region sampler: the context's state for regions (made on first use),
 * the optional thread that samples every sensor each interval, the queues
 * that hold readings until they are final, the traces, and what a sample
 * tells the regions (failures, wraps, peak windows). See region.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "region.h"
#include "sampler.h"

struct jl_regions *jl_regions_get(joules_ctx *ctx)
{
	if (ctx->regions)
		return ctx->regions;
	size_t n = ctx->n_sensors ? ctx->n_sensors : 1;
	struct jl_regions *R = calloc(1, sizeof *R);
	pthread_condattr_t attr;
	if (!R)
		return NULL;
	R->stream = calloc(n, sizeof *R->stream);
	R->tick = calloc(n, sizeof *R->tick);
	R->tick_read = calloc(n, sizeof *R->tick_read);
	if (!R->stream || !R->tick || !R->tick_read || pthread_condattr_init(&attr)) {
		free(R->stream);
		free(R->tick);
		free(R->tick_read);
		free(R);
		return NULL;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&R->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&R->lock, NULL);
	ctx->regions = R;
	return R;
}

void jl_regions_lock(const joules_ctx *ctx)
{
	if (ctx->regions)
		pthread_mutex_lock(&ctx->regions->lock);
}

void jl_regions_unlock(const joules_ctx *ctx)
{
	if (ctx->regions)
		pthread_mutex_unlock(&ctx->regions->lock);
}

void jl_regions_free(joules_ctx *ctx, bool forked)
{
	struct jl_regions *R = ctx->regions;
	if (!R)
		return;
	if (!forked)
		joules_sampler_stop(ctx);
	for (size_t k = 0; k < R->n_region; k++) {
		free(R->region[k].bounds);
		free(R->region[k].track);
		free(R->region[k].result);
	}
	free(R->region);
	free(R->stream);
	free(R->tick);
	free(R->tick_read);
	free(R->trace_mem);
	free(R->baseline);
	if (!forked) {
		pthread_cond_destroy(&R->wake);
		pthread_mutex_destroy(&R->lock);
	}
	free(R);
	ctx->regions = NULL;
}

/* ---- what readings tell the regions ---- */

void jl_track_note(joules_ctx *ctx, struct jl_region *g, size_t i,
		   const struct joules_reading *r)
{
	struct jl_track *t = &g->track[i];
	if (r->status) {
		t->gap = t->failing = true;
		if (!t->failed) {
			const char *msg = ctx->sensors[i].error;
			t->failed = r->status;
			snprintf(t->reason, sizeof t->reason, "%s",
				 *msg ? msg : joules_strerror(r->status));
		}
		return;
	}
	if (r->flags & JOULES_READING_WRAPPED)
		t->wraps++;
	/* The library's words for a reset (lib/read.c) or a gap of skipped samples. */
	if (t->has_last_ok && r->resets != t->last_ok.resets && !t->reset_why[0])
		snprintf(t->reset_why, sizeof t->reset_why, "%s", ctx->sensors[i].error);
	if ((r->flags & JOULES_READING_GAP) && !t->spanned) {
		t->spanned = true;
		if (!t->failed)
			snprintf(t->reason, sizeof t->reason, "%s", ctx->sensors[i].error);
	}
	if ((r->flags & JOULES_READING_PROVISIONAL) || r->uncertainty_uj)
		t->estimated = true;
	if (t->failing && t->has_last_ok && r->time_ns - t->last_ok.time_ns > t->max_gap_ns)
		t->max_gap_ns = r->time_ns - t->last_ok.time_ns;
	t->failing = false;
	t->last_ok = *r;
	t->has_last_ok = true;
}

/* Region g is running at time ns for sensor i (not paused, not ended, begun). */
static bool running_at(const struct jl_region *g, size_t n, size_t i, uint64_t ns)
{
	if (!g->used || ns < g->track[i].ref.time_ns)
		return false;
	if (jl_region_running(g))
		return true;
	return ns <= g->bounds[(g->n_bounds - 1) * n + i].time_ns;
}

void jl_track_peak(joules_ctx *ctx, const struct jl_regions *R, struct jl_region *g, size_t i,
		   const struct joules_reading *r)
{
	struct jl_track *t = &g->track[i];
	uint64_t uj;
	if (!running_at(g, ctx->n_sensors, i, r->time_ns))
		return;
	jl_settle_one(ctx, i, &t->ref);
	if ((t->ref.flags | r->flags) & JOULES_READING_PROVISIONAL)
		return;
	if (r->time_ns <= t->ref.time_ns || r->time_ns - t->ref.time_ns < R->min_window_ns)
		return;
	if (joules_delta(&t->ref, r, &uj) == 0) {
		double w = (double)uj / ((double)(r->time_ns - t->ref.time_ns) / 1e3);
		if (!t->peaked || w > t->peak_w)
			t->peak_w = w;
		t->peaked = true;
	}
	t->ref = *r;
}

/* ---- the stream of samples ---- */

/* A reading of sensor i became final: the trace, then each region's peaks. */
static void offer(joules_ctx *ctx, struct jl_regions *R, size_t i, const struct joules_reading *r,
		  uint64_t sample, bool opens)
{
	jl_trace_add(&R->stream[i], R->trace_len, r, sample, opens);
	for (size_t k = 0; k < R->n_region; k++)
		jl_track_peak(ctx, R, &R->region[k], i, r);
}

/*
 * Keep the library's message behind a failed, reset or gap reading of
 * sample `sample` (the sampler writes the sensor's message, so it is
 * copied here, under the lock): one entry per run of the same message.
 */
static void note_reason(joules_ctx *ctx, struct jl_stream *st, size_t i,
			const struct joules_reading *r, uint64_t sample)
{
	bool reset = st->seen && r->status == 0 && r->resets != st->seen_resets;
	if (r->status == 0) {
		st->seen_resets = r->resets;
		st->seen = true;
	}
	if (!r->status && !reset && !(r->flags & JOULES_READING_GAP))
		return;
	const char *msg = ctx->sensors[i].error;
	struct jl_reason *newest = &st->reason[(st->reason_next + JL_REASONS - 1) % JL_REASONS];
	if (newest->last + 1 == sample && strcmp(newest->text, msg) == 0) {
		newest->last = sample;
		return;
	}
	struct jl_reason *e = &st->reason[st->reason_next];
	st->reason_next = (st->reason_next + 1) % JL_REASONS;
	e->first = e->last = sample;
	snprintf(e->text, sizeof e->text, "%s", msg);
}

void jl_drain_locked(joules_ctx *ctx, struct jl_regions *R)
{
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct jl_stream *st = &R->stream[i];
		while (st->count) {
			struct joules_reading *r = &st->pending[st->head];
			if (jl_settle_one(ctx, i, r))
				break;
			offer(ctx, R, i, r, st->pending_sample[st->head],
			      st->pending_opens[st->head]);
			st->head = (st->head + 1) % JL_PENDING_LEN;
			st->count--;
		}
	}
}

void jl_sample_locked(joules_ctx *ctx, struct jl_regions *R)
{
	size_t n = ctx->n_sensors;
	jl_read_following(ctx, R->tick, R->tick_read, n);
	R->samples++;
	for (size_t k = 0; k < R->n_region; k++) {
		struct jl_region *g = &R->region[k];
		if (!jl_region_running(g))
			continue;
		for (size_t i = 0; i < n; i++)
			if (R->tick_read[i])
				jl_track_note(ctx, g, i, &R->tick[i]);
	}
	for (size_t i = 0; i < n; i++) {
		struct jl_stream *st = &R->stream[i];
		if (!R->tick_read[i]) { /* asleep: nothing measures it */
			st->slept = true;
			continue;
		}
		note_reason(ctx, st, i, &R->tick[i], R->samples);
		if (st->count == JL_PENDING_LEN) { /* never final: let the oldest go */
			st->head = (st->head + 1) % JL_PENDING_LEN;
			st->count--;
		}
		unsigned at = (st->head + st->count) % JL_PENDING_LEN;
		st->pending[at] = R->tick[i];
		st->pending_sample[at] = R->samples;
		st->pending_opens[at] = st->slept;
		st->slept = false;
		st->count++;
	}
	jl_drain_locked(ctx, R);
}

JOULES_API int joules_sample(joules_ctx *ctx)
{
	if (!ctx)
		return JOULES_ERR_INVALID;
	int r = jl_fork_check(ctx, "joules_sample");
	if (r < 0)
		return r;
	struct jl_regions *R = jl_regions_get(ctx);
	if (!R)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_sample: out of memory");
	pthread_mutex_lock(&R->lock);
	jl_sample_locked(ctx, R);
	pthread_mutex_unlock(&R->lock);
	return 0;
}

/* ---- the thread ---- */

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
				 .tv_nsec = (long)(ns % 1000000000u)};
}

/* A region runs: something is measured. */
static bool measuring(const struct jl_regions *R)
{
	for (size_t k = 0; k < R->n_region; k++)
		if (jl_region_running(&R->region[k]))
			return true;
	return false;
}

static void *sampler_main(void *arg)
{
	joules_ctx *ctx = arg;
	struct jl_regions *R = ctx->regions;
	pthread_mutex_lock(&R->lock);
	uint64_t due = jl_now_ns();
	while (!R->stop) {
		jl_sample_locked(ctx, R);
		R->idle = !measuring(R);
		bool idle = R->idle;
		uint64_t step = idle ? R->idle_ns : R->interval_ns;
		uint64_t now = jl_now_ns();
		due += step;
		if (due <= now) /* fell behind: skip, don't burst */
			due = now + step;
		struct timespec at = to_timespec(due);
		while (!R->stop && pthread_cond_timedwait(&R->wake, &R->lock, &at) != ETIMEDOUT) {
			if (idle && !R->idle) { /* a region began and sampled: the interval from now */
				idle = false;
				due = jl_now_ns() + R->interval_ns;
				at = to_timespec(due);
			}
		}
	}
	pthread_mutex_unlock(&R->lock);
	return NULL;
}

void jl_sampler_measure_locked(joules_ctx *ctx, struct jl_regions *R)
{
	if (!R->idle) /* set only by a running thread, under the lock */
		return;
	jl_sample_locked(ctx, R);
	R->idle = false;
	pthread_cond_signal(&R->wake);
}

JOULES_API uint64_t joules_max_interval_ns(const joules_ctx *ctx)
{
	if (!ctx)
		return 0;
	uint64_t best = 0;
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		/* An unreadable sensor is not followed (nor one refused as wrapping too fast). */
		if (!(ctx->sensors[i].pub.flags & JOULES_SENSOR_READABLE))
			continue;
		uint64_t half = ctx->sensors[i].pub.wrap_period_ns / 2;
		if (half && (!best || half < best))
			best = half;
	}
	return best;
}

JOULES_API int joules_sampler_start(joules_ctx *ctx, uint32_t interval_us, uint32_t trace_len)
{
	if (!ctx)
		return JOULES_ERR_INVALID;
	int r = jl_fork_check(ctx, "joules_sampler_start");
	if (r < 0)
		return r;
	struct jl_regions *R = jl_regions_get(ctx);
	size_t n = ctx->n_sensors;
	if (!R)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_sampler_start: out of memory");
	joules_sampler_stop(ctx);
	struct joules_trace_point *mem = NULL;
	if (trace_len && n) {
		mem = calloc((size_t)trace_len * n, sizeof *mem);
		if (!mem)
			return jl_fail(ctx, JOULES_ERR_NOMEM,
				       "joules_sampler_start: out of memory for %u trace points "
				       "of %zu sensors; ask for fewer",
				       trace_len, n);
	}
	uint64_t interval = 0;
	if (interval_us) {
		interval = (uint64_t)(interval_us < JOULES_SAMPLER_MIN_US ? JOULES_SAMPLER_MIN_US
									  : interval_us) *
			   1000u;
		uint64_t most = joules_max_interval_ns(ctx);
		if (most && interval > most)
			interval = most;
	}
	pthread_mutex_lock(&R->lock);
	R->trace_mem = mem;
	R->trace_len = mem ? trace_len : 0;
	for (size_t i = 0; i < n; i++) {
		struct jl_stream *st = &R->stream[i];
		st->trace = mem ? mem + i * trace_len : NULL;
		st->trace_next = st->trace_count = 0;
	}
	/*
	 * A window much shorter than the interval (a region's end just after a
	 * sample) would turn one counter update into a false spike.
	 */
	R->min_window_ns = interval / 2;
	R->interval_ns = interval;
	/*
	 * Between regions: once a second, or the interval when longer; never
	 * past the wrap limit, which the interval is already within.
	 */
	uint64_t idle = (uint64_t)JOULES_SAMPLER_IDLE_US * 1000u, most = joules_max_interval_ns(ctx);
	if (idle < interval)
		idle = interval;
	R->idle_ns = most && idle > most ? most : idle;
	R->idle = false;
	R->stop = false;
	pthread_mutex_unlock(&R->lock);
	if (!interval)
		return 0;
	int e = pthread_create(&R->thread, NULL, sampler_main, ctx);
	if (e)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "pthread_create of the region sampler: %s",
			       strerror(e));
	R->running = true;
	return 0;
}

JOULES_API void joules_sampler_stop(joules_ctx *ctx)
{
	struct jl_regions *R = ctx ? ctx->regions : NULL;
	/* A fork() child has no thread to stop; its lock may be held forever. */
	if (!R || jl_fork_check(ctx, "joules_sampler_stop") < 0)
		return;
	if (R->running) {
		pthread_mutex_lock(&R->lock);
		R->stop = true;
		pthread_cond_signal(&R->wake);
		pthread_mutex_unlock(&R->lock);
		pthread_join(R->thread, NULL);
		R->running = false;
	}
	pthread_mutex_lock(&R->lock);
	free(R->trace_mem);
	R->trace_mem = NULL;
	R->trace_len = 0;
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		R->stream[i].trace = NULL;
		R->stream[i].trace_next = R->stream[i].trace_count = 0;
	}
	R->interval_ns = R->min_window_ns = R->idle_ns = 0;
	R->idle = false;
	pthread_mutex_unlock(&R->lock);
}

JOULES_API uint32_t joules_sampler_interval(const joules_ctx *ctx)
{
	if (!ctx || !ctx->regions || !ctx->regions->running)
		return 0;
	return (uint32_t)(ctx->regions->interval_ns / 1000u);
}

JOULES_API int joules_trace(joules_ctx *ctx, size_t sensor, uint64_t after_ns,
			    struct joules_trace_point *out, size_t n)
{
	if (!ctx || (!out && n))
		return JOULES_ERR_INVALID;
	if (sensor >= ctx->n_sensors)
		return JOULES_ERR_NO_SENSOR;
	int r = jl_fork_check(ctx, "joules_trace");
	if (r < 0)
		return r;
	struct jl_regions *R = ctx->regions;
	if (!R)
		return 0;
	size_t got = 0;
	pthread_mutex_lock(&R->lock);
	jl_drain_locked(ctx, R); /* what became final since the last sample */
	const struct jl_stream *st = &R->stream[sensor];
	unsigned len = R->trace_len, oldest = len ? (st->trace_next + len - st->trace_count) % len : 0;
	for (unsigned k = 0; st->trace && k < st->trace_count && got < n; k++) {
		const struct joules_trace_point *p = &st->trace[(oldest + k) % len];
		if (p->time_ns > after_ns)
			out[got++] = *p;
	}
	pthread_mutex_unlock(&R->lock);
	return (int)got;
}

JOULES_API int joules_trace_reason(joules_ctx *ctx, size_t sensor, uint64_t sample, char *buf,
				   size_t len)
{
	if (!ctx || !buf || !len)
		return JOULES_ERR_INVALID;
	if (sensor >= ctx->n_sensors)
		return JOULES_ERR_NO_SENSOR;
	int r = jl_fork_check(ctx, "joules_trace_reason");
	if (r < 0)
		return r;
	struct jl_regions *R = ctx->regions;
	buf[0] = '\0';
	if (!R)
		return 0;
	pthread_mutex_lock(&R->lock);
	const struct jl_stream *st = &R->stream[sensor];
	for (unsigned k = 0; k < JL_REASONS; k++) {
		const struct jl_reason *e = &st->reason[k];
		if (e->first && e->first <= sample && sample <= e->last) {
			snprintf(buf, len, "%s", e->text);
			break;
		}
	}
	pthread_mutex_unlock(&R->lock);
	return 0;
}
