/* SPDX-License-Identifier: MIT */
/* Polling the library into the pages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h" /* the sensors' domains: served so clients can merge them */
#include "publish.h"

static void copy_meta(struct jld_sensor *m, const struct jl_sensor *js)
{
	const struct joules_sensor *s = &js->pub;
	const struct jl_domain *d = &js->dom;
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", s->id);
	snprintf(m->name, sizeof m->name, "%s", s->name);
	snprintf(m->source, sizeof m->source, "%s", s->source);
	snprintf(m->device, sizeof m->device, "%s", s->device);
	m->kind = s->kind;
	m->parent = -1;
	m->flags = s->flags;
	m->resolution_uj = s->resolution_uj;
	m->range_uj = s->range_uj;
	m->max_power_uw = s->max_power_uw;
	m->wrap_period_ns = s->wrap_period_ns;
	m->refresh_us = s->refresh_us;
	m->dom_package = d->package;
	m->dom_die = d->die;
	m->dom_cpu = d->cpu;
	m->dom_instance = d->instance;
	m->dom_alone = d->alone;
	snprintf(m->dom_device, sizeof m->dom_device, "%s", d->device);
	snprintf(m->dom_part, sizeof m->dom_part, "%s", d->part);
	snprintf(m->dom_within, sizeof m->dom_within, "%s", d->within);
}

static uint64_t new_generation(void)
{
	uint64_t g = 0;
	if (getrandom(&g, sizeof g, 0) != (ssize_t)sizeof g) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	return g | 1; /* never 0: 0 means "no daemon seen yet" to clients */
}

/* The full view: every sensor the daemon can read, parents mapped. */
static int make_full(struct publisher *p, char *err, size_t err_len)
{
	p->lib_index = calloc(p->n_lib ? p->n_lib : 1, sizeof *p->lib_index);
	p->full.meta = calloc(p->n_lib ? p->n_lib : 1, sizeof *p->full.meta);
	int32_t *to_view = calloc(p->n_lib ? p->n_lib : 1, sizeof *to_view);
	if (!p->lib_index || !p->full.meta || !to_view) {
		free(to_view);
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	uint32_t n = 0;
	for (size_t i = 0; i < p->n_lib; i++) {
		const struct joules_sensor *s = joules_sensor(p->ctx, i);
		to_view[i] = -1;
		if (!(s->flags & JOULES_SENSOR_READABLE) || n == JLD_MAX_SENSORS)
			continue;
		to_view[i] = (int32_t)n;
		p->lib_index[n] = (uint32_t)i;
		copy_meta(&p->full.meta[n], &p->ctx->sensors[i]);
		n++;
	}
	for (uint32_t v = 0; v < n; v++) {
		const struct joules_sensor *s = joules_sensor(p->ctx, p->lib_index[v]);
		/* The nearest container the daemon serves. */
		for (int32_t up = s->parent; up >= 0; up = joules_sensor(p->ctx, (size_t)up)->parent)
			if (to_view[up] >= 0) {
				p->full.meta[v].parent = to_view[up];
				break;
			}
	}
	free(to_view);
	p->full.n = n;
	return page_create(&p->full.page, "joulesd-full", n, p->interval_ns, p->generation, err,
			   err_len) < 0 ? -1 : 0;
}

static const struct {
	int kind;
	const char *id, *name;
} public_totals[PUBLIC_TOTALS] = {
	{JOULES_KIND_CPU_PACKAGE, "total:cpu-package", "CPU packages (public, 1 J)"},
	{JOULES_KIND_DRAM, "total:dram", "DRAM (public, 1 J)"},
	{JOULES_KIND_GPU, "total:gpu", "GPUs (public, 1 J)"},
};

/* The public view: one total per kind that has sensors. */
static int make_public(struct publisher *p, char *err, size_t err_len)
{
	p->pub.meta = calloc(PUBLIC_TOTALS, sizeof *p->pub.meta);
	if (!p->pub.meta) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	uint32_t n = 0;
	for (size_t t = 0; t < PUBLIC_TOTALS; t++) {
		bool any = false;
		for (uint32_t v = 0; v < p->full.n; v++)
			any |= p->full.meta[v].kind == public_totals[t].kind;
		if (!any)
			continue;
		struct jld_sensor *m = &p->pub.meta[n];
		memset(m, 0, sizeof *m);
		snprintf(m->id, sizeof m->id, "%s", public_totals[t].id);
		snprintf(m->name, sizeof m->name, "%s", public_totals[t].name);
		snprintf(m->source, sizeof m->source, "joulesd");
		m->kind = public_totals[t].kind;
		m->parent = -1;
		m->dom_package = m->dom_die = m->dom_cpu = -1;
		m->dom_alone = 1;
		m->flags = JOULES_SENSOR_READABLE;
		m->resolution_uj = (uint32_t)PUBLIC_RESOLUTION_UJ;
		p->pub_kind[n++] = (uint32_t)public_totals[t].kind;
	}
	p->pub.n = n;
	return page_create(&p->pub.page, "joulesd-public", n, PUBLIC_INTERVAL_NS, p->generation,
			   err, err_len) < 0 ? -1 : 0;
}

int publisher_open(struct publisher *p, uint64_t interval_ns, bool public_on, char *err,
		   size_t err_len)
{
	memset(p, 0, sizeof *p);
	p->full.page.fd = p->pub.page.fd = -1;
	/* Direct: the daemon never reads through another daemon. */
	struct joules_open_opts o = {.size = sizeof o, .policy = JOULES_POLICY_DIRECT};
	int r = joules_open_with(&p->ctx, &o);
	if (r < 0) {
		snprintf(err, err_len, "cannot open the sensors (libjoules): %s", joules_strerror(r));
		return -1;
	}
	p->n_lib = joules_sensor_count(p->ctx);
	p->buf = calloc(p->n_lib ? p->n_lib : 1, sizeof *p->buf);
	if (!p->buf) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	p->interval_ns = interval_ns;
	for (size_t i = 0; i < p->n_lib; i++) {
		uint64_t wrap = joules_sensor(p->ctx, i)->wrap_period_ns;
		if (wrap && wrap / 2 < p->interval_ns)
			p->interval_ns = wrap / 2;
	}
	p->generation = new_generation();
	p->public_on = public_on;
	if (make_full(p, err, err_len) < 0)
		return -1;
	if (public_on && make_public(p, err, err_len) < 0)
		return -1;
	return 0;
}

/* Power over the ring: oldest to newest of the same counter run. */
static uint64_t ring_power_uw(const struct jld_page_sensor *s, const struct jld_slot *now)
{
	uint32_t count = jld_load32(&s->count);
	if (count == 0)
		return 0;
	uint32_t oldest = (jld_load32(&s->head) + JLD_RING + 1 - count) % JLD_RING;
	const struct jld_slot *o = &s->ring[oldest]; /* read before the new slot replaces it */
	if (o->status || now->status || o->resets != now->resets || now->time_ns <= o->time_ns ||
	    now->energy_uj < o->energy_uj)
		return 0;
	return (uint64_t)((unsigned __int128)(now->energy_uj - o->energy_uj) * 1000000000u /
			  (now->time_ns - o->time_ns));
}

static void poll_public(struct publisher *p, uint64_t now_ns)
{
	page_begin(&p->pub.page);
	for (uint32_t t = 0; t < p->pub.n; t++) {
		struct jld_slot slot = {.time_ns = now_ns};
		for (uint32_t v = 0; v < p->full.n; v++) {
			const struct joules_reading *r = &p->buf[p->lib_index[v]];
			if ((uint32_t)p->full.meta[v].kind != p->pub_kind[t])
				continue;
			if (r->status && !slot.status)
				slot.status = r->status;
			slot.energy_uj += r->energy_uj;
			slot.resets += r->resets;
		}
		/* Whole joules, truncated: the public page never says more. */
		slot.energy_uj -= slot.energy_uj % PUBLIC_RESOLUTION_UJ;
		slot.uncertainty_uj = (uint32_t)PUBLIC_RESOLUTION_UJ;
		page_put(&p->pub.page, t, &slot, 0);
	}
	page_end(&p->pub.page, now_ns);
}

void publisher_poll(struct publisher *p, uint64_t now_ns)
{
	joules_read(p->ctx, p->buf, p->n_lib);
	page_begin(&p->full.page);
	for (uint32_t v = 0; v < p->full.n; v++) {
		const struct joules_reading *r = &p->buf[p->lib_index[v]];
		struct jld_slot slot = {
			.energy_uj = r->energy_uj,
			.time_ns = r->time_ns,
			.uncertainty_uj = r->uncertainty_uj,
			.resets = r->resets,
			.status = r->status,
			.flags = r->flags,
		};
		const struct jld_page_sensor *ps = &jld_page_sensors(p->full.page.h)[v];
		page_put(&p->full.page, v, &slot, ring_power_uw(ps, &slot));
	}
	page_end(&p->full.page, now_ns);
	if (p->public_on && now_ns >= p->next_public_ns) {
		poll_public(p, now_ns);
		p->next_public_ns = now_ns + PUBLIC_INTERVAL_NS;
	}
}

void publisher_stop(struct publisher *p)
{
	page_stop(&p->full.page);
	if (p->public_on)
		page_stop(&p->pub.page);
}

void publisher_close(struct publisher *p)
{
	page_destroy(&p->full.page);
	page_destroy(&p->pub.page);
	free(p->full.meta);
	free(p->pub.meta);
	free(p->lib_index);
	free(p->buf);
	joules_close(p->ctx);
	memset(p, 0, sizeof *p);
}
