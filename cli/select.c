/* SPDX-License-Identifier: MIT */
/* -e SENSORS: ids, kind names, total names, or globs on ids and names. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "select.h"

static bool matches(const struct joules_sensor *s, const char *item)
{
	int t = joules_kind_total(s->kind);
	return strcmp(item, s->id) == 0 || strcmp(item, joules_kind_name(s->kind)) == 0 ||
	       (t >= 0 && strcmp(item, joules_total_name(t)) == 0) ||
	       fnmatch(item, s->id, 0) == 0 || fnmatch(item, s->name, 0) == 0;
}

int select_sensors(const joules_ctx *ctx, const char *list, bool *selected, const char *cmd)
{
	size_t n = joules_sensor_count(ctx);
	for (size_t i = 0; i < n; i++)
		selected[i] = list == NULL;
	if (!list)
		return 0;
	char *copy = strdup(list), *save = NULL;
	if (!copy) {
		cli_usage_error(cmd, "out of memory");
		return -1;
	}
	int rc = 0;
	for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		bool any = false;
		for (size_t i = 0; i < n; i++)
			if (matches(joules_sensor(ctx, i), item))
				selected[i] = any = true;
		if (!any) {
			cli_usage_error(cmd, "no sensor matches '%s' (see 'joules list')", item);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}
