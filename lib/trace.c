/* SPDX-License-Identifier: MIT */
/* The windows of a sensor's power trace, made from its final readings: see region.h. */
#include "region.h"

/*
 * The window that final reading r of a sensor closes. A failed reading
 * gives a point with its status and no energy; the next good one spans it
 * from the last good reading, so a counter loses nothing. The energy never
 * goes back: a settled reading below what the trace already gave (a GPU's
 * estimate refined between settles) gives 0 and the difference is taken
 * from the next windows (JOULES_TRACE_CARRIED), so the cumulative sum of
 * the points only rises and each point's power is its energy over its
 * window. The first good reading after the sensor slept (opens) makes no
 * window in the same reset epoch: one across the sleep would show its mean
 * as one sample's power.
 */
static bool trace_point(struct jl_stream *st, const struct joules_reading *r, bool opens,
			struct joules_trace_point *p)
{
	if (r->status) {
		uint64_t from = st->has_prev && st->prev_ns < r->time_ns ? st->prev_ns : r->time_ns;
		p->window_ns = r->time_ns - from;
		p->status = r->status;
		return true;
	}
	if (!st->has_last || r->time_ns <= st->last.time_ns)
		return false; /* the first good reading opens the trace */
	if (opens && r->resets == st->last.resets)
		return false;
	p->window_ns = r->time_ns - st->last.time_ns;
	p->flags = (r->flags & JOULES_READING_WRAPPED ? JOULES_TRACE_WRAPPED : 0) |
		   (r->flags & JOULES_READING_GAP ? JOULES_TRACE_GAP : 0);
	if (r->resets != st->last.resets) {
		p->status = JOULES_ERR_RESET;
		p->flags |= JOULES_TRACE_RESET;
		return true;
	}
	if (st->high_uj > st->last.energy_uj || r->energy_uj < st->last.energy_uj)
		p->flags |= JOULES_TRACE_CARRIED;
	p->energy_uj = r->energy_uj > st->high_uj ? r->energy_uj - st->high_uj : 0;
	p->power_w = (double)p->energy_uj / ((double)p->window_ns / 1e3);
	return true;
}

void jl_trace_add(struct jl_stream *st, uint32_t len, const struct joules_reading *r,
		  uint64_t sample, bool opens)
{
	struct joules_trace_point p = {.sample = sample, .time_ns = r->time_ns};
	bool had_last = st->has_last;
	if (trace_point(st, r, opens, &p) && st->trace) {
		st->trace[st->trace_next] = p;
		st->trace_next = (st->trace_next + 1) % len;
		if (st->trace_count < len)
			st->trace_count++;
	}
	st->prev_ns = r->time_ns;
	st->has_prev = true;
	if (r->status)
		return;
	/* A new reset epoch (or the first reading) starts the energy afresh. */
	if (!had_last || r->resets != st->last.resets || r->energy_uj > st->high_uj)
		st->high_uj = r->energy_uj;
	st->last = *r;
	st->has_last = true;
}
