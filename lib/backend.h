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
	/* CLOCK_MONOTONIC the reading stands for, when the backend took it; 0: now. */
	uint64_t time_ns;
};

/* Optional operations of a source of GPUs: what joules_gpu_*() ask. */
struct jl_gpu_ops {
	/* Its GPUs, or a negative enum joules_error when it is there but unusable. */
	int (*count)(const void *priv);
	/* Why it has no GPUs, or "". */
	const char *(*error)(const void *priv);
	/* Fill *out (size already checked) for its GPU `index`; errors via jl_fail(). */
	int (*info)(joules_ctx *ctx, void *priv, size_t index, struct joules_gpu_info *out);
};

struct jl_backend {
	const char *name;
	/*
	 * Size of the backend's private context-wide data: the core allocates
	 * it zeroed before enumerate() and frees it after shutdown(); 0: none
	 * (priv is NULL).
	 */
	size_t priv_size;
	/*
	 * Find this backend's candidates and add them with jl_sensor_add(),
	 * each with the domain it measures (facts, not numbering), its cost,
	 * and its counter set with jl_counter_init(). Candidates this caller
	 * cannot read are added too, marked with jl_sensor_unreadable(). The
	 * core then merges the candidates of each domain (lib/domain.c): a
	 * backend never looks at another's sensors. What it cannot understand
	 * goes in jl_note(). Finding nothing returns 0. A negative return (out
	 * of memory) fails joules_open().
	 */
	int (*enumerate)(joules_ctx *ctx, void *priv);
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
	 * Required of sensors that set sample_on_demand: the sampler has not
	 * called sample() for a while (nothing was measured) and something
	 * reads the sensor now: bring its data up to now, exactly, before the
	 * read, on the caller's thread (lib/sampler.h); sample() then goes on
	 * at its interval.
	 */
	void (*wake)(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns);
	/*
	 * Optional: refine a JOULES_READING_PROVISIONAL reading of this sensor
	 * (joules_settle) once the data covering r->time_ns has arrived.
	 * Returns 1 while it cannot yet (the reading is left as it is), 0 when
	 * r is final (flag cleared). No NVML or file access on the caller's
	 * thread beyond what read() may do.
	 */
	int (*settle)(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *r);
	/*
	 * Optional: the half-width of the error of b - a, two final readings
	 * of this sensor in one reset epoch, for a sensor whose difference
	 * errs by more than its two ends' own uncertainties (an estimate's
	 * scale, noise that grows with the span). Without it: a's + b's.
	 */
	uint64_t (*span_bound)(const struct jl_sensor *s, const struct joules_reading *a,
			       const struct joules_reading *b);
	/* Free a sensor's data (optional; the core closes s->fd). */
	void (*release)(struct jl_sensor *s);
	/* Release what priv holds (optional); the core frees priv itself. */
	void (*shutdown)(void *priv);
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
	void (*shutdown_forked)(void *priv);
	/* Optional: the source knows GPUs beyond their energy (joules_gpu_*). */
	const struct jl_gpu_ops *gpu;
};

/* The table, NULL-terminated: the order sensors are listed in, and nothing more. */
extern const struct jl_backend *const jl_backends[];

#endif
