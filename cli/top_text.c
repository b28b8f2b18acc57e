/* SPDX-License-Identifier: MIT */
/* `joules top` as plain text; see top_text.h. */
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "top_text.h"

void top_text_power(char *buf, size_t len, bool have, double watts)
{
	if (have)
		snprintf(buf, len, "%.2f", watts);
	else
		snprintf(buf, len, "-");
}

void top_text_energy(char *buf, size_t len, bool have, double joules)
{
	if (have)
		snprintf(buf, len, "%.3f", joules);
	else
		snprintf(buf, len, "-");
}

const char *top_text_group(int group)
{
	static const char *const labels[JOULES_TOTALS] = {"cpu total", "dram total", "gpu total",
						     "platform total"};
	return group >= 0 && group < JOULES_TOTALS ? labels[group] : "other";
}

int top_text_name_width(const struct top_model *m)
{
	size_t w = strlen("platform total");
	for (size_t i = 0; i < m->n; i++) {
		size_t len = (size_t)text_width(joules_sensor(m->ctx, i)->name) + 2; /* indented */
		if (len > w)
			w = len;
	}
	return (int)w;
}

int top_text_device_width(const struct top_model *m)
{
	size_t w = strlen("DEVICE");
	for (size_t i = 0; i < m->n; i++) {
		size_t len = (size_t)text_width(joules_sensor(m->ctx, i)->device);
		if (len > w)
			w = len;
	}
	return (int)w;
}

/* Whether sensor i has an energy to show: it read at least once. */
static bool has_energy(const struct top_sensor *s)
{
	return s->state != TOP_UNREADABLE && (s->have_last || s->energy_j > 0);
}

int top_text_frame(FILE *f, const struct top_model *m, enum top_sort sort, double interval_s,
		   double elapsed_s)
{
	int nw = top_text_name_width(m), dw = top_text_device_width(m);
	char power[32], energy[32], status[64];
	size_t *rows = calloc(m->n ? m->n : 1, sizeof *rows);
	if (!rows)
		return -1;
	top_model_order(m, sort, rows);
	fprintf(f, "joules top: %zu sensors, every %g s, %.1f s since start, sorted by %s\n", m->n,
		interval_s, elapsed_s, top_sort_names[sort]);
	fprintf(f, "%-*s  %-12s  %-*s  %10s  %12s  %s\n", nw, "SENSOR", "KIND", dw, "DEVICE",
		"POWER W", "ENERGY J", "STATUS");
	int group = -2;
	for (size_t r = 0; r < m->n; r++) {
		size_t i = rows[r];
		const struct joules_sensor *js = joules_sensor(m->ctx, i);
		const struct top_sensor *s = &m->s[i];
		if (top_model_group(m, i) != group) {
			group = top_model_group(m, i);
			if (group != TOP_GROUP_OTHER) {
				const struct top_total *t = &m->totals[group];
				top_text_power(power, sizeof power, t->missing_power < t->sensors,
					       t->power_w);
				top_text_energy(energy, sizeof energy, t->sensors > 0, t->energy_j);
				top_model_total_status(t, status, sizeof status);
			} else {
				power[0] = energy[0] = status[0] = '\0';
			}
			fprintf(f, "%-*s  %-12s  %-*s  %10s  %12s  %s\n", nw, top_text_group(group),
				"", dw, "", power, energy, status);
		}
		top_text_power(power, sizeof power, s->have_power, s->power_w);
		top_text_energy(energy, sizeof energy, has_energy(s), s->energy_j);
		top_model_status(m, i, status, sizeof status);
		/* Names and devices come from drivers: shown with controls escaped. */
		fputs("  ", f);
		text_pad(f, js->name, nw - 2);
		fprintf(f, "  %-12s  ", joules_kind_name(js->kind));
		text_pad(f, js->device, dw);
		fprintf(f, "  %10s  %12s  %s\n", power, energy, status);
	}
	if (!m->n)
		fputs("(no energy sensors here: 'joules list' shows what was looked for)\n", f);
	bool header = false;
	for (size_t r = 0; r < m->n; r++) {
		size_t i = rows[r];
		const struct top_sensor *s = &m->s[i];
		const char *why = s->state == TOP_UNREADABLE ? joules_sensor(m->ctx, i)->reason
				  : s->state == TOP_FAILED   ? joules_sensor_error(m->ctx, i)
							     : NULL;
		if (!why)
			continue;
		if (!header)
			fputs("\nNot measured:\n", f);
		header = true;
		fputs("  ", f);
		text_put(f, joules_sensor(m->ctx, i)->id);
		fputs(": ", f);
		text_put(f, *why ? why : joules_strerror(s->error));
		fputc('\n', f);
	}
	free(rows);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
