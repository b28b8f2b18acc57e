/* SPDX-License-Identifier: MIT */
/*
 * Regions: boundary snapshots (begin, pause, resume..., end), settled at
 * the end, turned into energy, mean and peak power, state and uncertainty
 * per sensor, and totals by kind (totals.c). What happens between the
 * boundaries (failures, wraps, peak windows) comes from the samples
 * (region_sampler.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "region.h"
#include "sampler.h"

/* The records' layouts are frozen: ctypes and shared pages read them as they are. */
_Static_assert(sizeof(struct joules_region_sensor) == 608, "joules_region_sensor layout");
_Static_assert(sizeof(struct joules_region_total) == 560, "joules_region_total layout");
_Static_assert(sizeof(struct joules_region_result) == 2344, "joules_region_result layout");
_Static_assert(sizeof(struct joules_trace_point) == 48, "joules_trace_point layout");
_Static_assert(sizeof(struct joules_baseline) == 32, "joules_baseline layout");

/* joules_settle() makes a reading final within 1 s whatever happens. */
#define GIVE_UP_NS 1100000000ull
/* How long an end sleeps between looks at unsettled readings. */
#define SETTLE_NAP_NS 2000000ull

static struct jl_region *region_of(struct jl_regions *R, int id)
{
	if (!R || id < 0 || (size_t)id >= R->n_region || !R->region[id].used)
		return NULL;
	return &R->region[id];
}

static void release(struct jl_region *g)
{
	free(g->bounds);
	free(g->track);
	free(g->result);
	*g = (struct jl_region){0};
}

/* Read one more boundary snapshot; NULL when out of memory. */
static struct joules_reading *add_bound(joules_ctx *ctx, struct jl_region *g)
{
	size_t n = ctx->n_sensors;
	if (g->n_bounds == g->cap_bounds) {
		size_t cap = g->cap_bounds * 2;
		struct joules_reading *b = realloc(g->bounds, cap * (n ? n : 1) * sizeof *b);
		if (!b)
			return NULL;
		g->bounds = b;
		g->cap_bounds = cap;
	}
	struct joules_reading *r = g->bounds + g->n_bounds * n;
	jl_read_snapshot(ctx, r, n);
	g->n_bounds++;
	for (size_t i = 0; i < n; i++)
		jl_track_note(ctx, g, i, &r[i]);
	return r;
}

/* A free slot (grown when none); -1 when out of memory. */
static int new_slot(struct jl_regions *R)
{
	for (size_t k = 0; k < R->n_region; k++)
		if (!R->region[k].used)
			return (int)k;
	if (R->n_region >= INT32_MAX / 2)
		return -1;
	size_t cap = R->n_region ? 2 * R->n_region : 4;
	struct jl_region *p = realloc(R->region, cap * sizeof *p);
	if (!p)
		return -1;
	memset(p + R->n_region, 0, (cap - R->n_region) * sizeof *p);
	R->region = p;
	int k = (int)R->n_region;
	R->n_region = cap;
	return k;
}

JOULES_API int joules_region_begin(joules_ctx *ctx, const char *name, int *region)
{
	if (!ctx || !region)
		return JOULES_ERR_INVALID;
	*region = -1;
	int r = jl_fork_check(ctx, "joules_region_begin");
	if (r < 0)
		return r;
	struct jl_regions *R = jl_regions_get(ctx);
	if (!R)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_region_begin: out of memory");
	size_t n = ctx->n_sensors, m = n ? n : 1;
	pthread_mutex_lock(&R->lock);
	jl_sampler_measure_locked(ctx, R); /* before the region exists: it has no bound yet */
	int id = new_slot(R);
	struct jl_region *g = id >= 0 ? &R->region[id] : NULL;
	if (g) {
		*g = (struct jl_region){.cap_bounds = 4};
		g->bounds = calloc(g->cap_bounds * m, sizeof *g->bounds);
		g->track = calloc(m, sizeof *g->track);
		g->result = calloc(m, sizeof *g->result);
	}
	if (!g || !g->bounds || !g->track || !g->result) {
		if (g)
			release(g);
		pthread_mutex_unlock(&R->lock);
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_region_begin: out of memory");
	}
	g->used = true;
	snprintf(g->name, sizeof g->name, "%s", name ? name : "");
	/* A name cut short is cut between UTF-8 characters, not inside one. */
	size_t len = strlen(g->name);
	if (name && len < strlen(name))
		while (len && ((unsigned char)name[len] & 0xC0) == 0x80)
			g->name[--len] = '\0';
	g->begin_ns = g->span_ns = jl_now_ns();
	add_bound(ctx, g);
	for (size_t i = 0; i < n; i++) {
		g->track[i].ref = g->bounds[i];
		g->track[i].wraps = 0; /* a wrap before the region is not the region's */
	}
	pthread_mutex_unlock(&R->lock);
	jl_sampler_hold(ctx, +1); /* a running region is measured: until its end */
	*region = id;
	return 0;
}

JOULES_API int joules_region_pause(joules_ctx *ctx, int region)
{
	if (!ctx)
		return JOULES_ERR_INVALID;
	if (jl_fork_check(ctx, "joules_region_pause") < 0)
		return JOULES_ERR_FORKED;
	struct jl_regions *R = ctx->regions;
	int rc = JOULES_ERR_INVALID;
	jl_regions_lock(ctx);
	struct jl_region *g = region_of(R, region);
	if (g && !g->ended && !g->paused) {
		rc = add_bound(ctx, g) ? 0 : JOULES_ERR_NOMEM;
		if (rc == 0) {
			g->paused = true;
			g->end_ns = jl_now_ns();
		}
	}
	jl_regions_unlock(ctx);
	if (rc == JOULES_ERR_NOMEM)
		return jl_fail(ctx, rc, "joules_region_pause: out of memory");
	if (rc)
		return jl_fail(ctx, rc, "joules_region_pause: region %d is not running", region);
	return 0;
}

JOULES_API int joules_region_resume(joules_ctx *ctx, int region)
{
	if (!ctx)
		return JOULES_ERR_INVALID;
	if (jl_fork_check(ctx, "joules_region_resume") < 0)
		return JOULES_ERR_FORKED;
	struct jl_regions *R = ctx->regions;
	int rc = JOULES_ERR_INVALID;
	jl_regions_lock(ctx);
	struct jl_region *g = region_of(R, region);
	struct joules_reading *r = NULL;
	uint64_t now = 0;
	if (g && !g->ended && g->paused) {
		jl_sampler_measure_locked(ctx, R);
		/* Before the readings: the time active never starts after what they cover. */
		now = jl_now_ns();
		r = add_bound(ctx, g);
		rc = r ? 0 : JOULES_ERR_NOMEM;
	}
	if (r) {
		g->paused = false;
		g->paused_ns += now - g->end_ns;
		g->span_ns = now;
		for (size_t i = 0; i < ctx->n_sensors; i++) {
			struct jl_track *t = &g->track[i];
			t->ref = r[i];
			/* Time paused is no gap: nothing of it is counted. */
			t->failing = r[i].status != 0;
		}
	}
	jl_regions_unlock(ctx);
	if (rc == JOULES_ERR_NOMEM)
		return jl_fail(ctx, rc, "joules_region_resume: out of memory");
	if (rc)
		return jl_fail(ctx, rc, "joules_region_resume: region %d is not paused", region);
	return 0;
}

/* Settle a reading, or take it as it is (give_up); true while it is not final. */
static bool settle(joules_ctx *ctx, size_t i, struct joules_reading *r, bool give_up)
{
	if (!(give_up ? jl_settle_one(ctx, i, r) : jl_settle_waiting(ctx, i, r)))
		return false;
	if (give_up)
		r->flags &= ~JOULES_READING_PROVISIONAL;
	return !give_up;
}

/* Settle every reading the region's result depends on; how many are not final. */
static size_t settle_region(joules_ctx *ctx, struct jl_region *g, bool give_up)
{
	size_t n = ctx->n_sensors, pending = 0;
	for (size_t b = 0; b < g->n_bounds; b++)
		for (size_t i = 0; i < n; i++)
			pending += settle(ctx, i, &g->bounds[b * n + i], give_up);
	for (size_t i = 0; i < n; i++)
		if (g->track[i].has_last_ok)
			pending += settle(ctx, i, &g->track[i].last_ok, give_up);
	return pending;
}

/*
 * The bound on the error of a counter read raw (powercap, perf, hwmon
 * energy files) over one span: each end holds the value of the counter's
 * last update, up to one refresh interval old, so the difference is off by
 * at most the energy of one refresh interval at the highest power seen,
 * plus one step of the counter's resolution. Sensors whose readings are
 * estimates (provisional, or carrying their own bound: GPUs, power
 * integrated by the sampler) bound each reading themselves, and that bound
 * is used as it is.
 */
static uint64_t counter_bound(const struct jl_sensor *s, const struct jl_track *t, double peak_w)
{
	if (t->estimated)
		return 0;
	uint64_t res = s->pub.resolution_uj ? s->pub.resolution_uj : 1;
	return res + (uint64_t)(peak_w * (double)s->pub.refresh_us + 0.5);
}

static void set_reason(struct joules_region_sensor *o, int err, const char *fmt, const char *a)
{
	o->error = err;
	snprintf(o->reason, sizeof o->reason, fmt, a);
}

/* Sensor i's result over the region's spans. */
static void sensor_result(joules_ctx *ctx, const struct jl_regions *R, struct jl_region *g,
			  size_t i, struct joules_region_sensor *o)
{
	size_t n = ctx->n_sensors;
	const struct jl_sensor *s = &ctx->sensors[i];
	const struct jl_track *t = &g->track[i];
	*o = (struct joules_region_sensor){.refresh_us = s->pub.refresh_us, .wraps = t->wraps};
	if (t->wraps)
		o->flags |= JOULES_REGION_WRAPPED;
	if (g->bounds[i].status) {
		o->state = JOULES_REGION_UNREADABLE;
		set_reason(o, g->bounds[i].status, "%s", t->reason);
		return;
	}
	bool partial = false, reset = false;
	uint64_t unc = 0;
	unsigned spans = 0;
	for (size_t k = 0; k + 1 < g->n_bounds; k += 2) {
		const struct joules_reading *a = &g->bounds[k * n + i], *b = &g->bounds[(k + 1) * n + i];
		o->flags |= (a->flags | b->flags) & JOULES_READING_PROVISIONAL ? JOULES_REGION_PROVISIONAL
									    : 0;
		if (a->status) {
			partial = true;
			continue;
		}
		if (b->status) {
			partial = true;
			const struct joules_reading *l = &t->last_ok;
			if (!t->has_last_ok || l->time_ns < a->time_ns || l->time_ns > b->time_ns)
				continue;
			b = l;
			o->flags |= b->flags & JOULES_READING_PROVISIONAL ? JOULES_REGION_PROVISIONAL : 0;
		}
		if (a->resets != b->resets || b->energy_uj < a->energy_uj) {
			reset = true;
			break;
		}
		o->energy_uj += b->energy_uj - a->energy_uj;
		o->covered_ns += b->time_ns - a->time_ns;
		unc += s->backend->span_bound ? s->backend->span_bound(s, a, b)
					      : (uint64_t)a->uncertainty_uj + b->uncertainty_uj;
		spans++;
	}
	if (reset) {
		o->state = JOULES_REGION_RESET;
		o->energy_uj = o->covered_ns = 0;
		if (t->reset_why[0])
			set_reason(o, JOULES_ERR_RESET, "%s", t->reset_why);
		else
			set_reason(o, JOULES_ERR_RESET,
				   "%s: the counter was reset during the region (a driver reload?), "
				   "so its energy is not known; measure again",
				   s->pub.id);
		return;
	}
	/* A partial sensor with no good reading after its start measured nothing. */
	bool has_energy = spans > 0 && (!partial || o->covered_ns > 0);
	const struct joules_reading *last = &g->bounds[(g->n_bounds - 1) * n + i];
	if (partial && last->status) {
		/* Gone before the end: what ended it, not an earlier failure it recovered from. */
		o->state = JOULES_REGION_PARTIAL;
		set_reason(o, last->status, "%s", *s->error ? s->error : t->reason);
	} else if (partial) {
		o->state = JOULES_REGION_PARTIAL;
		set_reason(o, t->failed ? t->failed : JOULES_ERR_IO, "%s", t->reason);
	} else if (t->spanned && !t->gap) {
		/* Samples skipped and integrated across (JOULES_READING_GAP): no read failed. */
		o->state = JOULES_REGION_GAP;
		set_reason(o, 0, "%s", t->reason);
	} else if (t->gap) {
		o->state = JOULES_REGION_GAP;
		uint64_t wrap = s->pub.wrap_period_ns;
		if (wrap && t->max_gap_ns >= wrap) {
			has_energy = false;
			char why[JOULES_REASON_LEN];
			snprintf(why, sizeof why,
				 "%s: reads failed for %.1f s, longer than the counter's wrap period "
				 "(%.1f s), so a wrap may have gone unseen and the energy is not "
				 "known; first failure: %.300s",
				 s->pub.id, (double)t->max_gap_ns / 1e9, (double)wrap / 1e9, t->reason);
			set_reason(o, t->failed, "%s", why);
		} else {
			set_reason(o, t->failed, "%s", t->reason);
		}
	}
	/*
	 * A counter read raw that never moved over a region of more than
	 * JL_COUNTER_STUCK_REFRESHES of its refresh intervals is not counting (a
	 * VM's zone stuck at one value), as perf's dead counters are: never 0 J.
	 */
	uint64_t still_ns = (uint64_t)s->pub.refresh_us * 1000u * JL_COUNTER_STUCK_REFRESHES;
	if (has_energy && o->energy_uj == 0 && !t->estimated && s->pub.refresh_us &&
	    !(s->pub.flags & JOULES_SENSOR_INTEGRATED) && o->covered_ns > still_ns) {
		char why[JOULES_REASON_LEN];
		snprintf(why, sizeof why,
			 "%s: the counter stayed at one value for %.1f s, %u times its refresh "
			 "interval: it is not counting (common for zones a virtual machine or the "
			 "firmware exposes but does not implement)",
			 s->pub.id, (double)o->covered_ns / 1e9,
			 (unsigned)(o->covered_ns / 1000u / s->pub.refresh_us));
		o->state = JOULES_REGION_PARTIAL;
		set_reason(o, JOULES_ERR_NOT_COUNTING, "%s", why);
		has_energy = false;
	}
	if (!has_energy) {
		o->energy_uj = o->covered_ns = 0;
		return;
	}
	o->flags |= JOULES_REGION_HAS_ENERGY;
	/* W = µJ / µs */
	o->mean_w = o->covered_ns ? (double)o->energy_uj / ((double)o->covered_ns / 1e3) : 0;
	o->peak_w = t->peaked && t->peak_w > o->mean_w ? t->peak_w : o->mean_w;
	if (t->peaked)
		o->flags |= JOULES_REGION_PEAK_SAMPLED;
	o->uncertainty_uj = unc + spans * counter_bound(s, t, o->peak_w);
	const struct joules_baseline *idle = R->baseline ? &R->baseline[i] : NULL;
	if (idle && idle->error == 0) {
		double us = (double)o->covered_ns / 1e3;
		o->flags |= JOULES_REGION_HAS_IDLE;
		o->idle_w = idle->power_w;
		o->idle_uncertainty_w = idle->uncertainty_w;
		o->above_idle_uj = (int64_t)o->energy_uj - (int64_t)(idle->power_w * us + 0.5);
		o->above_idle_uncertainty_uj =
			o->uncertainty_uj + (uint64_t)(idle->uncertainty_w * us + 0.5);
	}
}

/* Settle (waiting up to wait_ms), compute, hand out; 0 final, 1 provisional. */
static int finish_locked(joules_ctx *ctx, struct jl_regions *R, int id, uint32_t wait_ms,
			 struct joules_region_result *out, struct joules_region_sensor *per,
			 size_t n_out)
{
	struct jl_region *g = &R->region[id];
	size_t n = ctx->n_sensors;
	uint64_t deadline = jl_now_ns() + (uint64_t)wait_ms * 1000000u;
	for (;;) {
		jl_drain_locked(ctx, R); /* samples before the end: peak windows */
		uint64_t now = jl_now_ns();
		size_t pending = settle_region(ctx, g, now - g->ended_at_ns >= GIVE_UP_NS);
		if (!pending || now >= deadline)
			break;
		uint64_t nap = deadline - now < SETTLE_NAP_NS ? deadline - now : SETTLE_NAP_NS;
		struct timespec ts = {.tv_nsec = (long)nap};
		pthread_mutex_unlock(&R->lock);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&R->lock);
	}
	const struct joules_reading *last = g->bounds + (g->n_bounds - 1) * n;
	bool provisional = false;
	for (size_t i = 0; i < n; i++) {
		jl_track_peak(ctx, R, g, i, &last[i]); /* the window up to the end */
		sensor_result(ctx, R, g, i, &g->result[i]);
		provisional |= (g->result[i].flags & JOULES_REGION_PROVISIONAL) != 0;
	}
	if (out) {
		*out = (struct joules_region_result){
			.begin_ns = g->begin_ns,
			.end_ns = g->end_ns,
			.duration_ns = g->end_ns - g->begin_ns - g->paused_ns,
			.paused_ns = g->paused_ns,
			.flags = provisional ? JOULES_REGION_PROVISIONAL : 0,
			.n_sensors = (uint32_t)n,
		};
		memcpy(out->name, g->name, sizeof out->name);
		joules_region_totals(ctx, NULL, g->result, n, out->totals);
	}
	if (per && n_out)
		memcpy(per, g->result, (n_out < n ? n_out : n) * sizeof *per);
	if (!provisional)
		release(g);
	return provisional ? 1 : 0;
}

JOULES_API int joules_region_end(joules_ctx *ctx, int region, uint32_t wait_ms,
				 struct joules_region_result *out,
				 struct joules_region_sensor *per_sensor, size_t n)
{
	if (!ctx || (n && !per_sensor))
		return JOULES_ERR_INVALID;
	if (jl_fork_check(ctx, "joules_region_end") < 0)
		return JOULES_ERR_FORKED;
	struct jl_regions *R = ctx->regions;
	jl_regions_lock(ctx);
	struct jl_region *g = region_of(R, region);
	int rc = g && !g->ended ? 0 : JOULES_ERR_INVALID;
	if (rc == 0 && !g->paused && !add_bound(ctx, g))
		rc = JOULES_ERR_NOMEM;
	if (rc == 0) {
		if (!g->paused)
			g->end_ns = jl_now_ns();
		g->ended = true;
		g->ended_at_ns = jl_now_ns();
		jl_sampler_hold(ctx, -1); /* its end was read: that lingers */
		rc = finish_locked(ctx, R, region, wait_ms, out, per_sensor, n);
	}
	jl_regions_unlock(ctx);
	if (rc == JOULES_ERR_NOMEM)
		return jl_fail(ctx, rc, "joules_region_end: out of memory");
	if (rc == JOULES_ERR_INVALID)
		return jl_fail(ctx, rc, "joules_region_end: no running region %d", region);
	return rc;
}

JOULES_API int joules_region_finish(joules_ctx *ctx, int region, uint32_t wait_ms,
				    struct joules_region_result *out,
				    struct joules_region_sensor *per_sensor, size_t n)
{
	if (!ctx || (n && !per_sensor))
		return JOULES_ERR_INVALID;
	if (jl_fork_check(ctx, "joules_region_finish") < 0)
		return JOULES_ERR_FORKED;
	struct jl_regions *R = ctx->regions;
	jl_regions_lock(ctx);
	struct jl_region *g = region_of(R, region);
	int rc = g && g->ended ? finish_locked(ctx, R, region, wait_ms, out, per_sensor, n)
			       : JOULES_ERR_INVALID;
	jl_regions_unlock(ctx);
	if (rc < 0)
		return jl_fail(ctx, rc, "joules_region_finish: region %d was not ended provisional",
			       region);
	return rc;
}
