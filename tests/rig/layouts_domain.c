/* SPDX-License-Identifier: MIT */
/*
 * Layouts of the domain model: one physical domain seen through several
 * sources or numbered in ways a naive reader gets wrong. Zone k of a
 * layout starts at (k + 1) J. The perf PMUs name CPUs 0 and 1 (which every
 * test machine has) with their topology, so that pointing `type` at the
 * software PMU (1) makes every event open: every source readable.
 *   psys-between  intel-rapl:0 package-0 (+dram), :1 psys, :2 package-1 (+dram),
 *                 as intel/powertelemetry#3 lists it; perf pkg/ram/psys
 *   psys-first    :0 psys, :1 package-0, :2 package-1 (each +core, +dram); perf
 *   psys-last     :0 package-0, :1 package-1 (each +core, +dram), :2 psys; perf
 *   hex-zones     16 zones package-P-die-D at intel-rapl:0 .. intel-rapl:f, each
 *                 +core (the 2-socket 8-CCD Zen 4 of the linux-pm patch
 *                 "powercap/intel_rapl: Fix the energy-pkg event for AMD CPUs")
 *   per-die-perf  package-0-die-0 and package-0-die-1 (each +core, +dram); perf
 *                 cpumask names one CPU per die (cpu0 die 0, cpu1 die 1)
 *   zones-300     300 packages, intel-rapl:0 .. intel-rapl:12b
 *   vangogh       the Steam Deck's amdgpu chip: power1 slowPPT, power2_average
 *                 fastPPT, the same SoC power (CachyOS/linux-cachyos#955)
 *   amd-2s        AMD powercap package-0/1 (+core) beside hwmon-amd-energy's
 *                 Esocket0/1 (combine the two layouts)
 */
#include <stdio.h>

#include "fakesys.h"
#include "layouts.h"

struct zone {
	const char *dir, *name;
};

static int zones(struct fakesys *fs, const struct zone *z, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fakesys_powercap_zone(fs, z[i].dir, z[i].name, (i + 1) * 1000000u,
					  FAKESYS_RAPL_RANGE_UJ) < 0)
			return -1;
	return fakesys_write(fs, "class/powercap/intel-rapl/enabled", "1\n");
}

/* cpumask "0,1": cpu0 on package 0 die 0, cpu1 on package p1 die d1. */
static int pmu(struct fakesys *fs, unsigned p1, unsigned d1, int with_psys)
{
	if (fakesys_perf_pmu(fs, "65023\n", "0,1\n") < 0 || fakesys_cpu(fs, 0, 0, 0) < 0 ||
	    fakesys_cpu(fs, 1, p1, d1) < 0 ||
	    fakesys_perf_event(fs, "energy-pkg", "event=0x02", FAKESYS_PERF_SCALE) < 0 ||
	    fakesys_perf_event(fs, "energy-cores", "event=0x01", FAKESYS_PERF_SCALE) < 0 ||
	    fakesys_perf_event(fs, "energy-ram", "event=0x03", FAKESYS_PERF_SCALE) < 0)
		return -1;
	return with_psys ? fakesys_perf_event(fs, "energy-psys", "event=0x05", FAKESYS_PERF_SCALE)
			 : 0;
}

int layout_psys_between(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "dram"},
		{"intel-rapl:1", "psys"},
		{"intel-rapl:2", "package-1"}, {"intel-rapl:2:0", "dram"},
	};
	return zones(fs, z, sizeof z / sizeof z[0]) < 0 ? -1 : pmu(fs, 1, 0, 1);
}

int layout_psys_first(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "psys"},
		{"intel-rapl:1", "package-0"}, {"intel-rapl:1:0", "core"}, {"intel-rapl:1:1", "dram"},
		{"intel-rapl:2", "package-1"}, {"intel-rapl:2:0", "core"}, {"intel-rapl:2:1", "dram"},
	};
	return zones(fs, z, sizeof z / sizeof z[0]) < 0 ? -1 : pmu(fs, 1, 0, 1);
}

int layout_psys_last(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"}, {"intel-rapl:0:1", "dram"},
		{"intel-rapl:1", "package-1"}, {"intel-rapl:1:0", "core"}, {"intel-rapl:1:1", "dram"},
		{"intel-rapl:2", "psys"},
	};
	return zones(fs, z, sizeof z / sizeof z[0]) < 0 ? -1 : pmu(fs, 1, 0, 1);
}

int layout_hex_zones(struct fakesys *fs)
{
	for (unsigned i = 0; i < 16; i++) {
		char dir[32], sub[32], name[32];
		snprintf(dir, sizeof dir, "intel-rapl:%x", i);
		snprintf(sub, sizeof sub, "intel-rapl:%x:0", i);
		snprintf(name, sizeof name, "package-%u-die-%u", i / 8, i % 8);
		if (fakesys_powercap_zone(fs, dir, name, (2 * i + 1) * 1000000ull,
					  FAKESYS_RAPL_RANGE_UJ) < 0 ||
		    fakesys_powercap_zone(fs, sub, "core", (2 * i + 2) * 1000000ull,
					  FAKESYS_RAPL_RANGE_UJ) < 0)
			return -1;
	}
	return fakesys_write(fs, "class/powercap/intel-rapl/enabled", "1\n");
}

int layout_per_die_perf(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0-die-0"}, {"intel-rapl:0:0", "core"},
		{"intel-rapl:0:1", "dram"},
		{"intel-rapl:1", "package-0-die-1"}, {"intel-rapl:1:0", "core"},
		{"intel-rapl:1:1", "dram"},
	};
	return zones(fs, z, sizeof z / sizeof z[0]) < 0 ? -1 : pmu(fs, 0, 1, 0);
}

int layout_zones_300(struct fakesys *fs)
{
	for (unsigned i = 0; i < 300; i++) {
		char dir[32], name[32];
		snprintf(dir, sizeof dir, "intel-rapl:%x", i);
		snprintf(name, sizeof name, "package-%u", i);
		if (fakesys_powercap_zone(fs, dir, name, (i + 1) * 1000000ull,
					  FAKESYS_RAPL_RANGE_UJ) < 0)
			return -1;
	}
	return fakesys_write(fs, "class/powercap/intel-rapl/enabled", "1\n");
}

int layout_vangogh(struct fakesys *fs)
{
	static const char dev[] = "devices/pci0000:00/0000:00:08.1/0000:04:00.0";
	static const struct {
		const char *attr, *text;
	} a[] = {
		{"name", "amdgpu\n"},
		{"power1_input", "5030000\n"},   {"power1_average", "4090000\n"},
		{"power1_label", "slowPPT\n"},   {"power1_cap", "15000000\n"},
		{"power2_average", "4090000\n"}, {"power2_label", "fastPPT\n"},
		{"power2_cap", "15000000\n"},    {"temp1_input", "63000\n"},
	};
	char rel[256];
	snprintf(rel, sizeof rel, "%s/hwmon/hwmon20/device", dev);
	if (fakesys_symlink(fs, rel, "../../../0000:04:00.0") < 0 ||
	    fakesys_symlink(fs, "class/hwmon/hwmon20",
			    "../../devices/pci0000:00/0000:00:08.1/0000:04:00.0/hwmon/hwmon20") < 0)
		return -1;
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		snprintf(rel, sizeof rel, "%s/hwmon/hwmon20/%s", dev, a[i].attr);
		if (fakesys_write(fs, rel, a[i].text) < 0)
			return -1;
	}
	return 0;
}

int layout_amd_2s(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"},
		{"intel-rapl:1", "package-1"}, {"intel-rapl:1:0", "core"},
	};
	return zones(fs, z, sizeof z / sizeof z[0]);
}
