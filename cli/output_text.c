/* SPDX-License-Identifier: MIT */
/* The report as a table for people, in the manner of perf stat. */
#include <errno.h>
#include <string.h>

#include "report.h"
#include "text.h"

/* "  ± 1.2%" when there are several runs, else nothing. */
static void spread(FILE *f, const struct acc *a)
{
	if (a->n > 1)
		fprintf(f, " ±%5.1f%%", a->mean != 0 ? 100 * acc_sd(a) / a->mean : 0.0);
	else if (a->n == 1)
		fputs("        ", f);
}

static void command_line(const struct report *r, FILE *f)
{
	fputs("'", f);
	for (int i = 0; i < r->command_argc; i++) {
		if (i)
			fputc(' ', f);
		text_put(f, r->command[i]);
	}
	fputs("'", f);
}

/* Width of the SENSOR column: the longest selected id, at least 24. */
static int id_width(const struct report *r)
{
	int w = 24;
	for (size_t i = 0; i < r->n; i++) {
		int len = text_width(joules_sensor(r->ctx, i)->id);
		if (r->sensors[i].selected && len > w)
			w = len;
	}
	return w;
}

static void sensor_line(const struct report *r, size_t i, int w, FILE *f)
{
	const struct joules_sensor *js = joules_sensor(r->ctx, i);
	const struct sensor_report *s = &r->sensors[i];
	fputs("  ", f);
	text_pad(f, js->id, w);
	fprintf(f, " %-12s %12.6f", joules_kind_name(js->kind), s->energy_j.mean);
	spread(f, &s->energy_j);
	fprintf(f, " %10.3f %10.3f", s->mean_w.mean, s->peak_w.mean);
	if (r->baseline) {
		if (s->idle_status)
			fprintf(f, " %10s %12s", "-", "-");
		else
			fprintf(f, " %10.3f %12.6f", s->idle_w, s->above_idle_j.mean);
	}
	if (s->total < 0 && js->parent >= 0 && s->selected && joules_kind_total(js->kind) >= 0) {
		fputs("  (inside ", f);
		text_put(f, joules_sensor(r->ctx, (size_t)js->parent)->id);
		fputc(')', f);
	}
	if (s->wraps)
		fprintf(f, "  (%u wraps)", s->wraps);
	fputc('\n', f);
}

static void total_line(const struct report *r, int t, int w, FILE *f)
{
	const struct total_report *tr = &r->totals[t];
	/* "total " and the name span the SENSOR and KIND columns. */
	fprintf(f, "  total %-*s", w + 8, joules_total_name(t));
	if (!tr->measured) {
		fprintf(f, "  not measured (no %s sensor)\n", joules_total_name(t));
		return;
	}
	if (!tr->known) {
		fputs("  unknown: ", f);
		text_put(f, tr->missing);
		fputs(" was not measured\n", f);
		return;
	}
	fprintf(f, "%12.6f", tr->j.mean);
	if (r->baseline && tr->above_idle_j.n) {
		spread(f, &tr->j);
		fprintf(f, " %10s %10s %10s %12.6f", "", "", "", tr->above_idle_j.mean);
	} else if (tr->j.n > 1) {
		spread(f, &tr->j);
	}
	fputc('\n', f);
}

int output_text(const struct report *r, FILE *f)
{
	errno = 0;
	fputs("\n Energy of ", f);
	command_line(r, f);
	if (r->duration_s.n > 1 || r->runs_asked > 1)
		fprintf(f, " (%u of %u runs)", r->duration_s.n, r->runs_asked);
	fputs(":\n\n", f);
	int w = id_width(r);
	fprintf(f, "  %-*s %-12s %12s%s %10s %10s", w, "SENSOR", "KIND", "ENERGY J",
		r->duration_s.n > 1 ? "         " : "        ", "MEAN W", "PEAK W");
	if (r->baseline)
		fprintf(f, " %10s %12s", "IDLE W", "ABOVE IDLE J");
	fputc('\n', f);
	size_t failed = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->sensors[i].selected && !r->sensors[i].status)
			sensor_line(r, i, w, f);
		failed += r->sensors[i].selected && r->sensors[i].status;
	}
	bool any = false;
	for (size_t i = 0; i < r->n; i++)
		any |= r->sensors[i].selected;
	if (!any)
		fputs("  (no energy sensors here: 'joules list' shows what was looked for)\n", f);
	fputc('\n', f);
	for (int t = 0; t < JOULES_TOTALS; t++)
		total_line(r, t, w, f);
	if (failed) {
		fputs("\n Not measured:\n", f);
		for (size_t i = 0; i < r->n; i++) {
			if (!r->sensors[i].selected || !r->sensors[i].status)
				continue;
			fputs("  ", f);
			text_pad(f, joules_sensor(r->ctx, i)->id, w);
			fputc(' ', f);
			text_put(f, r->sensors[i].reason);
			fputc('\n', f);
		}
	}
	fprintf(f, "\n  %14.6f s wall time", r->duration_s.mean);
	if (r->duration_s.n > 1)
		spread(f, &r->duration_s);
	if (r->baseline)
		fprintf(f, "  (idle power measured over %.3f s before)", r->baseline_s);
	fputs("\n\n", f);
	return output_status(f);
}
