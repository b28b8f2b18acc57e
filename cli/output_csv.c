/* SPDX-License-Identifier: MIT */
/*
 * The report as CSV (RFC 4180): a header, one row per selected sensor, then
 * one row per total with kind "total" and id "total:cpu" etc. An unknown
 * figure is an empty field, never 0; `reason` says why.
 */
#include <errno.h>
#include <string.h>

#include "csv.h"
#include "report.h"

static const char header[] =
	"id,name,kind,readable,energy_j,energy_j_stddev,mean_w,peak_w,idle_w,above_idle_j,reason\n";

/* ",v", or "," when not known. */
static void number(FILE *f, bool known, double v)
{
	fputc(',', f);
	csv_number(f, known, v);
}

static void sensor_row(const struct report *r, size_t i, FILE *f)
{
	const struct joules_sensor *js = joules_sensor(r->ctx, i);
	const struct sensor_report *s = &r->sensors[i];
	bool ok = s->status == 0, idle = ok && r->baseline && s->idle_status == 0;
	csv_field(f, js->id);
	fputc(',', f);
	csv_field(f, js->name);
	fprintf(f, ",%s,%s", joules_kind_name(js->kind),
		ok || s->status == JOULES_ERR_RESET ? "true" : "false");
	number(f, ok, s->energy_j.mean);
	number(f, ok && s->energy_j.n > 1, acc_sd(&s->energy_j));
	number(f, ok, s->mean_w.mean);
	number(f, ok, s->peak_w.mean);
	number(f, idle, s->idle_w);
	number(f, idle, s->above_idle_j.mean);
	fputc(',', f);
	csv_field(f, ok ? "" : s->reason);
	fputc('\n', f);
}

static void total_row(const struct report *r, int t, FILE *f)
{
	const struct total_report *tr = &r->totals[t];
	bool idle = tr->known && r->baseline && tr->above_idle_j.n;
	char why[JOULES_ID_LEN + 64] = "";
	if (!tr->measured)
		snprintf(why, sizeof why, "no %s sensor", joules_total_name(t));
	else if (!tr->known)
		snprintf(why, sizeof why, "%s was not measured", tr->missing);
	fprintf(f, "total:%s,%s,total,%s", joules_total_name(t), joules_total_name(t),
		tr->known ? "true" : "false");
	number(f, tr->known, tr->j.mean);
	number(f, tr->known && tr->j.n > 1, acc_sd(&tr->j));
	fputs(",,", f);
	number(f, false, 0);
	number(f, idle, tr->above_idle_j.mean);
	fputc(',', f);
	csv_field(f, why);
	fputc('\n', f);
}

int output_csv(const struct report *r, FILE *f)
{
	errno = 0;
	fputs(header, f);
	for (size_t i = 0; i < r->n; i++)
		if (r->sensors[i].selected)
			sensor_row(r, i, f);
	for (int t = 0; t < JOULES_TOTALS; t++)
		total_row(r, t, f);
	return output_status(f);
}
