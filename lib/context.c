/* SPDX-License-Identifier: MIT */
/* Opening a context: the sysfs root, the backends' sensors, and closing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
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

static bool id_taken(const joules_ctx *ctx, const char *id)
{
	for (size_t i = 0; i < ctx->n_sensors; i++)
		if (strcmp(ctx->sensors[i].pub.id, id) == 0)
			return true;
	return false;
}

struct jl_sensor *jl_sensor_add(joules_ctx *ctx, const struct jl_backend *backend,
				const char *id, const char *name, int kind)
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
	s->fd = -1;
	s->pub.parent = -1;
	s->pub.kind = kind;
	s->pub.flags = JOULES_SENSOR_READABLE;
	/* Cut to fit, then cleaned: ids and names are valid UTF-8, cut between characters. */
	snprintf(s->pub.id, sizeof s->pub.id, "%s", id);
	jl_utf8_clean(s->pub.id);
	for (unsigned k = 2; id_taken(ctx, s->pub.id); k++) {
		snprintf(s->pub.id, sizeof s->pub.id, "%.50s#%u", id, k);
		jl_utf8_clean(s->pub.id);
	}
	snprintf(s->pub.name, sizeof s->pub.name, "%s", name);
	jl_utf8_clean(s->pub.name);
	snprintf(s->pub.source, sizeof s->pub.source, "%s", backend->name);
	ctx->n_sensors++;
	return s;
}

struct jl_sensor *jl_sensor_replace(joules_ctx *ctx, size_t index,
				    const struct jl_backend *backend)
{
	struct jl_sensor *s = &ctx->sensors[index];
	if (s->backend->release)
		s->backend->release(s);
	if (s->fd >= 0)
		close(s->fd);
	struct joules_sensor was = s->pub;
	memset(s, 0, sizeof *s);
	s->backend = backend;
	s->fd = -1;
	memcpy(s->pub.id, was.id, sizeof was.id);
	memcpy(s->pub.name, was.name, sizeof was.name);
	memcpy(s->pub.device, was.device, sizeof was.device);
	memcpy(s->pub.also, was.also, sizeof was.also);
	s->pub.kind = was.kind;
	s->pub.parent = was.parent;
	s->pub.flags = JOULES_SENSOR_READABLE;
	snprintf(s->pub.source, sizeof s->pub.source, "%s", backend->name);
	return s;
}

static size_t n_backends(void)
{
	size_t n = 0;
	while (jl_backends[n])
		n++;
	return n;
}

/* Fill in what follows from each counter's settings. */
static void describe_counters(joules_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct joules_sensor *p = &ctx->sensors[i].pub;
		const struct jl_counter *c = &ctx->sensors[i].counter;
		p->range_uj = c->modulus
				      ? (uint64_t)((unsigned __int128)c->modulus * c->uj_num / c->uj_den)
				      : 0;
		p->max_power_uw = c->max_power_uw;
		p->wrap_period_ns = jl_counter_wrap_period_ns(c);
	}
}

JOULES_API int joules_open(joules_ctx **ret, const char *sysfs_root)
{
	if (!ret)
		return JOULES_ERR_INVALID;
	*ret = NULL;
	if (!sysfs_root || !*sysfs_root)
		sysfs_root = getenv("JOULES_SYSFS_ROOT");
	if (!sysfs_root || !*sysfs_root)
		sysfs_root = "/sys";
	if (strlen(sysfs_root) >= JL_PATH_MAX / 2)
		return JOULES_ERR_INVALID;

	joules_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return JOULES_ERR_NOMEM;
	jl_fork_guard_init(&ctx->fork_guard);
	snprintf(ctx->sysfs_root, sizeof ctx->sysfs_root, "%s", sysfs_root);
	size_t len = strlen(ctx->sysfs_root);
	while (len > 1 && ctx->sysfs_root[len - 1] == '/')
		ctx->sysfs_root[--len] = '\0';
	ctx->backend_state = calloc(n_backends() + 1, sizeof *ctx->backend_state);
	ctx->notes = calloc(n_backends() + 1, sizeof *ctx->notes);
	if (!ctx->backend_state || !ctx->notes) {
		joules_close(ctx);
		return JOULES_ERR_NOMEM;
	}
	for (size_t b = 0; jl_backends[b]; b++) {
		ctx->enumerating = b;
		int r = jl_backends[b]->enumerate(ctx, &ctx->backend_state[b]);
		if (r < 0) {
			joules_close(ctx);
			return r;
		}
	}
	describe_counters(ctx);
	for (size_t i = 0; i < ctx->n_sensors; i++) { /* set by the backends, maybe cut short */
		jl_utf8_clean(ctx->sensors[i].pub.device);
		jl_utf8_clean(ctx->sensors[i].pub.reason);
	}
	int r = jl_sampler_start(ctx);
	if (r < 0) {
		joules_close(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
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
	for (size_t b = 0; ctx->backend_state && jl_backends[b]; b++)
		if (ctx->backend_state[b])
			shutdown_backend(jl_backends[b], ctx->backend_state[b], forked);
	jl_fork_guard_free(&ctx->fork_guard);
	free(ctx->backend_state);
	free(ctx->notes);
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
	return ctx ? n_backends() : 0;
}

JOULES_API const char *joules_source_name(const joules_ctx *ctx, size_t index)
{
	return ctx && index < n_backends() ? jl_backends[index]->name : NULL;
}

JOULES_API const char *joules_source_note(const joules_ctx *ctx, size_t index)
{
	return ctx && index < n_backends() ? ctx->notes[index] : NULL;
}

JOULES_API const char *joules_sensor_error(const joules_ctx *ctx, size_t index)
{
	if (!ctx || index >= ctx->n_sensors)
		return "";
	return ctx->sensors[index].error;
}
