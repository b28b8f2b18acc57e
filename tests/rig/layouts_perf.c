/* SPDX-License-Identifier: MIT */
/*
 * perf `power` PMU layouts: bus/event_source/devices/power/ as the kernel's
 * arch/x86/events/rapl.c writes it. The PMU types are ones no kernel here
 * has for a power PMU, so opening them fails (ENOENT or EINVAL); tests that
 * need a counter that really counts point `type` at the software PMU.
 */
#include <stdio.h>

#include "fakesys.h"
#include "layouts.h"

#define PMU "bus/event_source/devices/power"

int fakesys_perf_pmu(struct fakesys *fs, const char *type, const char *cpumask)
{
	if (fakesys_write(fs, PMU "/type", type) < 0 ||
	    fakesys_write(fs, PMU "/cpumask", cpumask) < 0 ||
	    fakesys_write(fs, PMU "/format/event", "config:0-7\n") < 0)
		return -1;
	return 0;
}

int fakesys_perf_event(struct fakesys *fs, const char *name, const char *terms,
		       const char *scale)
{
	char rel[256], text[128];
	snprintf(rel, sizeof rel, PMU "/events/%s", name);
	snprintf(text, sizeof text, "%s\n", terms);
	if (fakesys_write(fs, rel, text) < 0)
		return -1;
	snprintf(rel, sizeof rel, PMU "/events/%s.scale", name);
	snprintf(text, sizeof text, "%s\n", scale);
	if (fakesys_write(fs, rel, text) < 0)
		return -1;
	snprintf(rel, sizeof rel, PMU "/events/%s.unit", name);
	return fakesys_write(fs, rel, "Joules\n");
}

int fakesys_cpu(struct fakesys *fs, unsigned cpu, unsigned package, unsigned die)
{
	char rel[128], text[32];
	snprintf(rel, sizeof rel, "devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
	snprintf(text, sizeof text, "%u\n", package);
	if (fakesys_write(fs, rel, text) < 0)
		return -1;
	snprintf(rel, sizeof rel, "devices/system/cpu/cpu%u/topology/die_id", cpu);
	snprintf(text, sizeof text, "%u\n", die);
	return fakesys_write(fs, rel, text);
}

/* Two sockets of 28 cores: cpumask names the first CPU of each. */
int layout_perf_intel_2s(struct fakesys *fs)
{
	if (fakesys_perf_pmu(fs, "65023\n", "0,28\n") < 0 || fakesys_cpu(fs, 0, 0, 0) < 0 ||
	    fakesys_cpu(fs, 28, 1, 0) < 0 ||
	    fakesys_perf_event(fs, "energy-cores", "event=0x01", FAKESYS_PERF_SCALE) < 0 ||
	    fakesys_perf_event(fs, "energy-pkg", "event=0x02", FAKESYS_PERF_SCALE) < 0 ||
	    fakesys_perf_event(fs, "energy-ram", "event=0x03", FAKESYS_PERF_SCALE) < 0 ||
	    fakesys_perf_event(fs, "energy-psys", "event=0x05", FAKESYS_PERF_SCALE) < 0)
		return -1;
	/* Other PMUs sit beside it; only `power` is read. */
	return fakesys_write(fs, "bus/event_source/devices/software/type", "1\n");
}

/* The device machine: a KVM guest whose only RAPL event is a dead psys. */
int layout_perf_dead_psys(struct fakesys *fs)
{
	if (fakesys_perf_pmu(fs, "65009\n", "0\n") < 0 || fakesys_cpu(fs, 0, 0, 0) < 0)
		return -1;
	return fakesys_perf_event(fs, "energy-psys", "event=0x05", FAKESYS_PERF_SCALE);
}

/* package-0 both as a powercap zone and as energy-pkg. */
int layout_perf_powercap(struct fakesys *fs)
{
	if (fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 1000000,
				  FAKESYS_RAPL_RANGE_UJ) < 0 ||
	    fakesys_perf_pmu(fs, "65023\n", "0\n") < 0 || fakesys_cpu(fs, 0, 0, 0) < 0)
		return -1;
	return fakesys_perf_event(fs, "energy-pkg", "event=0x02", FAKESYS_PERF_SCALE);
}
