/* SPDX-License-Identifier: MIT */
/*
 * The recent past of a sensor's energy estimate, so that a reading can be
 * settled after the fact (joules_settle) when the data covering a moment
 * arrives after it: NVIDIA's power samples tens of ms late, a hwmon power
 * file at the sampler's next tick. A ring of points (time, power integral,
 * estimate), one per sample, linear in between: the estimate at any covered
 * moment is fixed once recorded, so settling is exact and repeatable. Pure
 * arithmetic, no locking (the caller holds the sensor's lock).
 */
#ifndef JOULES_HISTORY_H
#define JOULES_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

/* ~40 s of NVIDIA's 20 ms samples; minutes of hwmon's. */
#define JL_HISTORY_LEN 2048

struct jl_history_point {
	uint64_t t_ns;   /* CLOCK_MONOTONIC */
	uint64_t ig_uj;  /* power integral */
	uint64_t est_uj; /* the energy estimate */
};

struct jl_history {
	struct jl_history_point pt[JL_HISTORY_LEN];
	unsigned next, n;
	/*
	 * Power comes as the mean over each window (NVIDIA's samples): take a
	 * window between a higher and a lower one as holding one step, and
	 * wait for the next window before placing a moment in the newest.
	 * false: flat between points (hwmon). Kept across jl_history_clear.
	 */
	bool steps;
};

void jl_history_clear(struct jl_history *h);
/* Append a point; a point not later than the last one is ignored. */
void jl_history_add(struct jl_history *h, struct jl_history_point p);
/* The latest point; false when empty. */
bool jl_history_last(const struct jl_history *h, struct jl_history_point *p);

enum jl_history_lookup {
	JL_HISTORY_FOUND,
	JL_HISTORY_LATER,   /* after the last point: not covered yet */
	JL_HISTORY_EARLIER, /* before the oldest point kept (or empty) */
};
/* The point at t_ns, interpolated between the two around it. */
enum jl_history_lookup jl_history_at(const struct jl_history *h, uint64_t t_ns,
				     struct jl_history_point *out);

/*
 * How far the estimate at t_ns (covered) may be off because the power is
 * known only as a mean per sample window: the distance to the nearer
 * window end times the largest change of power to a neighbouring window.
 * 0 in steady state; ~P x 10 ms across a load edge.
 */
uint64_t jl_history_spread(const struct jl_history *h, uint64_t t_ns);
/*
 * The highest power (µW) of the windows that overlap [t0_ns, t1_ns]; 0 when
 * the history does not reach back to t0_ns.
 */
uint64_t jl_history_peak_uw(const struct jl_history *h, uint64_t t0_ns, uint64_t t1_ns);

#endif
