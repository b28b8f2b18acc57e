/* SPDX-License-Identifier: MIT */
/*
 * The snapshots of `joules record`: a first one, one every tick, a last one,
 * the newest still provisional, the one before settled; and the first
 * failure of each sensor. (`joules run` measures with the library's
 * regions.)
 */
#ifndef JOULES_CLI_SAMPLER_H
#define JOULES_CLI_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joules.h"

struct sampler {
	joules_ctx *ctx;
	size_t n;
	/* The first snapshot, and the last three: older, prev (settled when it
	 * could be), cur (GPU readings still provisional). */
	struct joules_reading *first, *older, *prev, *cur;
	int *failed;    /* status of the first failed reading, or 0 */
	char *reasons;  /* n × JOULES_REASON_LEN: message of that failure */
	unsigned samples;
};

/* Longest tick that still sees every wrap of these sensors, ns (0: any). */
uint64_t sampler_max_interval_ns(const joules_ctx *ctx);

int sampler_init(struct sampler *s, joules_ctx *ctx);
void sampler_free(struct sampler *s);
/* The first snapshot: resets failures. */
void sampler_start(struct sampler *s);
/* One more snapshot. */
void sampler_tick(struct sampler *s);
/*
 * After the last snapshot: wait (≤ ~1 s, only for GPUs whose readings are
 * provisional) until the readings kept are final.
 */
void sampler_finish(struct sampler *s);
/* Mean power between two readings of a sensor; false when there is none. */
bool sampler_watts(const struct joules_reading *a, const struct joules_reading *b,
		   double *watts);

#endif
