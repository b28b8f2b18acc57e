/* SPDX-License-Identifier: MIT */
/*
 * One background thread per context that calls backend->sample() for every
 * sensor that asked for it (jl_sensor.sample_us > 0), each at its own
 * interval. It exists so that a snapshot never waits on slow sources: the
 * thread integrates power or polls slow counters, and read() returns what it
 * last saw. Started by joules_open() only when some sensor needs it.
 */
#ifndef JOULES_SAMPLER_H
#define JOULES_SAMPLER_H

#include "internal.h"

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

#endif
