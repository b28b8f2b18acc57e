/* SPDX-License-Identifier: MIT */
/* Opening a context: the sysfs root, the backends' sensors, and closing. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "region.h"
#include "sampler.h"

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
	snprintf(s->pub.id, sizeof s->pub.id, "%s", id);
	for (unsigned k = 2; id_taken(ctx, s->pub.id); k++)
		snprintf(s->pub.id, sizeof s->pub.id, "%.50s#%u", id, k);
	snprintf(s->pub.name, sizeof s->pub.name, "%s", name);
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

/* Is source `name` in the comma-separated list (NULL: every source)? */
static bool source_wanted(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
		p += *p == ',';
	}
	return false;
}

static int open_ctx(joules_ctx **ret, const struct joules_open_opts *o);

JOULES_API int joules_open(joules_ctx **ret, const char *sysfs_root)
{
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = sysfs_root};
	return joules_open_with(ret, &o);
}

JOULES_API int joules_open_with(joules_ctx **ret, const struct joules_open_opts *opts)
{
	struct joules_open_opts o = {.size = sizeof o};
	if (opts) {
		if (opts->size < offsetof(struct joules_open_opts, error) || opts->size > sizeof o)
			return JOULES_ERR_INVALID;
		memcpy(&o, opts, opts->size);
	}
	if (o.error && o.error_len)
		o.error[0] = '\0';
	int r = ret ? open_ctx(ret, &o) : JOULES_ERR_INVALID;
	return r;
}

static int open_ctx(joules_ctx **ret, const struct joules_open_opts *o)
{
	const char *sysfs_root = o->sysfs_root;
	*ret = NULL;
	if (o->policy < JOULES_POLICY_AUTO || o->policy > JOULES_POLICY_DAEMON || o->reserved ||
	    o->nvml_library) {
		if (o->error && o->error_len)
			snprintf(o->error, o->error_len, "joules_open_with: %s",
				 o->nvml_library ? "nvml_library is not supported yet: set "
						   "$JOULES_NVML_LIBRARY"
						 : "unknown policy or reserved field set");
		return o->nvml_library ? JOULES_ERR_UNSUPPORTED : JOULES_ERR_INVALID;
	}
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
	ctx->policy = o->policy;
	for (size_t b = 0; jl_backends[b]; b++) {
		ctx->enumerating = b;
		if (!source_wanted(o->sources, jl_backends[b]->name)) {
			jl_note(ctx, "not used: not among the sources asked for (%s)", o->sources);
			continue;
		}
		int r = jl_backends[b]->enumerate(ctx, &ctx->backend_state[b]);
		if (r < 0) {
			if (o->error && o->error_len)
				snprintf(o->error, o->error_len, "%s",
					 *ctx->last_error ? ctx->last_error : joules_strerror(r));
			joules_close(ctx);
			return r;
		}
	}
	describe_counters(ctx);
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
