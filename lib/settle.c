/* SPDX-License-Identifier: MIT */
/*
 * joules_settle(): a reading's data can arrive after the reading (NVIDIA
 * GPUs publish power samples tens of ms late), so a backend may mark
 * readings provisional and refine them here, on the caller's thread,
 * from what its sampler has gathered since. Never blocks.
 */
#include "backend.h"

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
	for (size_t i = 0; i < n; i++) {
		struct joules_reading *r = &out[i];
		if (!(r->flags & JOULES_READING_PROVISIONAL))
			continue;
		struct jl_sensor *s = &ctx->sensors[i];
		if (r->status == 0 && s->backend->settle)
			pending += s->backend->settle(ctx, s, r) > 0;
		else
			r->flags &= ~JOULES_READING_PROVISIONAL;
	}
	return pending;
}
