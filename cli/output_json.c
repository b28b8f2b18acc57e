/* SPDX-License-Identifier: MIT */
/* The report as one JSON object (json-c). Unknown energies are null, never 0. */
#include <errno.h>

#include <json-c/json.h>

#include "report.h"
#include "text.h"

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

/* key: the mean; key_stddev: the spread, when there were several runs. */
static void add_acc(json_object *o, const char *key, const struct acc *a, char *buf, size_t len)
{
	add(o, key, json_object_new_double(a->mean));
	if (a->n > 1) {
		snprintf(buf, len, "%s_stddev", key);
		add(o, buf, json_object_new_double(acc_sd(a)));
	}
}

static json_object *sensor_json(const struct report *r, size_t i)
{
	const struct joules_sensor *js = joules_sensor(r->ctx, i);
	const struct sensor_report *s = &r->sensors[i];
	const struct joules_sensor *parent = js->parent >= 0 ? joules_sensor(r->ctx, (size_t)js->parent) : NULL;
	json_object *o = json_object_new_object();
	char key[64];
	add(o, "id", text_json(js->id));
	add(o, "name", text_json(js->name));
	add(o, "kind", json_object_new_string(joules_kind_name(js->kind)));
	add(o, "source", text_json(js->source));
	add(o, "device", text_json(js->device));
	add(o, "parent", parent ? text_json(parent->id) : NULL);
	add(o, "counted_in", s->total >= 0 ? json_object_new_string(joules_total_name(s->total)) : NULL);
	/* A reset counter was readable; its energy over the run is what is unknown. */
	add(o, "readable", json_object_new_boolean(s->status == 0 || s->status == JOULES_ERR_RESET));
	if (s->status) {
		add(o, "energy_j", NULL);
		add(o, "error", json_object_new_string(joules_strerror(s->status)));
		add(o, "reason", text_json(s->reason));
		return o;
	}
	add_acc(o, "energy_j", &s->energy_j, key, sizeof key);
	add_acc(o, "mean_w", &s->mean_w, key, sizeof key);
	add_acc(o, "peak_w", &s->peak_w, key, sizeof key);
	add(o, "wraps", json_object_new_int64(s->wraps));
	if (r->baseline && s->idle_status == 0) {
		add(o, "idle_w", json_object_new_double(s->idle_w));
		add_acc(o, "above_idle_j", &s->above_idle_j, key, sizeof key);
	}
	return o;
}

/* {"cpu_j": x, ...} from one figure of each total; null where unknown. */
static json_object *totals_json(const struct report *r, bool above_idle, bool stddev)
{
	json_object *o = json_object_new_object();
	char key[64];
	for (int t = 0; t < JOULES_TOTALS; t++) {
		const struct total_report *tr = &r->totals[t];
		const struct acc *a = above_idle ? &tr->above_idle_j : &tr->j;
		snprintf(key, sizeof key, "%s_j", joules_total_name(t));
		bool known = tr->known && a->n > 0;
		add(o, key, known ? json_object_new_double(stddev ? acc_sd(a) : a->mean) : NULL);
	}
	return o;
}

/* Why each null total is null. */
static json_object *missing_json(const struct report *r)
{
	json_object *o = json_object_new_object();
	char why[JOULES_ID_LEN + 64];
	for (int t = 0; t < JOULES_TOTALS; t++) {
		const struct total_report *tr = &r->totals[t];
		if (tr->known)
			continue;
		if (tr->measured)
			snprintf(why, sizeof why, "%s was not measured", tr->missing);
		else
			snprintf(why, sizeof why, "no %s sensor", joules_total_name(t));
		add(o, joules_total_name(t), text_json(why));
	}
	return o;
}

int output_json(const struct report *r, FILE *f)
{
	errno = 0;
	json_object *root = json_object_new_object(), *cmd = json_object_new_array();
	for (int i = 0; i < r->command_argc; i++)
		json_object_array_add(cmd, text_json(r->command[i]));
	add(root, "command", cmd);
	add(root, "exit_status", json_object_new_int(r->exit_status));
	add(root, "runs", json_object_new_int((int)r->duration_s.n));
	char key[64];
	add_acc(root, "duration_s", &r->duration_s, key, sizeof key);
	if (r->baseline)
		add(root, "baseline_s", json_object_new_double(r->baseline_s));
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < r->n; i++)
		if (r->sensors[i].selected)
			json_object_array_add(arr, sensor_json(r, i));
	add(root, "sensors", arr);
	add(root, "totals", totals_json(r, false, false));
	if (r->duration_s.n > 1)
		add(root, "totals_stddev", totals_json(r, false, true));
	if (r->baseline)
		add(root, "totals_above_idle", totals_json(r, true, false));
	add(root, "totals_missing", missing_json(r));
	text_json_print(f, root);
	json_object_put(root);
	return output_status(f);
}
