/* SPDX-License-Identifier: MIT */
/*
 * Totals by kind that never count a domain twice.
 *
 * Each kind belongs to one total: cpu (packages, and their cores and
 * uncore), dram, gpu, platform (psys); "other" to none. Sensors nest
 * (joules_sensor.parent): a core sits inside its package, a package and
 * DRAM inside psys. A sensor adds to its total only when no selected
 * sensor above it (parent, grandparent, ...) belongs to the same total:
 * cores and uncore are already in their package, so cpu is the sum of the
 * packages; a package inside psys still adds to cpu, since psys is another
 * total. When a user selects cores without their package, the cores are
 * all the cpu total has, and they make it. Walking every ancestor, not
 * just the parent, keeps this right for deeper trees (a GPU's memory rail
 * inside its board inside a platform sensor).
 */
#ifndef JOULES_CLI_TOTALS_H
#define JOULES_CLI_TOTALS_H

#include <stdbool.h>
#include <stddef.h>

#include "joules.h"

enum total { TOTAL_NONE = -1, TOTAL_CPU, TOTAL_DRAM, TOTAL_GPU, TOTAL_PLATFORM, N_TOTALS };

/* "cpu", "dram", "gpu", "platform". */
extern const char *const total_names[N_TOTALS];

int total_of_kind(int kind);

/*
 * The total sensor i adds to, or TOTAL_NONE: its kind's total unless a
 * selected ancestor is in the same one. `selected` may be NULL (all).
 */
int total_counted(const joules_ctx *ctx, const bool *selected, size_t i);

#endif
