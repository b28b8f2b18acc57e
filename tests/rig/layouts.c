/* SPDX-License-Identifier: MIT */
/* The table of named layouts; each area builds its own in layouts_<area>.c. */
#include <errno.h>
#include <string.h>

#include "fakesys.h"
#include "layouts.h"

static const struct {
	const char *name;
	int (*build)(struct fakesys *fs);
} table[] = {
	{"intel-2s", layout_intel_2s},
	{"intel-8s", layout_intel_8s},
	{"amd-zen", layout_amd_zen},
	{"laptop", layout_laptop},
	{"messy-powercap", layout_messy_powercap},
	{"perf-intel-2s", layout_perf_intel_2s},
	{"perf-dead-psys", layout_perf_dead_psys},
	{"perf+powercap", layout_perf_powercap},
	{"hwmon-amdgpu-old", layout_hwmon_amdgpu_old},
	{"hwmon-amdgpu", layout_hwmon_amdgpu},
	{"hwmon-i915", layout_hwmon_i915},
	{"hwmon-xe", layout_hwmon_xe},
	{"hwmon-amd-energy", layout_hwmon_amd_energy},
	{"hwmon-messy", layout_hwmon_messy},
	{"psys-between", layout_psys_between},
	{"psys-first", layout_psys_first},
	{"psys-last", layout_psys_last},
	{"hex-zones", layout_hex_zones},
	{"per-die-perf", layout_per_die_perf},
	{"zones-300", layout_zones_300},
	{"vangogh", layout_vangogh},
	{"amd-2s", layout_amd_2s},
};

const char *const fakesys_layouts[] = {
	"intel-2s",
	"intel-8s",
	"amd-zen",
	"laptop",
	"messy-powercap",
	"perf-intel-2s",
	"perf-dead-psys",
	"perf+powercap",
	"hwmon-amdgpu-old",
	"hwmon-amdgpu",
	"hwmon-i915",
	"hwmon-xe",
	"hwmon-amd-energy",
	"hwmon-messy",
	"psys-between",
	"psys-first",
	"psys-last",
	"hex-zones",
	"per-die-perf",
	"zones-300",
	"vangogh",
	"amd-2s",
	NULL,
};

int fakesys_layout(struct fakesys *fs, const char *name)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].build(fs);
	errno = EINVAL;
	return -1;
}
