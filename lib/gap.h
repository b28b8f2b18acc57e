/* SPDX-License-Identifier: MIT */
/*
 * A failed sample is a gap, not a dead sensor: for sensors a sampler thread
 * integrates (hwmon power, NVML power), a failure that a later sample may
 * not repeat is skipped and the next good sample spans it (the integral's
 * trapezoid runs across the gap). The gap is flagged on readings
 * (JOULES_READING_GAP) and counted in their uncertainty. What stays wrong
 * (a device gone, an error repeated for JL_GAP_MAX_SAMPLES samples) is an
 * error again. Pure bookkeeping, no locking (the caller holds the sensor's
 * lock), tested on its own.
 */
#ifndef JOULES_GAP_H
#define JOULES_GAP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A transient failure repeated this many samples in a row is reported: a
 * driver busy for longer is not "a moment" (5 s at hwmon's 100 ms).
 */
#define JL_GAP_MAX_SAMPLES 50u

struct jl_gap {
	unsigned failed;   /* failed samples in a row (the open gap), 0: none */
	uint32_t seq;      /* gaps opened and closed so far */
	uint32_t seen_seq; /* seq when read() last looked */
	uint64_t unc_uj;   /* uncertainty added by closed gaps, µJ */
};

/*
 * A sample failed. transient: the error may not repeat (EBUSY, EAGAIN,
 * ENODATA, ETIMEDOUT; NVML not ready, timeout, unknown). once_only: it is
 * transient only if the sample before was good (EIO: one is a hiccup, two
 * are a fault). Returns true when the failure is to be skipped, false when
 * it is to be reported as the sensor's error.
 */
bool jl_gap_fail(struct jl_gap *g, bool transient, bool once_only);

/*
 * The next good sample after a gap: the trapezoid from p0_uw to p1_uw over
 * gap_ns spans it; the truth may lie anywhere between nothing and the
 * larger power, so half of that energy is added to the uncertainty.
 * Nothing happens when no gap is open.
 */
void jl_gap_close(struct jl_gap *g, uint64_t gap_ns, uint64_t p0_uw, uint64_t p1_uw);

/*
 * For read(): whether the reading is to carry JOULES_READING_GAP (a gap is
 * open, or one opened or closed since the last call: the reading after a
 * gap spans part of it).
 */
bool jl_gap_flag(struct jl_gap *g);

/* Is an error of these errno values one a later sample may not repeat? */
bool jl_gap_transient_errno(int errnum);

#endif
