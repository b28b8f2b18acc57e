/* SPDX-License-Identifier: MIT */
/* The library's private core: context, sensors, and the services backends use. */
#ifndef JOULES_INTERNAL_H
#define JOULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joules.h"
#include "counter.h"
#include "fork_guard.h"

#define JL_PATH_MAX 4096
#define JL_MSG_LEN 512

struct jl_backend;
struct jl_sampler;

/* One sensor: what the caller sees, plus what it takes to read it. */
struct jl_sensor {
	struct joules_sensor pub;
	const struct jl_backend *backend;
	int fd;     /* kept open for the read path, or -1 */
	void *data; /* the backend's own per-sensor state, freed by release() */
	struct jl_counter counter;
	int unreadable; /* enum joules_error of an unreadable sensor, else 0 */
	/* backend->sample() is called every this many µs by the sampler; 0: never. */
	uint32_t sample_us;
	char error[JL_MSG_LEN]; /* message of the last failed read */
};

struct joules_ctx {
	char sysfs_root[JL_PATH_MAX];
	struct jl_sensor *sensors;
	size_t n_sensors, cap_sensors;
	void **backend_state; /* one slot per entry of jl_backends[] */
	struct jl_sampler *sampler; /* NULL unless some sensor is sampled */
	char (*notes)[JL_MSG_LEN];  /* one per backend: why it found nothing */
	size_t enumerating;         /* the backend whose enumerate() runs now */
	char last_error[JL_MSG_LEN];
	struct jl_fork_guard fork_guard; /* armed first thing in joules_open() */
};

/* Monotonic clock, ns. */
uint64_t jl_now_ns(void);

/*
 * Add a sensor; returns it zeroed apart from the given fields, fd = -1,
 * parent = -1, or NULL when out of memory. The pointer is valid until the
 * next jl_sensor_add(): keep indices, not pointers, across calls.
 * An id already taken gets a "#2", "#3"... suffix so ids stay unique.
 */
struct jl_sensor *jl_sensor_add(joules_ctx *ctx, const struct jl_backend *backend,
				const char *id, const char *name, int kind);

/*
 * Hand sensor `index` to another backend that reads the same domain
 * better: the old backend's data and fd are released and the read state
 * is cleared; id, name, kind, device, parent and also are kept, so indices
 * and parent links stay valid. Returns the sensor, readable, fd = -1.
 */
struct jl_sensor *jl_sensor_replace(joules_ctx *ctx, size_t index,
				    const struct jl_backend *backend);

/* Mark a sensor unreadable (err says how) and say why and how to fix it. */
void jl_sensor_unreadable(struct jl_sensor *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record why the last read of a sensor failed; returns err. */
int jl_sensor_fail(struct jl_sensor *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * From enumerate(): say why this backend found no sensors and how to fix
 * it ("no /sys/class/powercap: the RAPL driver is not loaded...").
 */
void jl_note(joules_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the context's last error; returns err. */
int jl_fail(joules_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * 0 in the process that opened ctx; in a fork() child of it,
 * JOULES_ERR_FORKED with the message (func names the caller). Every public
 * function that reads a sensor, takes a lock or calls a library starts with
 * it (lib/fork_guard.h says why); those that only look at the context's
 * description (sensors, sources, messages) need not.
 */
int jl_fork_check(joules_ctx *ctx, const char *func);

/* Map an errno value to an enum joules_error. */
int jl_errno_to_error(int errnum);

#endif
