/* SPDX-License-Identifier: MIT */
/*
 * The CLI's sampling of one measurement: a first snapshot, one every tick,
 * a last one. Energy is the difference of a sensor's first and last good
 * readings (joules_delta), so ticks never change it; ticks give the peak
 * power and count wraps. A failed reading is a gap, not a dead sensor: the
 * next good one spans it (a counter stays exact) and the result carries a
 * note. A sensor whose last readings fail (gone for good) still reports the
 * energy up to its last good reading, marked partial.
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
	uint64_t min_window_ns; /* shortest interval a peak is taken over */
	/* The first snapshot, and the last three: older, prev (settled when it
	 * could be), cur (GPU readings still provisional). */
	struct joules_reading *first, *older, *prev, *cur;
	struct joules_reading *ref; /* per sensor: start of the current peak window */
	double *peak_w;             /* < 0 until a window closes */
	uint32_t *wraps;
	/* Per sensor: its first and latest good readings (status 0 when any). */
	struct joules_reading *start, *good;
	unsigned *gaps; /* failed readings after the first good one */
	unsigned *spanned; /* good readings flagged JOULES_READING_GAP */
	int *failed;    /* status of the first failed reading, or 0 */
	char *reasons;  /* n × JOULES_REASON_LEN: message of that failure */
	char *reset_why; /* n × JOULES_REASON_LEN: why the counter last reset, or "" */
	unsigned samples;
};

/* What one sensor measured between the first and the last snapshot. */
struct sensor_result {
	int status;  /* 0, a reading's error, or JOULES_ERR_RESET */
	const char *reason; /* when status != 0; points into the sampler */
	bool partial; /* energy over part of the run only (see note) */
	char note[JOULES_REASON_LEN]; /* gaps or partial: what happened; else "" */
	double energy_j, seconds, mean_w, peak_w;
	uint32_t wraps;
};

/* Longest tick that still sees every wrap of these sensors, ns (0: any). */
uint64_t sampler_max_interval_ns(const joules_ctx *ctx);

int sampler_init(struct sampler *s, joules_ctx *ctx, uint64_t interval_ns);
void sampler_free(struct sampler *s);
/* The first snapshot: resets peaks, wraps and failures. */
void sampler_start(struct sampler *s);
/* One more snapshot. */
void sampler_tick(struct sampler *s);
/*
 * After the last snapshot: wait (≤ ~1 s, only for GPUs whose readings are
 * provisional) until the first and last readings are final, and close the
 * last peak window. Energy and peaks then use final values only.
 */
void sampler_finish(struct sampler *s);
/* Mean power between two readings of a sensor; false when there is none. */
bool sampler_watts(const struct joules_reading *a, const struct joules_reading *b,
		   double *watts);
void sampler_result(const struct sampler *s, size_t i, struct sensor_result *out);

#endif
