/* SPDX-License-Identifier: MIT */
/* The exposition text: HELP and TYPE, then one sample per sensor. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "metrics_format.h"

struct out {
	char *buf;
	size_t len, pos; /* pos counts every byte, written or not */
};

static void put_char(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	for (int i = 0; i < n && i < (int)sizeof tmp - 1; i++)
		put_char(o, tmp[i]);
}

/* A label value: \ " and newline escaped, as the text format requires. */
static void put_label(struct out *o, const char *name, const char *value, bool first)
{
	put(o, "%s%s=\"", first ? "" : ",", name);
	for (const char *c = value ? value : ""; *c; c++) {
		if (*c == '\\' || *c == '"') {
			put_char(o, '\\');
			put_char(o, *c);
		} else if (*c == '\n') {
			put_char(o, '\\');
			put_char(o, 'n');
		} else {
			put_char(o, *c);
		}
	}
	put_char(o, '"');
}

static void put_labels(struct out *o, const struct metrics_sensor *s)
{
	put_char(o, '{');
	put_label(o, "sensor", s->id, true);
	put_label(o, "kind", s->kind, false);
	put_label(o, "device", s->device, false);
	put_char(o, '}');
}

/* A micro-unit integer as an exact decimal of the unit (no float rounding). */
static void put_micro(struct out *o, uint64_t micro)
{
	put(o, " %" PRIu64 ".%06" PRIu64 "\n", micro / 1000000u, micro % 1000000u);
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

size_t metrics_format(char *buf, size_t len, const struct metrics_info *info,
		      const struct metrics_sensor *s, size_t n)
{
	struct out o = {.buf = buf, .len = len};
	head(&o, "joules_build_info", "gauge", "joulesd's version (always 1).");
	put(&o, "joules_build_info");
	put_char(&o, '{');
	put_label(&o, "version", info->version, true);
	put(&o, "} 1\n");

	head(&o, "joules_daemon_start_time_seconds", "gauge",
	     "When joulesd started (Unix time); counters restart from 0 then.");
	put(&o, "joules_daemon_start_time_seconds %" PRIu64 "\n", info->start_time_s);

	head(&o, "joules_energy_resolution_joules", "gauge",
	     "Resolution of the energy served (1: the public resolution, whole joules).");
	put(&o, "joules_energy_resolution_joules");
	put_micro(&o, info->resolution_uj);

	head(&o, "joules_sensor_up", "gauge", "1 when the sensor was read at the last poll, else 0.");
	for (size_t i = 0; i < n; i++) {
		put(&o, "joules_sensor_up");
		put_labels(&o, &s[i]);
		put(&o, " %d\n", s[i].up ? 1 : 0);
	}

	head(&o, "joules_energy_joules_total", "counter",
	     "Energy used since joulesd started, wraparounds added back.");
	for (size_t i = 0; i < n; i++) {
		if (!s[i].have_energy)
			continue;
		put(&o, "joules_energy_joules_total");
		put_labels(&o, &s[i]);
		put_micro(&o, s[i].energy_uj);
	}

	head(&o, "joules_power_watts", "gauge", "Recent average power.");
	for (size_t i = 0; i < n; i++) {
		if (!s[i].have_power)
			continue;
		put(&o, "joules_power_watts");
		put_labels(&o, &s[i]);
		put_micro(&o, s[i].power_uw);
	}
	if (len > 0)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}
