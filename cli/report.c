/* SPDX-License-Identifier: MIT */
/* Gathering runs into per-sensor and per-total figures. */
#include <errno.h>
#include <math.h>
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
	*r = (struct report){.ctx = ctx, .n = n};
	r->sensors = calloc(n ? n : 1, sizeof *r->sensors);
	if (!r->sensors)
		return JOULES_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sensor_report *s = &r->sensors[i];
		s->selected = selected[i];
		s->total = selected[i] ? total_counted(ctx, selected, i) : TOTAL_NONE;
		if (s->total != TOTAL_NONE)
			r->totals[s->total].measured = r->totals[s->total].known = true;
	}
	return 0;
}

void report_free(struct report *r)
{
	free(r->sensors);
	r->sensors = NULL;
}

void report_set_baseline(struct report *r, const struct sampler *s, double seconds)
{
	r->baseline = true;
	r->baseline_s = seconds;
	for (size_t i = 0; i < r->n; i++) {
		struct sensor_result res;
		sampler_result(s, i, &res);
		r->sensors[i].idle_status = res.status;
		r->sensors[i].idle_w = res.mean_w;
	}
}

/* A sensor's first failure marks it, and every total it adds to, unknown. */
static void fail(struct report *r, size_t i, const struct sensor_result *res)
{
	struct sensor_report *s = &r->sensors[i];
	if (!s->status) {
		s->status = res->status;
		snprintf(s->reason, sizeof s->reason, "%s", res->reason);
	}
	if (s->total != TOTAL_NONE && r->totals[s->total].known) {
		r->totals[s->total].known = false;
		r->totals[s->total].missing = joules_sensor(r->ctx, i)->id;
	}
}

void report_add_run(struct report *r, const struct sampler *smp, uint64_t wall_ns, int exit_status)
{
	double sum[N_TOTALS] = {0}, above[N_TOTALS] = {0};
	bool idle_known[N_TOTALS] = {true, true, true, true};
	acc_add(&r->duration_s, (double)wall_ns / 1e9);
	r->exit_status = exit_status;
	for (size_t i = 0; i < r->n; i++) {
		struct sensor_report *s = &r->sensors[i];
		if (!s->selected)
			continue;
		struct sensor_result res;
		sampler_result(smp, i, &res);
		if (res.status) {
			fail(r, i, &res);
			continue;
		}
		acc_add(&s->energy_j, res.energy_j);
		acc_add(&s->mean_w, res.mean_w);
		acc_add(&s->peak_w, res.peak_w);
		s->wraps += res.wraps;
		double extra = res.energy_j - s->idle_w * res.seconds;
		if (r->baseline && s->idle_status == 0)
			acc_add(&s->above_idle_j, extra);
		if (s->total == TOTAL_NONE)
			continue;
		sum[s->total] += res.energy_j;
		above[s->total] += extra;
		idle_known[s->total] &= s->idle_status == 0;
	}
	for (int t = 0; t < N_TOTALS; t++) {
		if (!r->totals[t].known)
			continue;
		acc_add(&r->totals[t].j, sum[t]);
		if (r->baseline && idle_known[t])
			acc_add(&r->totals[t].above_idle_j, above[t]);
	}
}

int output_status(FILE *f)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	return errno ? -errno : -EIO;
}
