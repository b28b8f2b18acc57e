/* SPDX-License-Identifier: MIT */
/* A context: its sensors, its sources, and closing it (opening: open.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "domain.h"
#include "region.h"
#include "sampler.h"
#include "utf8.h"

uint64_t jl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

JOULES_API const char *joules_version(void)
{
#define JL_STR2(x) #x
#define JL_STR(x) JL_STR2(x)
	return JL_STR(JOULES_VERSION_MAJOR) "." JL_STR(JOULES_VERSION_MINOR) "." JL_STR(
		JOULES_VERSION_PATCH);
}

struct jl_domain jl_domain_none(int kind)
{
	return (struct jl_domain){.kind = kind, .package = -1, .die = -1, .cpu = -1};
}

struct jl_sensor *jl_sensor_add(joules_ctx *ctx, const struct jl_backend *backend,
				const struct jl_domain *dom, const char *id, const char *name)
{
	if (ctx->n_sensors == ctx->cap_sensors) {
		size_t cap = ctx->cap_sensors ? 2 * ctx->cap_sensors : 16;
		struct jl_sensor *p = realloc(ctx->sensors, cap * sizeof *p);
		if (!p)
			return NULL;
		ctx->sensors = p;
		ctx->cap_sensors = cap;
	}
	struct jl_sensor *s = &ctx->sensors[ctx->n_sensors];
	memset(s, 0, sizeof *s);
	s->backend = backend;
	s->dom = *dom;
	s->fd = -1;
	s->pub.parent = -1;
	s->pub.kind = dom->kind;
	s->pub.flags = JOULES_SENSOR_READABLE;
	jl_domain_name(&s->dom, id, name, &s->pub);
	/* Cut to fit, then cleaned: valid UTF-8, cut between characters. */
	jl_utf8_clean(s->pub.id);
	jl_utf8_clean(s->pub.name);
	jl_utf8_clean(s->pub.device);
	snprintf(s->pub.source, sizeof s->pub.source, "%s", backend->name);
	ctx->n_sensors++;
	return s;
}

JOULES_API int joules_open(joules_ctx **ret, const char *sysfs_root)
{
	struct joules_open_opts opts = {.size = sizeof opts, .sysfs_root = sysfs_root};
	return joules_open_with(ret, &opts);
}

/* In a fork() child, each backend's forked variant when it has one (backend.h). */
static void release_sensor(struct jl_sensor *s, bool forked)
{
	if (forked && s->backend->release_forked)
		s->backend->release_forked(s);
	else if (s->backend->release)
		s->backend->release(s);
}

static void shutdown_backend(const struct jl_backend *b, void *state, bool forked)
{
	if (forked && b->shutdown_forked)
		b->shutdown_forked(state);
	else if (b->shutdown)
		b->shutdown(state);
}

JOULES_API void joules_close(joules_ctx *ctx)
{
	if (!ctx)
		return;
	/* A fork() child frees its copy: no thread to join, no lock to take. */
	bool forked = jl_fork_guard_forked(&ctx->fork_guard);
	jl_regions_free(ctx, forked);
	if (forked)
		jl_sampler_forget(ctx);
	else
		jl_sampler_stop(ctx);
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct jl_sensor *s = &ctx->sensors[i];
		release_sensor(s, forked);
		if (s->fd >= 0)
			close(s->fd);
	}
	for (size_t b = 0; b < ctx->n_sources; b++) {
		struct jl_source *src = &ctx->sources[b];
		if (src->priv)
			shutdown_backend(src->backend, src->priv, forked);
		free(src->priv);
	}
	jl_fork_guard_free(&ctx->fork_guard);
	free(ctx->sources);
	free(ctx->sensors);
	free(ctx);
}

JOULES_API size_t joules_sensor_count(const joules_ctx *ctx)
{
	return ctx ? ctx->n_sensors : 0;
}

JOULES_API const struct joules_sensor *joules_sensor(const joules_ctx *ctx, size_t index)
{
	if (!ctx || index >= ctx->n_sensors)
		return NULL;
	return &ctx->sensors[index].pub;
}

JOULES_API int joules_sensor_find(const joules_ctx *ctx, const char *id)
{
	if (!ctx || !id)
		return JOULES_ERR_INVALID;
	for (size_t i = 0; i < ctx->n_sensors; i++)
		if (strcmp(ctx->sensors[i].pub.id, id) == 0)
			return (int)i;
	return JOULES_ERR_NO_SENSOR;
}

JOULES_API size_t joules_source_count(const joules_ctx *ctx)
{
	return ctx ? ctx->n_sources : 0;
}

JOULES_API const char *joules_source_name(const joules_ctx *ctx, size_t index)
{
	return ctx && index < ctx->n_sources ? ctx->sources[index].backend->name : NULL;
}

JOULES_API const char *joules_source_note(const joules_ctx *ctx, size_t index)
{
	return ctx && index < ctx->n_sources ? ctx->sources[index].note : NULL;
}

JOULES_API const char *joules_sensor_error(const joules_ctx *ctx, size_t index)
{
	if (!ctx || index >= ctx->n_sensors)
		return "";
	return ctx->sensors[index].error;
}
