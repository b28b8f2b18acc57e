/* SPDX-License-Identifier: MIT */
/*
 * Regions, the region sampler, traces and the idle baseline: the state
 * behind joules_region_*, joules_sampler_*, joules_trace and
 * joules_baseline_*, one per context, made on first use.
 *
 * Readings flow one way. Every sample (the sampler thread, or
 * joules_sample) reads all sensors; each reading goes to the running
 * regions at once (failures, wraps, the last good reading) and into its
 * sensor's queue of readings waiting to be final (a GPU's, ~20-60 ms);
 * final readings leave the queue in order for the trace and the regions'
 * peak windows. One mutex guards all of it and the counters' extension,
 * so joules_read and joules_settle take it too once it exists.
 */
#ifndef JOULES_REGION_H
#define JOULES_REGION_H

#include <pthread.h>
#include <stdbool.h>

#include "internal.h"

/* Readings of one sensor waiting to be final: > 60 ms at 1 ms ticks. */
#define JL_PENDING_LEN 128
/* Messages kept per sensor for joules_trace_reason(): the last few troubles. */
#define JL_REASONS 4

/* The library's message behind the samples first..last of one sensor. */
struct jl_reason {
	uint64_t first, last;
	char text[JOULES_REASON_LEN];
};

/* Per sensor: the sample stream. */
struct jl_stream {
	struct joules_reading pending[JL_PENDING_LEN];
	uint64_t pending_sample[JL_PENDING_LEN]; /* the sample each was taken in */
	bool pending_opens[JL_PENDING_LEN]; /* the first after a sleep: no window spans it */
	bool slept; /* the last sample left it out (jl_read_following) */
	unsigned head, count;
	struct joules_reading last; /* the last good final reading that left the queue */
	bool has_last;
	/*
	 * The energy the trace has given so far in this reset epoch: never less
	 * than last.energy_uj, more when a settled reading came lower than one
	 * before it (the difference is carried forward, never taken back).
	 */
	uint64_t high_uj;
	uint64_t prev_ns; /* the last final reading that left the queue, good or failed */
	bool has_prev;
	struct joules_trace_point *trace; /* trace_len points, a ring */
	unsigned trace_next, trace_count;
	/* Taken by each sample, under the lock: resets seen, and why readings failed. */
	uint32_t seen_resets;
	bool seen;
	struct jl_reason reason[JL_REASONS]; /* a ring; reason_next is the oldest */
	unsigned reason_next;
};

/* Per region and sensor. */
struct jl_track {
	struct joules_reading ref;     /* start of the open peak window */
	struct joules_reading last_ok; /* the last good reading while running */
	bool has_last_ok;
	double peak_w;
	bool peaked;
	uint64_t max_gap_ns; /* longest time between good readings around failed ones */
	bool gap;            /* a reading failed while running */
	bool failing;        /* ... and no good one came since */
	bool estimated;      /* a reading came provisional or with its own bound */
	uint32_t wraps;
	int failed; /* error of the first failed reading, or 0 */
	char reason[JOULES_REASON_LEN];
	bool spanned; /* a reading was flagged JOULES_READING_GAP (samples skipped) */
	char reset_why[JOULES_REASON_LEN]; /* why the counter was taken to reset, or "" */
};

struct jl_region {
	bool used, paused, ended;
	char name[JOULES_NAME_LEN];
	/*
	 * Boundary snapshots, n readings each: begin, pause, resume, pause...,
	 * end. Spans [2k, 2k+1] are the active ones.
	 */
	struct joules_reading *bounds;
	size_t n_bounds, cap_bounds;
	uint64_t begin_ns, end_ns, span_ns, paused_ns; /* span_ns: the active span's start */
	uint64_t ended_at_ns; /* when end() read its last snapshot, for the 1 s give-up */
	struct jl_track *track;
	struct joules_region_sensor *result; /* every sensor's, for the totals */
};

/* Region g runs now: begun, neither paused nor ended (an odd number of bounds). */
static inline bool jl_region_running(const struct jl_region *g)
{
	return g->used && g->n_bounds % 2;
}

struct jl_regions {
	pthread_mutex_t lock;
	struct jl_region *region;
	size_t n_region;
	struct jl_stream *stream;  /* one per sensor */
	struct joules_reading *tick; /* one snapshot, reused by every sample */
	bool *tick_read;             /* which sensors it read (jl_read_following) */
	uint64_t samples;            /* samples taken so far */
	struct joules_trace_point *trace_mem;
	uint32_t trace_len;
	uint64_t min_window_ns; /* peak windows are at least this long */
	/* The sampler thread. */
	pthread_t thread;
	pthread_cond_t wake;
	bool running, stop;
	uint64_t interval_ns;
	/*
	 * While no region runs the thread ticks every idle_ns (idle set by the
	 * thread): nothing is measured, so a trace window a second long costs a
	 * tenth of the wake-ups. A region's begin or resume ends it.
	 */
	uint64_t idle_ns;
	bool idle;
	/* The baseline: one per sensor, or NULL. */
	struct joules_baseline *baseline;
};

/* The context's state, made on first use; NULL when out of memory. */
struct jl_regions *jl_regions_get(joules_ctx *ctx);
/*
 * Free it (stops the sampler thread first). Called by joules_close(); in a
 * fork() child (forked) it only frees memory: the child has no thread to
 * join, and a lock held at the fork stays held.
 */
void jl_regions_free(joules_ctx *ctx, bool forked);
/* Take and drop the lock when the state exists (joules_read, joules_settle). */
void jl_regions_lock(const joules_ctx *ctx);
void jl_regions_unlock(const joules_ctx *ctx);

/* read.c, settle.c: what joules_read / joules_settle do, under the lock held. */
void jl_read_snapshot(joules_ctx *ctx, struct joules_reading *out, size_t n);
/*
 * The region sampler's read: the same without waking or keeping awake the
 * sensors sampled on demand (GPUs): while they sleep they are not read
 * (read[i] false), and their trace makes no window across the sleep.
 */
void jl_read_following(joules_ctx *ctx, struct joules_reading *out, bool *read, size_t n);
/* Settle one reading of sensor i; true while it stays provisional. */
bool jl_settle_one(joules_ctx *ctx, size_t i, struct joules_reading *r);
/*
 * The same for a caller that waits for it (joules_settle, a region's end):
 * while it stays provisional, the sampler is asked to fetch what covers it
 * soon (jl_sampler_hurry), not at its next interval.
 */
bool jl_settle_waiting(joules_ctx *ctx, size_t i, struct joules_reading *r);

/* region_sampler.c: one sample of every sensor, under the lock. */
void jl_sample_locked(joules_ctx *ctx, struct jl_regions *R);
/*
 * A region begins or resumes (lock held, before its readings): a sampler
 * ticking at the idle pace samples now, so the trace's next window starts
 * here and not at the last idle tick (up to a second before), and its
 * thread goes back to the interval. Nothing when none runs or it is not idle.
 */
void jl_sampler_measure_locked(joules_ctx *ctx, struct jl_regions *R);
/*
 * trace.c: the window that final reading r (of sample `sample`) closes,
 * into st's trace ring of len points when it has one; then r becomes the
 * stream's last reading when good. opens: r is the first after the sensor
 * slept (jl_read_following), so it closes no window. See struct
 * joules_trace_point.
 */
void jl_trace_add(struct jl_stream *st, uint32_t len, const struct joules_reading *r,
		  uint64_t sample, bool opens);
/* Move readings that became final out of every queue (trace, peaks). */
void jl_drain_locked(joules_ctx *ctx, struct jl_regions *R);
/* A reading taken while region g runs: failures, wraps, gaps. */
void jl_track_note(joules_ctx *ctx, struct jl_region *g, size_t i,
		   const struct joules_reading *r);
/* A final reading for region g's peak window of sensor i. */
void jl_track_peak(joules_ctx *ctx, const struct jl_regions *R, struct jl_region *g, size_t i,
		   const struct joules_reading *r);

#endif
