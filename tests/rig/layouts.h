/* SPDX-License-Identifier: MIT */
/* Layout builders, one group per area; each returns 0 or -1. */
#ifndef JOULES_LAYOUTS_H
#define JOULES_LAYOUTS_H

struct fakesys;

/* layouts_powercap.c */
int layout_intel_2s(struct fakesys *fs);
int layout_intel_8s(struct fakesys *fs);
int layout_amd_zen(struct fakesys *fs);
int layout_laptop(struct fakesys *fs);
int layout_messy_powercap(struct fakesys *fs);

/* layouts_perf.c */
int layout_perf_intel_2s(struct fakesys *fs);
int layout_perf_dead_psys(struct fakesys *fs);
int layout_perf_powercap(struct fakesys *fs);
/* The power PMU: bus/event_source/devices/power/{type,cpumask,format/event}. */
int fakesys_perf_pmu(struct fakesys *fs, const char *type, const char *cpumask);
/* events/<name> holding `terms`, with <name>.scale and <name>.unit "Joules". */
int fakesys_perf_event(struct fakesys *fs, const char *name, const char *terms,
		       const char *scale);
/* devices/system/cpu/cpu<cpu>/topology/{physical_package_id,die_id}. */
int fakesys_cpu(struct fakesys *fs, unsigned cpu, unsigned package, unsigned die);
/* The kernel's RAPL scale: 2^-32 J per count, as sysfs prints it. */
#define FAKESYS_PERF_SCALE "2.3283064365386963e-10"

/* layouts_hwmon.c */
int layout_hwmon_amdgpu_old(struct fakesys *fs);
int layout_hwmon_amdgpu(struct fakesys *fs);
int layout_hwmon_i915(struct fakesys *fs);
int layout_hwmon_xe(struct fakesys *fs);
int layout_hwmon_amd_energy(struct fakesys *fs);
int layout_hwmon_messy(struct fakesys *fs);

/* layouts_domain.c */
int layout_psys_between(struct fakesys *fs);
int layout_psys_first(struct fakesys *fs);
int layout_psys_last(struct fakesys *fs);
int layout_hex_zones(struct fakesys *fs);
int layout_per_die_perf(struct fakesys *fs);
int layout_zones_300(struct fakesys *fs);
int layout_vangogh(struct fakesys *fs);
int layout_amd_2s(struct fakesys *fs);

#endif
