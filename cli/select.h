/* SPDX-License-Identifier: MIT */
/* -e SENSORS: which sensors a command reports. */
#ifndef JOULES_CLI_SELECT_H
#define JOULES_CLI_SELECT_H

#include <stdbool.h>

#include "joules.h"

/* The help text for -e, shared by the commands that take it. */
#define SELECT_HELP \
	"  -e, --sensors LIST  only these sensors: a comma-separated list of ids\n" \
	"                      (rapl:package-0), kinds (cpu-package, dram, gpu, ...),\n" \
	"                      totals (cpu, dram, gpu, platform) or globs on ids or\n" \
	"                      names ('rapl:*', 'package-?'); default: all\n"

/*
 * Fill selected[0..count-1] from `list` (NULL: all). An item that matches
 * no sensor is an error, said on stderr for command `cmd`; returns -1.
 */
int select_sensors(const joules_ctx *ctx, const char *list, bool *selected, const char *cmd);

#endif
