/* SPDX-License-Identifier: MIT */
/*
 * joules_gpu_*: GPUs beyond their energy, from every source that offers
 * the optional GPU operations (struct jl_gpu_ops), numbered source after
 * source. The core names no source here.
 */
#include <string.h>

#include "backend.h"

JOULES_API int joules_gpu_count(const joules_ctx *ctx)
{
	if (!ctx)
		return JOULES_ERR_INVALID;
	int total = 0, err = 0;
	for (size_t b = 0; b < ctx->n_sources; b++) {
		const struct jl_source *src = &ctx->sources[b];
		if (!src->backend->gpu)
			continue;
		int n = src->backend->gpu->count(src->priv);
		if (n < 0 && !err)
			err = n;
		else if (n > 0)
			total += n;
	}
	return total ? total : err;
}

JOULES_API const char *joules_gpu_error(const joules_ctx *ctx)
{
	for (size_t b = 0; ctx && b < ctx->n_sources; b++) {
		const struct jl_source *src = &ctx->sources[b];
		if (src->backend->gpu && src->backend->gpu->error(src->priv)[0])
			return src->backend->gpu->error(src->priv);
	}
	return "";
}

JOULES_API int joules_gpu_info(joules_ctx *ctx, size_t index, struct joules_gpu_info *out)
{
	if (!ctx || !out || out->size < sizeof *out)
		return JOULES_ERR_INVALID;
	int r = jl_fork_check(ctx, "joules_gpu_info");
	if (r < 0)
		return r;
	size_t first = 0;
	for (size_t b = 0; b < ctx->n_sources; b++) {
		struct jl_source *src = &ctx->sources[b];
		if (!src->backend->gpu)
			continue;
		int n = src->backend->gpu->count(src->priv);
		size_t mine = n > 0 ? (size_t)n : 0;
		if (index < first + mine)
			return src->backend->gpu->info(ctx, src->priv, index - first, out);
		first += mine;
	}
	return jl_fail(ctx, JOULES_ERR_NO_SENSOR, "no GPU %zu (%s)", index,
		       joules_gpu_error(ctx)[0] ? joules_gpu_error(ctx)
					       : "joules_gpu_count() tells how many");
}
