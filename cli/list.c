/* SPDX-License-Identifier: MIT */
/* joules list: every sensor, readable or not, and why not. */
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "joules.h"
#include "text.h"

static const char usage[] =
	"Usage: joules list [--json]\n"
	"\n"
	"List every energy sensor joules finds: its id, name, kind, source, device,\n"
	"the sensor containing it (so totals never count energy twice), and its\n"
	"cumulative counter in joules, or why it cannot be read and how to fix that.\n"
	"\n"
	"Options:\n"
	"  --json     one JSON object {\"sensors\": [...]} on stdout\n"
	"  -h, --help this text\n"
	"\n"
	"Exit status: 0 when the sensors were listed (readable or not), 1 when\n"
	"joules could not start, 2 on a usage error.\n";

/* Why a sensor gives no energy now: its fixed reason, or the read's error. */
static const char *why_not(const joules_ctx *ctx, size_t i, const struct joules_reading *r)
{
	if (r->status == 0)
		return NULL;
	const char *msg = joules_sensor_error(ctx, i);
	return *msg ? msg : joules_strerror(r->status);
}

/* How an integrated sensor's energy is made, and what that misses. */
static const char *integration_method(const struct joules_sensor *s, char *buf, size_t len)
{
	snprintf(buf, len,
		 "power sampled every %g ms and integrated (trapezoids) by a background "
		 "thread: load changes shorter than that are smoothed, and the energy since "
		 "the last sample is the reading's uncertainty",
		 s->refresh_us / 1000.0);
	return buf;
}

static const char *parent_id(const joules_ctx *ctx, const struct joules_sensor *s)
{
	const struct joules_sensor *p = s->parent >= 0 ? joules_sensor(ctx, (size_t)s->parent) : NULL;
	return p ? p->id : NULL;
}

static void add_u64_seconds(json_object *o, const char *key, uint64_t ns)
{
	if (ns)
		json_object_object_add(o, key, json_object_new_double((double)ns / 1e9));
}

static json_object *sensor_json(const joules_ctx *ctx, size_t i, const struct joules_reading *r)
{
	const struct joules_sensor *s = joules_sensor(ctx, i);
	json_object *o = json_object_new_object();
	const char *parent = parent_id(ctx, s);
	const char *reason = why_not(ctx, i, r);
	json_object_object_add(o, "id", text_json(s->id));
	json_object_object_add(o, "name", text_json(s->name));
	json_object_object_add(o, "kind", text_json(joules_kind_name(s->kind)));
	json_object_object_add(o, "source", text_json(s->source));
	json_object_object_add(o, "device", text_json(s->device));
	json_object_object_add(o, "parent", parent ? text_json(parent) : NULL);
	json_object_object_add(o, "unit", text_json(
		(s->flags & JOULES_SENSOR_INTEGRATED) ? "integrated-power" : "energy-counter"));
	json_object_object_add(o, "readable", json_object_new_boolean(reason == NULL));
	if (reason) {
		json_object_object_add(o, "reason", text_json(reason));
		json_object_object_add(o, "error", text_json(joules_strerror(r->status)));
	} else {
		json_object_object_add(o, "energy_j", json_object_new_double((double)r->energy_uj / 1e6));
	}
	if (s->range_uj)
		json_object_object_add(o, "range_j", json_object_new_double((double)s->range_uj / 1e6));
	if (s->max_power_uw)
		json_object_object_add(o, "max_power_w",
				       json_object_new_double((double)s->max_power_uw / 1e6));
	add_u64_seconds(o, "wrap_period_s", s->wrap_period_ns);
	if (s->refresh_us)
		json_object_object_add(o, "refresh_us", json_object_new_int64(s->refresh_us));
	/* Another source of the same domain, not used so it is not counted twice. */
	if (*s->also)
		json_object_object_add(o, "also_available", text_json(s->also));
	if (s->flags & JOULES_SENSOR_INTEGRATED) {
		char method[256];
		json_object_object_add(o, "method", text_json(integration_method(
							  s, method, sizeof method)));
	}
	/* Through joulesd's shared page, or read by this process itself. */
	json_object_object_add(o, "via", json_object_new_string(
		(s->flags & JOULES_SENSOR_VIA_DAEMON) ? "daemon" : "direct"));
	return o;
}

static int print_json(const joules_ctx *ctx, const struct joules_reading *r, size_t n)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, sensor_json(ctx, i, &r[i]));
	json_object_object_add(root, "sensors", arr);
	json_object *sources = json_object_new_array();
	for (size_t i = 0; i < joules_source_count(ctx); i++) {
		json_object *src = json_object_new_object();
		const char *note = joules_source_note(ctx, i);
		json_object_object_add(src, "name", text_json(joules_source_name(ctx, i)));
		json_object_object_add(src, "note", *note ? text_json(note) : NULL);
		json_object_array_add(sources, src);
	}
	json_object_object_add(root, "sources", sources);
	text_json_print(stdout, root);
	json_object_put(root);
	return CLI_EXIT_OK;
}

/* Column widths: each as wide as its widest cell. */
struct widths {
	int id, name, device, inside;
};

static int widest(int w, const char *cell)
{
	int len = text_width(cell);
	return len > w ? len : w;
}

static struct widths measure(const joules_ctx *ctx, size_t n)
{
	struct widths w = {(int)strlen("ID"), (int)strlen("NAME"), (int)strlen("DEVICE"),
			   (int)strlen("INSIDE")};
	for (size_t i = 0; i < n; i++) {
		const struct joules_sensor *s = joules_sensor(ctx, i);
		const char *parent = parent_id(ctx, s);
		w.id = widest(w.id, s->id);
		w.name = widest(w.name, s->name);
		w.device = widest(w.device, s->device);
		w.inside = widest(w.inside, parent ? parent : "-");
	}
	return w;
}

static int print_table(const joules_ctx *ctx, const struct joules_reading *r, size_t n)
{
	struct widths w = measure(ctx, n);
	if (n == 0)
		puts("No energy sensors found.");
	else
		printf("%-*s %-*s %-12s %-9s %-*s %-*s %16s  %s\n", w.id, "ID", w.name, "NAME",
		       "KIND", "SOURCE", w.device, "DEVICE", w.inside, "INSIDE", "ENERGY (J)",
		       "STATUS");
	for (size_t i = 0; i < n; i++) {
		const struct joules_sensor *s = joules_sensor(ctx, i);
		const char *parent = parent_id(ctx, s);
		const char *reason = why_not(ctx, i, &r[i]);
		char energy[32] = "-";
		const char *ok = (s->flags & JOULES_SENSOR_INTEGRATED) ? "ok (integrated from power)"
								       : "ok";
		if (!reason)
			snprintf(energy, sizeof energy, "%" PRIu64 ".%06" PRIu64,
				 r[i].energy_uj / 1000000u, r[i].energy_uj % 1000000u);
		text_pad(stdout, s->id, w.id);
		putchar(' ');
		text_pad(stdout, s->name, w.name);
		printf(" %-12s ", joules_kind_name(s->kind));
		text_pad(stdout, s->source, 9);
		putchar(' ');
		text_pad(stdout, *s->device ? s->device : "-", w.device);
		putchar(' ');
		text_pad(stdout, parent ? parent : "-", w.inside);
		printf(" %16s  ", energy);
		text_put(stdout, reason ? reason : ok);
		if (*s->also) {
			fputs(" (also: ", stdout);
			text_put(stdout, s->also);
			putchar(')');
		}
		putchar('\n');
	}
	for (size_t i = 0; i < joules_source_count(ctx); i++) {
		const char *note = joules_source_note(ctx, i);
		if (!*note)
			continue;
		text_put(stdout, joules_source_name(ctx, i));
		fputs(": ", stdout);
		text_put(stdout, note);
		putchar('\n');
	}
	return CLI_EXIT_OK;
}

int cli_list(int argc, char **argv)
{
	bool json;
	int exit_now = cli_json_only_options(argc, argv, "list", usage, &json);
	if (exit_now >= 0)
		return exit_now;

	joules_ctx *ctx;
	if (cli_open("list", &ctx) < 0)
		return CLI_EXIT_FAILURE;
	size_t n = joules_sensor_count(ctx);
	struct joules_reading *readings = calloc(n ? n : 1, sizeof *readings);
	if (!readings) {
		joules_close(ctx);
		fputs("joules list: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	joules_read(ctx, readings, n);
	int rc = json ? print_json(ctx, readings, n) : print_table(ctx, readings, n);
	free(readings);
	joules_close(ctx);
	return rc;
}
