/* SPDX-License-Identifier: MIT */
/* Gathering runs into per-sensor and per-total figures. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void acc_add(struct acc *a, double x)
{
	a->n++;
	double d = x - a->mean;
	a->mean += d / a->n;
	a->m2 += d * (x - a->mean);
}

double acc_sd(const struct acc *a)
{
	return a->n > 1 ? sqrt(a->m2 / (a->n - 1)) : 0;
}

int report_init(struct report *r, const joules_ctx *ctx, const bool *selected)
{
	size_t n = joules_sensor_count(ctx);
	*r = (struct report){.ctx = ctx, .n = n, .selected = selected};
	r->sensors = calloc(n ? n : 1, sizeof *r->sensors);
	if (!r->sensors)
		return JOULES_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sensor_report *s = &r->sensors[i];
		s->selected = selected[i];
		/* bool and uint8_t are both one byte; unsigned char may read any object. */
		s->total = joules_total_of(ctx, (const uint8_t *)selected, i);
		if (s->total >= 0)
			r->totals[s->total].measured = r->totals[s->total].known = true;
	}
	return 0;
}

void report_free(struct report *r)
{
	free(r->sensors);
	r->sensors = NULL;
}

/* The region measured sensor i's energy over the whole run. */
static bool whole(const struct joules_region_sensor *p)
{
	return (p->flags & JOULES_REGION_HAS_ENERGY) &&
	       (p->state == JOULES_REGION_OK || p->state == JOULES_REGION_GAP);
}

void report_set_baseline(struct report *r, const struct joules_region_sensor *per, double seconds)
{
	r->baseline = true;
	r->baseline_s = seconds;
	for (size_t i = 0; i < r->n; i++) {
		r->sensors[i].idle_status = whole(&per[i]) ? 0 : per[i].error ? per[i].error
									       : JOULES_ERR_IO;
		r->sensors[i].idle_w = per[i].mean_w;
	}
}

/* A sensor's first failure marks it unknown. */
static void fail(struct report *r, size_t i, const struct joules_region_sensor *p)
{
	struct sensor_report *s = &r->sensors[i];
	if (s->status)
		return;
	s->status = p->error ? p->error : JOULES_ERR_IO;
	snprintf(s->reason, sizeof s->reason, "%s",
		 p->reason[0] ? p->reason : joules_strerror(s->status));
}

int report_add_run(struct report *r, const struct joules_region_sensor *per, uint64_t wall_ns,
		   int exit_status)
{
	struct joules_region_total tot[JOULES_TOTALS];
	int rc = joules_region_totals(r->ctx, (const uint8_t *)r->selected, per, r->n, tot);
	if (rc < 0)
		return rc;
	acc_add(&r->duration_s, (double)wall_ns / 1e9);
	r->exit_status = exit_status;
	for (size_t i = 0; i < r->n; i++) {
		struct sensor_report *s = &r->sensors[i];
		const struct joules_region_sensor *p = &per[i];
		if (!s->selected)
			continue;
		if (!whole(p)) {
			fail(r, i, p);
			continue;
		}
		acc_add(&s->energy_j, (double)p->energy_uj / 1e6);
		acc_add(&s->mean_w, p->mean_w);
		acc_add(&s->peak_w, p->peak_w);
		s->wraps += p->wraps;
		if (r->baseline && (p->flags & JOULES_REGION_HAS_IDLE))
			acc_add(&s->above_idle_j, (double)p->above_idle_uj / 1e6);
	}
	/* A total that could not be given once stays unknown, naming the sensor. */
	for (int t = 0; t < JOULES_TOTALS; t++) {
		struct total_report *tr = &r->totals[t];
		if (!tr->known)
			continue;
		if (!(tot[t].flags & JOULES_REGION_HAS_ENERGY)) {
			tr->known = false;
			tr->missing = tot[t].missing >= 0
					      ? joules_sensor(r->ctx, (size_t)tot[t].missing)->id
					      : joules_total_name(t);
			continue;
		}
		acc_add(&tr->j, (double)tot[t].energy_uj / 1e6);
		if (r->baseline && (tot[t].flags & JOULES_REGION_HAS_IDLE))
			acc_add(&tr->above_idle_j, (double)tot[t].above_idle_uj / 1e6);
	}
	return 0;
}

int output_status(FILE *f)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	return errno ? -errno : -EIO;
}
