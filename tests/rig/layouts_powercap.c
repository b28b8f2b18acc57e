/* SPDX-License-Identifier: MIT */
/*
 * powercap layouts. Counter values are distinct per zone so a test can
 * tell them apart: zone k of a layout starts at (k + 1) * 1000000 µJ.
 */
#include <stdio.h>

#include "fakesys.h"
#include "layouts.h"

/* AMD's finer energy unit (15.3 µJ) makes its 32-bit counter wrap sooner. */
#define AMD_RANGE_UJ 65532610987ull

struct zone {
	const char *dir, *name;
};

static int zones(struct fakesys *fs, const struct zone *z, size_t n, uint64_t range)
{
	for (size_t i = 0; i < n; i++)
		if (fakesys_powercap_zone(fs, z[i].dir, z[i].name, (i + 1) * 1000000u, range) < 0)
			return -1;
	/* The control type: a directory that is not a zone. */
	return fakesys_write(fs, "class/powercap/intel-rapl/enabled", "1\n");
}

int layout_intel_2s(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"},
		{"intel-rapl:0:1", "uncore"},  {"intel-rapl:0:2", "dram"},
		{"intel-rapl:1", "package-1"}, {"intel-rapl:1:0", "core"},
		{"intel-rapl:1:1", "uncore"},  {"intel-rapl:1:2", "dram"},
	};
	return zones(fs, z, sizeof z / sizeof z[0], FAKESYS_RAPL_RANGE_UJ);
}

/*
 * A large server: 8 sockets, each a package with its core, uncore and dram
 * subzones (32 zones), the tree the snapshot benchmark reads.
 */
int layout_intel_8s(struct fakesys *fs)
{
	static const char *const names[] = {"core", "uncore", "dram"};
	unsigned k = 0;
	for (unsigned p = 0; p < 8; p++) {
		char dir[32], name[32];
		snprintf(dir, sizeof dir, "intel-rapl:%u", p);
		snprintf(name, sizeof name, "package-%u", p);
		if (fakesys_powercap_zone(fs, dir, name, ++k * 1000000ull, FAKESYS_RAPL_RANGE_UJ) < 0)
			return -1;
		for (unsigned d = 0; d < 3; d++) {
			snprintf(dir, sizeof dir, "intel-rapl:%u:%u", p, d);
			if (fakesys_powercap_zone(fs, dir, names[d], ++k * 1000000ull,
						  FAKESYS_RAPL_RANGE_UJ) < 0)
				return -1;
		}
	}
	return fakesys_write(fs, "class/powercap/intel-rapl/enabled", "1\n");
}

int layout_amd_zen(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"},
		{"intel-rapl:0:0", "core"},
	};
	return zones(fs, z, sizeof z / sizeof z[0], AMD_RANGE_UJ);
}

int layout_laptop(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"},
		{"intel-rapl:0:0", "core"},
		{"intel-rapl:0:1", "uncore"},
		{"intel-rapl:1", "psys"},
		/* The same package through MMIO: must not be counted twice. */
		{"intel-rapl-mmio:0", "package-0"},
	};
	return zones(fs, z, sizeof z / sizeof z[0], FAKESYS_RAPL_RANGE_UJ);
}

/*
 * Everything a real tree can get wrong, next to one good zone:
 * intel-rapl:0 package-0 (good), intel-rapl:0:0 core with enabled 0 (still
 * counts), intel-rapl:1 empty energy_uj, intel-rapl:2 non-numeric,
 * intel-rapl:3 no max_energy_range_uj, intel-rapl:4 a dangling symlink,
 * intel-rapl:5 no `name` file, intel-rapl:6 no energy_uj, and directories
 * that are not zones.
 */
int layout_messy_powercap(struct fakesys *fs)
{
	static const struct zone z[] = {
		{"intel-rapl:0", "package-0"},
		{"intel-rapl:0:0", "core"},
		{"intel-rapl:1", "package-1"},
		{"intel-rapl:2", "package-2"},
		{"intel-rapl:5", "package-5"},
		{"intel-rapl:6", "package-6"},
	};
	if (zones(fs, z, sizeof z / sizeof z[0], FAKESYS_RAPL_RANGE_UJ) < 0 ||
	    fakesys_powercap_zone(fs, "intel-rapl:3", "package-3", 7000000, 0) < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl:0:0/enabled", "0\n") < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl:1/energy_uj", "") < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl:2/energy_uj", "abc\n") < 0 ||
	    fakesys_symlink(fs, "class/powercap/intel-rapl:4",
			    "../../devices/virtual/powercap/intel-rapl/intel-rapl:4") < 0 ||
	    fakesys_remove(fs, "class/powercap/intel-rapl:5/name") < 0 ||
	    fakesys_remove(fs, "class/powercap/intel-rapl:6/energy_uj") < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl:x/energy_uj", "5\n") < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl:0:/energy_uj", "5\n") < 0 ||
	    fakesys_write(fs, "class/powercap/dtpm/energy_uj", "5\n") < 0 ||
	    fakesys_write(fs, "class/powercap/intel-rapl-mmio/enabled", "1\n") < 0)
		return -1;
	return 0;
}
