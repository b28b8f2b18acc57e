/* SPDX-License-Identifier: MIT */
/*
 * One background thread per context that calls backend->sample() for every
 * sensor that asked for it (jl_sensor.sample_us > 0), each at its own
 * interval. It exists so that a snapshot never waits on slow sources: the
 * thread integrates power or polls slow counters, and read() returns what it
 * last saw. Started by joules_open() only when some sensor needs it.
 *
 * On demand. Sensors that set sample_on_demand (NVIDIA GPUs: an NVML call
 * costs 0.3-3 ms of CPU, docs/nvml.md) are sampled only while something is
 * measured: a region runs (jl_sampler_hold), or
 * the sensors were read (joules_read, a region boundary) less than
 * JL_SAMPLER_LINGER_NS ago (jl_sampler_touch), which also covers settling
 * the readings taken. Otherwise the thread leaves them alone (no call at
 * all); the first read after that wakes them on the caller's thread
 * (backend->wake) before it reads, so that reading is exact too. The region
 * sampler's ticks follow them only while they are awake, and keep nothing
 * awake themselves.
 */
#ifndef JOULES_SAMPLER_H
#define JOULES_SAMPLER_H

#include "internal.h"

/*
 * How long the on-demand sensors are still sampled after the last read:
 * long enough to settle the readings taken (the give-up is 1 s) and to let
 * a caller that reads every second or two never wait on a wake; short
 * enough that a wake after it finds the driver's ~2.4 s of GPU samples
 * still covering the sleep for a while (a cheap, exact catch-up).
 */
#define JL_SAMPLER_LINGER_NS 2000000000ull
/* A settle that waits makes a sensor be sampled at most this often. */
#define JL_SAMPLER_HURRY_GAP_NS 20000000ull

/* Start the thread if any sensor has sample_us > 0. Returns 0 or an error. */
int jl_sampler_start(joules_ctx *ctx);
/* Stop and join it; safe when it never started. */
void jl_sampler_stop(joules_ctx *ctx);
/*
 * In a fork() child: free the child's copy of the sampler. The thread is
 * not there to join, and its mutex and condition variable may be held or
 * waited on by it forever (glibc's pthread_cond_destroy waits for waiters),
 * so neither is touched.
 */
void jl_sampler_forget(joules_ctx *ctx);

/*
 * The sensors are read now (lib/read.c): the on-demand ones are sampled
 * for JL_SAMPLER_LINGER_NS more; if they slept, they are woken here, on
 * the caller's thread, before it reads them.
 */
void jl_sampler_touch(joules_ctx *ctx);
/* Something measures until it lets go: +1 (a region begins) or -1 (it ends). */
void jl_sampler_hold(joules_ctx *ctx, int delta);
/*
 * The region sampler's tick (lib/region_sampler.c), which follows the
 * sensors without keeping the on-demand ones awake: true when they are
 * awake, and then held so until jl_sampler_follow_end(), neither woken nor
 * lingered; false when they sleep (the tick leaves them out).
 */
bool jl_sampler_follow_begin(joules_ctx *ctx);
void jl_sampler_follow_end(joules_ctx *ctx);
/* Sensor s is sampled only while something measures (sample_on_demand). */
bool jl_sampler_on_demand(const struct jl_sensor *s);
/*
 * A settle of sensor i waits for the data that covers t_ns: sample it
 * settle_delay_us after that (at the earliest JL_SAMPLER_HURRY_GAP_NS after
 * its last sample), not at its next interval.
 */
void jl_sampler_hurry(joules_ctx *ctx, size_t i, uint64_t t_ns);

#endif
