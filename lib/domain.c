/* SPDX-License-Identifier: MIT */
/*
 * One sensor per physical domain, whichever sources see it. The order of
 * the backend table decides nothing here: the reader of a domain is chosen
 * by what each candidate is (readable, counter, cost), ties by source name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "domain.h"
#include "utf8.h"

/* A CPU domain that names itself: a RAPL domain of a known package, or psys. */
static bool names_itself(const struct jl_domain *d)
{
	switch (d->kind) {
	case JOULES_KIND_CPU_PACKAGE:
	case JOULES_KIND_CPU_CORE:
	case JOULES_KIND_UNCORE:
	case JOULES_KIND_DRAM:
		return d->package >= 0 && d->cpu < 0 && !d->device[0];
	case JOULES_KIND_PLATFORM:
		return !d->device[0];
	}
	return false;
}

static const char *word(int kind)
{
	switch (kind) {
	case JOULES_KIND_CPU_PACKAGE: return "package";
	case JOULES_KIND_CPU_CORE: return "core";
	case JOULES_KIND_UNCORE: return "uncore";
	case JOULES_KIND_DRAM: return "dram";
	}
	return "psys";
}

void jl_domain_name(const struct jl_domain *dom, const char *id, const char *name,
		    struct joules_sensor *pub)
{
	if (names_itself(dom) || !id) {
		char n[JOULES_NAME_LEN];
		if (dom->kind == JOULES_KIND_PLATFORM || dom->package < 0)
			snprintf(n, sizeof n, "%s", word(dom->kind));
		else if (dom->die >= 0)
			snprintf(n, sizeof n, "%s-%d-die-%d", word(dom->kind), dom->package, dom->die);
		else
			snprintf(n, sizeof n, "%s-%d", word(dom->kind), dom->package);
		snprintf(pub->id, sizeof pub->id, "rapl:%.58s", n);
		snprintf(pub->name, sizeof pub->name, "%s", n);
	} else {
		snprintf(pub->id, sizeof pub->id, "%s", id);
		snprintf(pub->name, sizeof pub->name, "%s", name ? name : id);
	}
	/* One CPU's counter is placed by its die but shown on its socket. */
	if (dom->package >= 0 && dom->die >= 0 && dom->cpu < 0)
		snprintf(pub->device, sizeof pub->device, "socket %d die %d", dom->package, dom->die);
	else if (dom->package >= 0)
		snprintf(pub->device, sizeof pub->device, "socket %d", dom->package);
	else
		snprintf(pub->device, sizeof pub->device, "%s", dom->device);
}

/* Do two candidates measure one domain? */
static bool same_domain(const struct jl_domain *x, const struct jl_domain *y)
{
	if (x->alone || y->alone || x->kind != y->kind || x->instance != y->instance)
		return false;
	if (names_itself(x) || x->cpu >= 0)
		return x->package == y->package && x->die == y->die && x->cpu == y->cpu &&
		       strcmp(x->device, y->device) == 0;
	return x->device[0] && strcmp(x->device, y->device) == 0 && strcmp(x->part, y->part) == 0;
}

/* Is candidate a a better reader than b? */
static bool better(const struct jl_sensor *a, const struct jl_sensor *b)
{
	bool ra = a->pub.flags & JOULES_SENSOR_READABLE, rb = b->pub.flags & JOULES_SENSOR_READABLE;
	if (ra != rb)
		return ra;
	bool ia = a->pub.flags & JOULES_SENSOR_INTEGRATED, ib = b->pub.flags & JOULES_SENSOR_INTEGRATED;
	if (ia != ib)
		return !ia;
	if (a->cost_ns != b->cost_ns)
		return a->cost_ns < b->cost_ns;
	return strcmp(a->backend->name, b->backend->name) < 0;
}

static void release(struct jl_sensor *s)
{
	if (s->backend->release)
		s->backend->release(s);
	if (s->fd >= 0)
		close(s->fd);
	s->data = NULL;
	s->fd = -1;
}

/* Append a and b to buf, cut to fit. */
static void append(char *buf, size_t len, const char *a, const char *b)
{
	size_t used = strlen(buf);
	for (const char *p = a; *p && used + 1 < len; p++)
		buf[used++] = *p;
	for (const char *p = b; *p && used + 1 < len; p++)
		buf[used++] = *p;
	buf[used] = '\0';
}

/* Add a source to `also` whole, or "..." when it does not fit (the reason has the rest). */
static void add_also(char *also, size_t len, const char *item)
{
	size_t used = strlen(also), sep = used ? 2 : 0;
	if (used >= 3 && strcmp(also + used - 3, "...") == 0)
		return;
	if (used + sep + strlen(item) < len)
		append(also, len, sep ? ", " : "", item);
	else if (used + sep + 3 < len)
		append(also, len, sep ? ", " : "", "...");
}

/*
 * `win` reads the domain; the others of its group (group[k] == g) are
 * named in `also` (once per source), lend their fix to an unreadable
 * winner's reason, and are released.
 */
static void settle_group(joules_ctx *ctx, const size_t *group, size_t g, size_t win)
{
	struct jl_sensor *w = &ctx->sensors[win];
	for (size_t k = 0; k < ctx->n_sensors; k++) {
		struct jl_sensor *o = &ctx->sensors[k];
		if (k == win || group[k] != g)
			continue;
		bool readable = o->pub.flags & JOULES_SENSOR_READABLE;
		if (o->backend != w->backend) {
			char item[JOULES_SOURCE_LEN + 32];
			snprintf(item, sizeof item, "%.15s%s", o->backend->name,
				 readable ? "" : " (unreadable)");
			bool named = false;
			for (size_t j = 0; j < k && !named; j++)
				named = j != win && group[j] == g &&
					ctx->sensors[j].backend == o->backend;
			if (!named)
				add_also(w->pub.also, sizeof w->pub.also, item);
			if (!(w->pub.flags & JOULES_SENSOR_READABLE) && o->fix[0]) {
				char how[JOULES_SOURCE_LEN + 32];
				snprintf(how, sizeof how, "; or let %.15s read it: ", o->backend->name);
				append(w->pub.reason, sizeof w->pub.reason, how, o->fix);
			}
		}
		release(o);
	}
	if (!(w->pub.flags & JOULES_SENSOR_READABLE))
		snprintf(w->error, sizeof w->error, "%s", w->pub.reason);
}

/* The index of the sensor of this identity, or -1. */
static int find(const joules_ctx *ctx, int kind, int package, int die, uint32_t instance)
{
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		const struct jl_domain *d = &ctx->sensors[i].dom;
		if (d->kind == kind && d->package == package && d->die == die && d->cpu < 0 &&
		    d->instance == instance && (kind != JOULES_KIND_PLATFORM || !d->device[0]))
			return (int)i;
	}
	return -1;
}

static int find_part(const joules_ctx *ctx, const struct jl_domain *of)
{
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		const struct jl_domain *d = &ctx->sensors[i].dom;
		if (strcmp(d->device, of->device) == 0 && strcmp(d->part, of->within) == 0 &&
		    d->instance == of->instance)
			return (int)i;
	}
	return -1;
}

/*
 * The one containment rule: core and uncore inside their die or package;
 * a die inside its package (or psys when its package has no sensor of its
 * own); packages and DRAM inside psys; a device's part inside the part
 * named `within`.
 */
static int container(const joules_ctx *ctx, const struct jl_domain *d)
{
	int psys = find(ctx, JOULES_KIND_PLATFORM, -1, -1, 0);
	if (d->within[0])
		return find_part(ctx, d);
	switch (d->kind) {
	case JOULES_KIND_CPU_CORE:
	case JOULES_KIND_UNCORE: {
		if (d->package < 0)
			return -1;
		int p = d->die >= 0 ? find(ctx, JOULES_KIND_CPU_PACKAGE, d->package, d->die,
					   d->instance)
				    : -1;
		return p >= 0 ? p : find(ctx, JOULES_KIND_CPU_PACKAGE, d->package, -1, d->instance);
	}
	case JOULES_KIND_CPU_PACKAGE: {
		int p = d->die >= 0 && d->package >= 0
				? find(ctx, JOULES_KIND_CPU_PACKAGE, d->package, -1, d->instance)
				: -1;
		return p >= 0 ? p : psys;
	}
	case JOULES_KIND_DRAM:
		return psys;
	}
	return -1;
}

static bool id_taken(const joules_ctx *ctx, size_t before, const char *id)
{
	for (size_t i = 0; i < before; i++)
		if (strcmp(ctx->sensors[i].pub.id, id) == 0)
			return true;
	return false;
}

/* An id already taken gets "#2", "#3"... so ids stay unique. */
static void unique_ids(joules_ctx *ctx)
{
	for (size_t i = 1; i < ctx->n_sensors; i++) {
		struct joules_sensor *p = &ctx->sensors[i].pub;
		char id[JOULES_ID_LEN];
		snprintf(id, sizeof id, "%s", p->id);
		for (unsigned k = 2; id_taken(ctx, i, p->id); k++) {
			snprintf(p->id, sizeof p->id, "%.50s#%u", id, k);
			jl_utf8_clean(p->id); /* "%.50s" may have cut a character */
		}
	}
}

/* A source whose every candidate went to another source says so. */
static void note_merged(joules_ctx *ctx, const size_t *had)
{
	for (size_t b = 0; b < ctx->n_sources; b++) {
		struct jl_source *src = &ctx->sources[b];
		size_t kept = 0;
		for (size_t i = 0; i < ctx->n_sensors; i++)
			kept += ctx->sensors[i].backend == src->backend;
		if (had[b] && !kept && !src->note[0])
			snprintf(src->note, sizeof src->note,
				 "each of the %zu domains it found is read through another source "
				 "that reads it better (those sensors say \"also: %s\")",
				 had[b], src->backend->name);
	}
}

int jl_domains_merge(joules_ctx *ctx)
{
	size_t n = ctx->n_sensors;
	size_t *group = malloc((n ? n : 1) * sizeof *group);
	size_t *had = calloc(ctx->n_sources ? ctx->n_sources : 1, sizeof *had);
	if (!group || !had) {
		free(group);
		free(had);
		return JOULES_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		group[i] = i;
		for (size_t j = 0; j < i && group[i] == i; j++)
			if (group[j] == j && same_domain(&ctx->sensors[j].dom, &ctx->sensors[i].dom))
				group[i] = j;
		for (size_t b = 0; b < ctx->n_sources; b++)
			had[b] += ctx->sensors[i].backend == ctx->sources[b].backend;
	}
	/* Each group's reader, kept at the group's first place in the list. */
	size_t kept = 0;
	for (size_t g = 0; g < n; g++) {
		if (group[g] != g)
			continue;
		size_t win = g;
		for (size_t k = g + 1; k < n; k++)
			if (group[k] == g && better(&ctx->sensors[k], &ctx->sensors[win]))
				win = k;
		settle_group(ctx, group, g, win);
		struct jl_sensor w = ctx->sensors[win];
		if (win != g) { /* the domain keeps the first candidate's id */
			memcpy(w.pub.id, ctx->sensors[g].pub.id, sizeof w.pub.id);
			memcpy(w.pub.name, ctx->sensors[g].pub.name, sizeof w.pub.name);
		}
		/* Candidates before g are all settled: slots [0, kept) are free to take. */
		ctx->sensors[kept++] = w;
	}
	ctx->n_sensors = kept;
	unique_ids(ctx);
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		int p = container(ctx, &ctx->sensors[i].dom);
		ctx->sensors[i].pub.parent = p == (int)i ? -1 : p;
	}
	note_merged(ctx, had);
	free(group);
	free(had);
	return 0;
}
