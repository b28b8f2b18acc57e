/* SPDX-License-Identifier: MIT */
/*
 * Opening a context: its options (a struct that starts with its own size,
 * as libbpf's do), the sources chosen, their enumeration, and the message
 * of a failed open, which outlives the context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "domain.h"
#include "sampler.h"
#include "utf8.h"

/* The size of the first version of struct joules_open_opts (JOULES_0.2). */
#define OPTS_SIZE_V1 (offsetof(struct joules_open_opts, error_len) + sizeof(size_t))

__attribute__((format(printf, 4, 5))) static int refuse(const struct joules_open_opts *opts,
							int err, joules_ctx *ctx,
							const char *fmt, ...)
{
	char msg[JL_MSG_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (opts && opts->error && opts->error_len)
		snprintf(opts->error, opts->error_len, "%s", msg);
	joules_close(ctx);
	return err;
}

/* Bytes past the fields this library knows must be 0 (libbpf's rule). */
static bool tail_is_zero(const struct joules_open_opts *opts)
{
	const unsigned char *p = (const unsigned char *)opts;
	for (size_t i = sizeof *opts; i < opts->size; i++)
		if (p[i])
			return false;
	return true;
}

static const char *setting(const char *given, const char *env, const char *fallback)
{
	if (given && *given)
		return given;
	const char *e = getenv(env);
	return e && *e ? e : fallback;
}

/* Is `name` in the comma-separated list (NULL or "": every name is)? */
static bool listed(const char *list, const char *name)
{
	if (!list || !*list)
		return true;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* The first name of the list that no backend has, into buf; false when none. */
static bool unknown_source(const char *list, char *buf, size_t len)
{
	for (const char *p = list ? list : ""; *p;) {
		size_t n = strcspn(p, ",");
		bool known = false;
		for (size_t b = 0; jl_backends[b] && !known; b++)
			known = strlen(jl_backends[b]->name) == n &&
				strncmp(p, jl_backends[b]->name, n) == 0;
		if (!known) {
			snprintf(buf, len, "%.*s", (int)(n < 64 ? n : 64), p);
			return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

static void known_sources(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t b = 0; jl_backends[b] && used < len; b++) {
		int m = snprintf(buf + used, len - used, "%s%s", b ? ", " : "", jl_backends[b]->name);
		used += m > 0 ? (size_t)m : 0;
	}
}

/* Check the options; 0, or the error (the message already given). */
static int check_opts(const struct joules_open_opts *opts)
{
	char name[80], known[128];
	if (opts->size < OPTS_SIZE_V1 || (opts->size > sizeof *opts && !tail_is_zero(opts)))
		return refuse(opts->size >= OPTS_SIZE_V1 ? opts : NULL, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: opts->size is %zu: set it to sizeof(struct "
			      "joules_open_opts) (%zu here), and zero the struct first",
			      opts->size, sizeof *opts);
	if (opts->policy != JOULES_POLICY_AUTO && opts->policy != JOULES_POLICY_DIRECT &&
	    opts->policy != JOULES_POLICY_DAEMON)
		return refuse(opts, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: policy %d is not an enum joules_source_policy",
			      (int)opts->policy);
	if (opts->reserved)
		return refuse(opts, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: opts->reserved must be 0");
	if (unknown_source(opts->sources, name, sizeof name)) {
		known_sources(known, sizeof known);
		return refuse(opts, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: unknown source \"%s\" in \"%.200s\"; the sources "
			      "are: %s",
			      name, opts->sources, known);
	}
	return 0;
}

/* The sources the options ask for, each with its private data. */
static int pick_sources(joules_ctx *ctx, const char *list)
{
	size_t n = 0;
	while (jl_backends[n])
		n++;
	ctx->sources = calloc(n ? n : 1, sizeof *ctx->sources);
	if (!ctx->sources)
		return JOULES_ERR_NOMEM;
	for (size_t b = 0; b < n; b++) {
		if (!listed(list, jl_backends[b]->name))
			continue;
		struct jl_source *src = &ctx->sources[ctx->n_sources++];
		src->backend = jl_backends[b];
		if (src->backend->priv_size && !(src->priv = calloc(1, src->backend->priv_size)))
			return JOULES_ERR_NOMEM;
	}
	return 0;
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

JOULES_API int joules_open_with(joules_ctx **ret, const struct joules_open_opts *opts)
{
	struct joules_open_opts none = {.size = sizeof none};
	if (!opts)
		opts = &none;
	if (!ret)
		return refuse(opts->size >= OPTS_SIZE_V1 ? opts : NULL, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: ret is NULL");
	*ret = NULL;
	int r = check_opts(opts);
	if (r)
		return r;
	const char *root = setting(opts->sysfs_root, "JOULES_SYSFS_ROOT", "/sys");
	const char *nvml = setting(opts->nvml_library, "JOULES_NVML_LIBRARY", "libnvidia-ml.so.1");
	if (strlen(root) >= JL_PATH_MAX / 2 || strlen(nvml) >= JL_PATH_MAX)
		return refuse(opts, JOULES_ERR_INVALID, NULL,
			      "joules_open_with: the sysfs root or NVML library path is longer "
			      "than %d bytes", JL_PATH_MAX / 2 - 1);

	joules_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return refuse(opts, JOULES_ERR_NOMEM, NULL, "joules_open_with: out of memory");
	jl_fork_guard_init(&ctx->fork_guard);
	snprintf(ctx->sysfs_root, sizeof ctx->sysfs_root, "%s", root);
	size_t len = strlen(ctx->sysfs_root);
	while (len > 1 && ctx->sysfs_root[len - 1] == '/')
		ctx->sysfs_root[--len] = '\0';
	snprintf(ctx->nvml_library, sizeof ctx->nvml_library, "%s", nvml);
	ctx->policy = opts->policy;
	if (pick_sources(ctx, opts->sources) < 0)
		return refuse(opts, JOULES_ERR_NOMEM, ctx, "joules_open_with: out of memory");
	for (size_t b = 0; b < ctx->n_sources; b++) {
		ctx->enumerating = b;
		r = ctx->sources[b].backend->enumerate(ctx, ctx->sources[b].priv);
		if (r < 0)
			return refuse(opts, r, ctx, "%s: enumerating its sensors failed: %s",
				      ctx->sources[b].backend->name,
				      ctx->last_error[0] ? ctx->last_error : joules_strerror(r));
	}
	r = jl_domains_merge(ctx);
	if (r < 0)
		return refuse(opts, r, ctx, "joules_open: merging the sensors failed: %s",
			      joules_strerror(r));
	describe_counters(ctx);
	for (size_t i = 0; i < ctx->n_sensors; i++) /* set by backends, maybe cut short */
		jl_utf8_clean(ctx->sensors[i].pub.reason);
	r = jl_sampler_start(ctx);
	if (r < 0)
		return refuse(opts, r, ctx, "%s", ctx->last_error[0] ? ctx->last_error
								    : joules_strerror(r));
	if (opts->error && opts->error_len)
		opts->error[0] = '\0';
	*ret = ctx;
	return 0;
}
