/* SPDX-License-Identifier: MIT */
/*
 * The idle baseline: idle power per sensor, measured over a quiet region or
 * given, so that regions report the energy above idle beside the total.
 * Its uncertainty is the region's energy bound spread over its time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "region.h"

/* Keep b[0..n-1] (n = sensor count) as the baseline; NULL drops it. */
static int keep(joules_ctx *ctx, struct joules_baseline *b)
{
	int r = jl_fork_check(ctx, "joules_baseline");
	if (r < 0) {
		free(b);
		return r;
	}
	struct jl_regions *R = jl_regions_get(ctx);
	if (!R) {
		free(b);
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_baseline: out of memory");
	}
	pthread_mutex_lock(&R->lock);
	free(R->baseline);
	R->baseline = b;
	pthread_mutex_unlock(&R->lock);
	return 0;
}

static struct joules_baseline *new_baseline(const joules_ctx *ctx)
{
	return calloc(ctx->n_sensors ? ctx->n_sensors : 1, sizeof(struct joules_baseline));
}

JOULES_API int joules_baseline_from_region(joules_ctx *ctx,
					   const struct joules_region_sensor *per_sensor, size_t n)
{
	if (!ctx || !per_sensor || n != ctx->n_sensors)
		return JOULES_ERR_INVALID;
	struct joules_baseline *b = new_baseline(ctx);
	if (!b)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_baseline_from_region: out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct joules_region_sensor *r = &per_sensor[i];
		bool whole = (r->flags & JOULES_REGION_HAS_ENERGY) && r->covered_ns &&
			     (r->state == JOULES_REGION_OK || r->state == JOULES_REGION_GAP);
		if (!whole) {
			b[i].error = r->error ? r->error : JOULES_ERR_IO;
			continue;
		}
		double us = (double)r->covered_ns / 1e3;
		b[i].power_w = r->mean_w;
		b[i].uncertainty_w = (double)r->uncertainty_uj / us;
		b[i].duration_ns = r->covered_ns;
	}
	return keep(ctx, b);
}

JOULES_API int joules_baseline_measure(joules_ctx *ctx, uint32_t duration_ms)
{
	if (!ctx || !duration_ms)
		return JOULES_ERR_INVALID;
	size_t n = ctx->n_sensors;
	struct joules_region_sensor *per = calloc(n ? n : 1, sizeof *per);
	if (!per)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_baseline_measure: out of memory");
	int id, rc = joules_region_begin(ctx, "baseline", &id);
	if (rc < 0) {
		free(per);
		return rc;
	}
	struct timespec ts = {.tv_sec = duration_ms / 1000u,
			      .tv_nsec = (long)(duration_ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	rc = joules_region_end(ctx, id, 1000, NULL, per, n);
	while (rc == 1) /* final within ~1 s of the end in any case */
		rc = joules_region_finish(ctx, id, 1000, NULL, per, n);
	if (rc == 0)
		rc = joules_baseline_from_region(ctx, per, n);
	free(per);
	return rc;
}

JOULES_API int joules_baseline_set(joules_ctx *ctx, const struct joules_baseline *b, size_t n)
{
	if (!ctx || (b && n != ctx->n_sensors) || (!b && n))
		return JOULES_ERR_INVALID;
	if (!b)
		return keep(ctx, NULL);
	struct joules_baseline *copy = new_baseline(ctx);
	if (!copy)
		return jl_fail(ctx, JOULES_ERR_NOMEM, "joules_baseline_set: out of memory");
	memcpy(copy, b, n * sizeof *b);
	return keep(ctx, copy);
}

JOULES_API int joules_baseline_get(const joules_ctx *ctx, struct joules_baseline *out, size_t n)
{
	if (!ctx || (!out && n))
		return JOULES_ERR_INVALID;
	struct jl_regions *R = ctx->regions;
	if (jl_fork_guard_forked(&ctx->fork_guard)) /* its lock may be held forever */
		return JOULES_ERR_FORKED;
	if (!R)
		return JOULES_ERR_NO_SENSOR;
	pthread_mutex_lock(&R->lock);
	int rc = JOULES_ERR_NO_SENSOR;
	if (R->baseline) {
		size_t m = n < ctx->n_sensors ? n : ctx->n_sensors;
		if (m)
			memcpy(out, R->baseline, m * sizeof *out);
		rc = (int)m;
	}
	pthread_mutex_unlock(&R->lock);
	return rc;
}
