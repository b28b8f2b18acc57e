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
struct jl_regions;

/*
 * Which physical domain a sensor measures, from facts (a zone's name, the
 * CPU topology, a PCI address), never from how a source numbers things.
 * Sources report candidates with it; lib/domain.c merges the candidates of
 * one domain into one sensor and derives ids, devices and containment.
 */
struct jl_domain {
	int32_t kind;    /* enum joules_kind */
	int32_t package; /* physical package id (topology/physical_package_id), -1: none */
	int32_t die;     /* die id within the package, -1: the whole package */
	int32_t cpu;     /* one logical CPU (a per-core counter), -1: none */
	/*
	 * 0; n when a source has n other domains claiming this identity
	 * before it (firmware naming two zones alike): never merged with them.
	 */
	uint32_t instance;
	bool alone;                     /* no other candidate can be this domain */
	char device[JOULES_DEVICE_LEN]; /* a device's bus address ("0000:04:00.0"), or "" */
	char part[32];                  /* which channel of the device ("PPT"), or "" */
	char within[32];                /* the part of the same device that contains this one */
};

/* One sensor (before the merge: one candidate) and what it takes to read it. */
struct jl_sensor {
	struct joules_sensor pub;
	struct jl_domain dom;
	const struct jl_backend *backend;
	/* Cost of one read, ns (an estimate): the cheaper of two readers wins. */
	uint32_t cost_ns;
	int fd;     /* kept open for the read path, or -1 */
	void *data; /* the backend's own per-sensor state, freed by release() */
	struct jl_counter counter;
	int unreadable; /* enum joules_error of an unreadable sensor, else 0 */
	/* backend->sample() is called every this many µs by the sampler; 0: never. */
	uint32_t sample_us;
	/*
	 * Sampled only while something is measured (lib/sampler.h): its
	 * backend's wake() brings it up to date exactly after a sleep.
	 */
	bool sample_on_demand;
	/*
	 * The data that covers a moment arrives about this long after it: a
	 * settle waiting for it has the sampler sample the sensor then, not at
	 * its next interval; 0: never hurried.
	 */
	uint32_t settle_delay_us;
	/* Unreadable: a short fix ("sysctl ...") offered when another source is chosen. */
	char fix[128];
	char error[JL_MSG_LEN]; /* message of the last failed read */
};

/* One source (backend) a context uses: its private data and its note. */
struct jl_source {
	const struct jl_backend *backend;
	void *priv;             /* backend->priv_size bytes, zeroed, owned by the core */
	char note[JL_MSG_LEN];  /* why it found nothing, or what it could not understand */
};

struct joules_ctx {
	char sysfs_root[JL_PATH_MAX];
	char nvml_library[JL_PATH_MAX]; /* the NVML library to load */
	struct jl_sensor *sensors;
	size_t n_sensors, cap_sensors;
	struct jl_source *sources;  /* the backends this context uses, in table order */
	size_t n_sources;
	struct jl_sampler *sampler; /* NULL unless some sensor is sampled */
	struct jl_regions *regions; /* regions, their sampler, baseline (region.h) */
	size_t enumerating;         /* the source whose enumerate() runs now */
	int32_t policy;             /* enum joules_source_policy */
	char last_error[JL_MSG_LEN];
	struct jl_fork_guard fork_guard; /* armed first thing in joules_open() */
};

/* Monotonic clock, ns. */
uint64_t jl_now_ns(void);

/*
 * From enumerate(): add a candidate for domain `dom`. `id` and `name` are
 * the backend's for a domain that does not name itself (a device's channel,
 * one CPU's counter); NULL for a CPU domain (package, die, core, uncore,
 * dram of a known package, or psys), which lib/domain.c names. Returns the
 * candidate zeroed apart from those, readable, fd = -1, or NULL when out of
 * memory. The pointer is valid until the next jl_sensor_add(): keep
 * indices, not pointers, across calls; after enumeration the candidates
 * are merged, so indices change too.
 */
struct jl_sensor *jl_sensor_add(joules_ctx *ctx, const struct jl_backend *backend,
				const struct jl_domain *dom, const char *id, const char *name);

/* A domain with nothing known: kind, package -1, die -1, cpu -1. */
struct jl_domain jl_domain_none(int kind);

/* Mark a sensor unreadable (err says how) and say why and how to fix it. */
void jl_sensor_unreadable(struct jl_sensor *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The short fix offered for an unreadable candidate that another source reads. */
void jl_sensor_fix(struct jl_sensor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
