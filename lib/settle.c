/* SPDX-License-Identifier: MIT */
/*
 * joules_settle(): a reading's data can arrive after the reading (NVIDIA
 * GPUs publish power samples tens of ms late), so a backend may mark
 * readings provisional and refine them here, on the caller's thread,
 * from what its sampler has gathered since. Never blocks.
 */
#include "backend.h"
#include "region.h"
#include "sampler.h"

JOULES_API int joules_settle(joules_ctx *ctx, struct joules_reading *out, size_t n)
{
	if (!ctx || (!out && n))
		return JOULES_ERR_INVALID;
	int r = jl_fork_check(ctx, "joules_settle");
	if (r < 0)
		return r;
	if (n > ctx->n_sensors)
		n = ctx->n_sensors;
	int pending = 0;
	jl_regions_lock(ctx);
	for (size_t i = 0; i < n; i++)
		pending += jl_settle_waiting(ctx, i, &out[i]);
	jl_regions_unlock(ctx);
	return pending;
}

bool jl_settle_waiting(joules_ctx *ctx, size_t i, struct joules_reading *r)
{
	if (!jl_settle_one(ctx, i, r))
		return false;
	jl_sampler_hurry(ctx, i, r->time_ns);
	return true;
}

bool jl_settle_one(joules_ctx *ctx, size_t i, struct joules_reading *r)
{
	if (!(r->flags & JOULES_READING_PROVISIONAL))
		return false;
	struct jl_sensor *s = &ctx->sensors[i];
	if (r->status == 0 && s->backend->settle)
		return s->backend->settle(ctx, s, r) > 0;
	r->flags &= ~JOULES_READING_PROVISIONAL;
	return false;
}
