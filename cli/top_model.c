/* SPDX-License-Identifier: MIT */
/* The numbers behind `joules top`; see top_model.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top_model.h"

const char *const top_sort_names[TOP_N_SORTS] = {"kind", "power", "energy", "name"};

int top_model_init(struct top_model *m, const joules_ctx *ctx)
{
	size_t n = joules_sensor_count(ctx), size = n ? n : 1;
	*m = (struct top_model){.ctx = ctx, .n = n};
	m->s = calloc(size, sizeof *m->s);
	m->pending = calloc(size, sizeof *m->pending);
	m->waiting = calloc(size, sizeof *m->waiting);
	if (!m->s || !m->pending || !m->waiting) {
		top_model_free(m);
		return JOULES_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		m->s[i].state = joules_sensor(ctx, i)->flags & JOULES_SENSOR_READABLE
					? TOP_WAITING
					: TOP_UNREADABLE;
	return 0;
}

void top_model_free(struct top_model *m)
{
	free(m->s);
	free(m->pending);
	free(m->waiting);
	*m = (struct top_model){0};
}

static void push(struct top_sensor *s, float w)
{
	s->ring[s->ring_next] = w;
	s->ring_next = (s->ring_next + 1) % TOP_RING;
	if (s->ring_len < TOP_RING)
		s->ring_len++;
}

/* Start again from r after a gap whose energy is not known. */
static void restart(struct top_sensor *s, const struct joules_reading *r, enum top_gap gap)
{
	s->gap = gap;
	s->last = *r;
	s->broken = false;
	s->have_power = false;
	s->state = TOP_WAITING;
}

/* One final reading of sensor s. */
static void take(struct top_sensor *s, const struct joules_reading *r)
{
	uint64_t uj;
	if (s->state == TOP_UNREADABLE)
		return;
	if (r->status != 0) {
		if (s->state != TOP_FAILED)
			push(s, NAN);
		s->state = TOP_FAILED;
		s->error = r->status;
		s->have_power = false;
		s->broken = true;
		return;
	}
	if (!s->have_last) {
		s->have_last = true;
		restart(s, r, s->broken ? TOP_GAP_OUTAGE : TOP_GAP_NONE);
		return;
	}
	if (r->time_ns <= s->last.time_ns)
		return;
	if (s->broken) {
		restart(s, r, TOP_GAP_OUTAGE);
		return;
	}
	int rc = joules_delta(&s->last, r, &uj);
	if (rc == JOULES_ERR_RESET) {
		push(s, NAN);
		restart(s, r, TOP_GAP_RESET);
		return;
	}
	if (rc < 0) {
		s->state = TOP_FAILED;
		s->error = rc;
		s->have_power = false;
		s->broken = true;
		return;
	}
	double j = (double)uj / 1e6, sec = (double)(r->time_ns - s->last.time_ns) / 1e9;
	if (!s->uncounted)
		s->energy_j += j;
	s->uncounted = false;
	s->power_w = j / sec;
	s->have_power = true;
	s->state = TOP_OK;
	s->last = *r;
	push(s, (float)s->power_w);
}

static void sum_totals(struct top_model *m)
{
	memset(m->totals, 0, sizeof m->totals);
	for (size_t i = 0; i < m->n; i++) {
		int t = joules_total_of(m->ctx, NULL, i);
		if (t < 0 || t >= JOULES_TOTALS)
			continue;
		const struct top_sensor *s = &m->s[i];
		struct top_total *tt = &m->totals[t];
		tt->sensors++;
		if (s->have_power)
			tt->power_w += s->power_w;
		else
			tt->missing_power++;
		tt->energy_j += s->energy_j;
		if (s->state == TOP_FAILED || s->state == TOP_UNREADABLE || s->gap != TOP_GAP_NONE)
			tt->incomplete++;
	}
}

void top_model_take_settled(struct top_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!m->waiting[i] || (m->pending[i].flags & JOULES_READING_PROVISIONAL))
			continue;
		take(&m->s[i], &m->pending[i]);
		m->waiting[i] = false;
		m->pending[i] = (struct joules_reading){0};
	}
	sum_totals(m);
}

void top_model_add(struct top_model *m, const struct joules_reading *snap)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!(snap[i].flags & JOULES_READING_PROVISIONAL) || snap[i].status != 0) {
			if (!m->waiting[i])
				take(&m->s[i], &snap[i]);
		} else if (!m->waiting[i]) {
			m->pending[i] = snap[i];
			m->waiting[i] = true;
		}
	}
	sum_totals(m);
}

void top_model_reset(struct top_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		m->s[i].energy_j = 0;
		m->s[i].gap = TOP_GAP_NONE;
		m->s[i].uncounted = m->waiting[i];
	}
	sum_totals(m);
}

int top_model_group(const struct top_model *m, size_t i)
{
	int t = joules_kind_total(joules_sensor(m->ctx, i)->kind);
	return t >= 0 && t < JOULES_TOTALS ? t : TOP_GROUP_OTHER;
}

/* Group order: the totals, then "other" last. */
static int group_rank(const struct top_model *m, size_t i)
{
	int g = top_model_group(m, i);
	return g == TOP_GROUP_OTHER ? JOULES_TOTALS : g;
}

/* < 0 when sensor a goes before b. */
static int compare(const struct top_model *m, enum top_sort sort, size_t a, size_t b)
{
	int d = group_rank(m, a) - group_rank(m, b);
	if (d)
		return d;
	const struct top_sensor *sa = &m->s[a], *sb = &m->s[b];
	/* Rows without a value go after those with one. */
	double va = 0, vb = 0;
	switch (sort) {
	case TOP_SORT_KIND:
		d = joules_sensor(m->ctx, a)->kind - joules_sensor(m->ctx, b)->kind;
		break;
	case TOP_SORT_POWER:
		va = sa->have_power ? sa->power_w : -1;
		vb = sb->have_power ? sb->power_w : -1;
		d = va > vb ? -1 : va < vb;
		break;
	case TOP_SORT_ENERGY:
		va = sa->state == TOP_UNREADABLE ? -1 : sa->energy_j;
		vb = sb->state == TOP_UNREADABLE ? -1 : sb->energy_j;
		d = va > vb ? -1 : va < vb;
		break;
	case TOP_SORT_NAME:
		d = strcmp(joules_sensor(m->ctx, a)->name, joules_sensor(m->ctx, b)->name);
		break;
	case TOP_N_SORTS:
		break;
	}
	return d ? d : (a > b) - (a < b);
}

void top_model_order(const struct top_model *m, enum top_sort sort, size_t *rows)
{
	/* Insertion sort: a few dozen sensors, and stable by construction. */
	for (size_t i = 0; i < m->n; i++) {
		size_t j = i;
		for (; j > 0 && compare(m, sort, rows[j - 1], i) > 0; j--)
			rows[j] = rows[j - 1];
		rows[j] = i;
	}
}

/* Short words for the errors a reading can have. */
static const char *error_word(int err)
{
	switch (err) {
	case JOULES_ERR_LOST:
		return "lost";
	case JOULES_ERR_IO:
		return "read error";
	case JOULES_ERR_PERMISSION:
		return "no permission";
	case JOULES_ERR_PARSE:
		return "bad value";
	case JOULES_ERR_NOT_COUNTING:
		return "not counting";
	}
	return joules_strerror(err);
}

void top_model_status(const struct top_model *m, size_t i, char *buf, size_t len)
{
	const struct top_sensor *s = &m->s[i];
	switch (s->state) {
	case TOP_UNREADABLE:
		snprintf(buf, len, "unreadable");
		return;
	case TOP_FAILED:
		snprintf(buf, len, "failed: %s", error_word(s->error));
		return;
	case TOP_WAITING:
	case TOP_OK:
		break;
	}
	if (s->gap == TOP_GAP_RESET)
		snprintf(buf, len, "counter reset");
	else if (s->gap == TOP_GAP_OUTAGE)
		snprintf(buf, len, "recovered");
	else
		snprintf(buf, len, "%s", s->state == TOP_OK ? "ok" : "waiting");
}

void top_model_total_status(const struct top_total *t, char *buf, size_t len)
{
	if (!t->sensors)
		snprintf(buf, len, "not measured");
	else if (t->incomplete)
		snprintf(buf, len, "%u of %u incomplete", t->incomplete, t->sensors);
	else if (t->missing_power)
		snprintf(buf, len, "waiting");
	else
		snprintf(buf, len, "ok");
}

void top_model_recent(const struct top_model *m, size_t i, float *out, unsigned count)
{
	const struct top_sensor *s = &m->s[i];
	unsigned have = s->ring_len < count ? s->ring_len : count;
	for (unsigned k = 0; k < count - have; k++)
		out[k] = NAN;
	for (unsigned k = 0; k < have; k++)
		out[count - have + k] = s->ring[(s->ring_next + TOP_RING - have + k) % TOP_RING];
}
