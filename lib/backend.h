/* SPDX-License-Identifier: MIT */
/*
 * The interface every backend implements: one file, one const struct, one
 * entry in the table of backends.c. The core never names a backend anywhere
 * else.
 */
#ifndef JOULES_BACKEND_H
#define JOULES_BACKEND_H

#include <stdint.h>

#include "internal.h"

/* One reading of a sensor's hardware counter, in the sensor's raw units. */
struct jl_sample {
	uint64_t raw;
	uint32_t uncertainty_uj;
	uint32_t flags; /* JOULES_READING_* the reading gets (PROVISIONAL) */
};

struct jl_backend {
	const char *name;
	/*
	 * Find this backend's sensors and add them with jl_sensor_add(), set
	 * each one's counter with jl_counter_init(). Sensors that this caller
	 * cannot read are added too, marked with jl_sensor_unreadable().
	 * Finding nothing returns 0. A negative return (out of memory) fails
	 * joules_open(). `state` is this backend's slot for context-wide
	 * state, handed back to shutdown().
	 */
	int (*enumerate)(joules_ctx *ctx, void **state);
	/*
	 * Read one readable sensor. Must not allocate or open files. On
	 * failure return a negative enum joules_error after describing it
	 * with jl_sensor_fail().
	 */
	int (*read)(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out);
	/*
	 * Optional: called from the context's sampler thread every
	 * s->sample_us for sensors that set it (power integration, slow
	 * counters). It updates the sensor's data, which read() then returns
	 * without waiting; the two run on different threads, so the backend
	 * guards that data (a mutex in s->data: sensors do not move once
	 * enumeration is over).
	 */
	void (*sample)(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns);
	/*
	 * Optional: refine a JOULES_READING_PROVISIONAL reading of this sensor
	 * (joules_settle) once the data covering r->time_ns has arrived.
	 * Returns 1 while it cannot yet (the reading is left as it is), 0 when
	 * r is final (flag cleared). No NVML or file access on the caller's
	 * thread beyond what read() may do.
	 */
	int (*settle)(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *r);
	/* Free a sensor's data (optional; the core closes s->fd). */
	void (*release)(struct jl_sensor *s);
	/* Free the context-wide state (optional). */
	void (*shutdown)(void *state);
	/*
	 * Optional: release() and shutdown() for joules_close() in a fork()
	 * child of the process that opened the context. Another thread of the
	 * parent (the sampler) may have held any lock at the fork, and a
	 * library's session (NVML) stays with the parent: free memory only;
	 * never lock, destroy a lock or call the library. When NULL,
	 * release() and shutdown() are called there, so they must then be
	 * just as safe (free, and the core closes s->fd).
	 */
	void (*release_forked)(struct jl_sensor *s);
	void (*shutdown_forked)(void *state);
};

/* The table, NULL-terminated, in the order sensors are listed. */
extern const struct jl_backend *const jl_backends[];

#endif
