/* SPDX-License-Identifier: MIT */
/*
 * hwmon layouts, shaped like real sysfs: class/hwmon/hwmonN is a link to
 * ../../devices/<device path>/hwmon/hwmonN, whose `device` link points back
 * at the PCI (or platform) device. Every layout uses its own hwmon numbers
 * and PCI addresses, so layouts combine into one tree:
 *   hwmon-amdgpu-old  hwmon1   0000:03:00.0  power1_average 35 W
 *   hwmon-amdgpu      hwmon2   0000:0a:00.0  power1_input 120 W, label PPT
 *   hwmon-i915        hwmon3   0000:04:00.0  energy1_input 4 J
 *   hwmon-xe          hwmon4   0000:05:00.0  energy1 "card" 5 J, energy2 "pkg" 3 J
 *   hwmon-amd-energy  hwmon5   amd_energy.0  Ecore000..003 1..4 J, Esocket0/1 10/20 J
 *   hwmon-messy       hwmon6..hwmon10, see layout_hwmon_messy()
 */
#include <stdio.h>
#include <string.h>

#include "fakesys.h"
#include "layouts.h"

#define PCI_ROOT "devices/pci0000:00/0000:00:01.1"

/* Write class/hwmon/hwmonN/<attr>, through the link. */
static int attr(struct fakesys *fs, unsigned n, const char *name, const char *text)
{
	char rel[256];
	snprintf(rel, sizeof rel, "class/hwmon/hwmon%u/%s", n, name);
	return fakesys_write(fs, rel, text);
}

/*
 * A chip hwmonN under device directory `dev` (relative to the root), with
 * `name` unless NULL. The device link is made only when with_device is set.
 */
static int chip_at(struct fakesys *fs, unsigned n, const char *dev, const char *name,
		   int with_device)
{
	char rel[256], target[256];
	const char *base = strrchr(dev, '/');
	base = base ? base + 1 : dev;
	snprintf(rel, sizeof rel, "%s/hwmon/hwmon%u", dev, n);
	if (fakesys_mkdir(fs, rel) < 0)
		return -1;
	if (with_device) {
		snprintf(rel, sizeof rel, "%s/hwmon/hwmon%u/device", dev, n);
		snprintf(target, sizeof target, "../../../%s", base);
		if (fakesys_symlink(fs, rel, target) < 0)
			return -1;
	}
	snprintf(rel, sizeof rel, "class/hwmon/hwmon%u", n);
	snprintf(target, sizeof target, "../../%s/hwmon/hwmon%u", dev, n);
	if (fakesys_symlink(fs, rel, target) < 0)
		return -1;
	if (!name)
		return 0;
	char text[64];
	snprintf(text, sizeof text, "%s\n", name);
	return attr(fs, n, "name", text);
}

/* A GPU at PCI address `pci`, with the attributes every GPU chip has. */
static int gpu(struct fakesys *fs, unsigned n, const char *pci, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, PCI_ROOT "/%s/vendor", pci);
	if (fakesys_write(fs, rel, strcmp(name, "amdgpu") == 0 ? "0x1002\n" : "0x8086\n") < 0)
		return -1;
	snprintf(rel, sizeof rel, PCI_ROOT "/%s", pci);
	if (chip_at(fs, n, rel, name, 1) < 0 || attr(fs, n, "temp1_input", "45000\n") < 0 ||
	    attr(fs, n, "in0_input", "850\n") < 0)
		return -1;
	return 0;
}

int layout_hwmon_amdgpu_old(struct fakesys *fs)
{
	if (gpu(fs, 1, "0000:03:00.0", "amdgpu") < 0 ||
	    attr(fs, 1, "power1_average", "35000000\n") < 0 ||
	    attr(fs, 1, "power1_cap", "150000000\n") < 0)
		return -1;
	return 0;
}

int layout_hwmon_amdgpu(struct fakesys *fs)
{
	if (gpu(fs, 2, "0000:0a:00.0", "amdgpu") < 0 ||
	    attr(fs, 2, "power1_input", "120000000\n") < 0 ||
	    attr(fs, 2, "power1_label", "PPT\n") < 0 ||
	    attr(fs, 2, "power1_cap", "300000000\n") < 0)
		return -1;
	return 0;
}

/* i915 (DG2): an energy counter, and power limits but no power reading. */
int layout_hwmon_i915(struct fakesys *fs)
{
	if (gpu(fs, 3, "0000:04:00.0", "i915") < 0 ||
	    attr(fs, 3, "energy1_input", "4000000\n") < 0 ||
	    attr(fs, 3, "power1_max", "190000000\n") < 0 ||
	    attr(fs, 3, "power1_rated_max", "190000000\n") < 0)
		return -1;
	return 0;
}

/* xe (Battlemage): card and package energy, labelled. */
int layout_hwmon_xe(struct fakesys *fs)
{
	if (gpu(fs, 4, "0000:05:00.0", "xe") < 0 ||
	    attr(fs, 4, "energy1_input", "5000000\n") < 0 ||
	    attr(fs, 4, "energy1_label", "card\n") < 0 ||
	    attr(fs, 4, "energy2_input", "3000000\n") < 0 ||
	    attr(fs, 4, "energy2_label", "pkg\n") < 0 ||
	    attr(fs, 4, "power1_max", "250000000\n") < 0 ||
	    attr(fs, 4, "power1_label", "card\n") < 0)
		return -1;
	return 0;
}

/*
 * amd_energy on two sockets of two cores: channel k of the cores is CPU k
 * (cpu0-1 on socket 0, cpu2-3 on socket 1), then one channel per socket.
 * Mode 0440, as the driver makes them since Linux 5.10.
 */
int layout_hwmon_amd_energy(struct fakesys *fs)
{
	static const char *const labels[] = {"Ecore000", "Ecore001", "Ecore002",
					     "Ecore003", "Esocket0", "Esocket1"};
	static const char *const values[] = {"1000000\n", "2000000\n",  "3000000\n",
					     "4000000\n", "10000000\n", "20000000\n"};
	if (chip_at(fs, 5, "devices/platform/amd_energy.0", "amd_energy", 1) < 0)
		return -1;
	for (unsigned i = 0; i < 6; i++) {
		char input[32], label_attr[32], label[32], rel[64];
		snprintf(input, sizeof input, "energy%u_input", i + 1);
		snprintf(label_attr, sizeof label_attr, "energy%u_label", i + 1);
		snprintf(label, sizeof label, "%s\n", labels[i]);
		snprintf(rel, sizeof rel, "class/hwmon/hwmon5/%s", input);
		if (attr(fs, 5, input, values[i]) < 0 || attr(fs, 5, label_attr, label) < 0 ||
		    fakesys_chmod(fs, rel, 0440) < 0)
			return -1;
	}
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		char rel[96];
		snprintf(rel, sizeof rel, "devices/system/cpu/cpu%u/topology/physical_package_id",
			 cpu);
		if (fakesys_write(fs, rel, cpu < 2 ? "0\n" : "1\n") < 0)
			return -1;
	}
	return 0;
}

/*
 * Everything a real class/hwmon can get wrong:
 *   hwmon6   a dangling link (its device went away)
 *   hwmon7   acpitz: temperatures only, no sensor
 *   hwmon8   no `name`, no device link; energy1_input 8 J (good)
 *   hwmon9   psu_meter on platform device psu_meter.3: energy1_input "nan",
 *            energy2_input empty, power1_input (covered by energy1: not a
 *            sensor), power3_input "N/A", power4_input 5 W labelled "out"
 *            whose power4_average is garbage (input is preferred)
 *   hwmon10  legacy: a plain directory, not a link; power1_average 2 W
 *            averaged over power1_average_interval 50 ms
 * and entries of class/hwmon that are not chips.
 */
int layout_hwmon_messy(struct fakesys *fs)
{
	if (fakesys_symlink(fs, "class/hwmon/hwmon6",
			    "../../devices/platform/gone.0/hwmon/hwmon6") < 0 ||
	    chip_at(fs, 7, "devices/virtual/thermal/thermal_zone0", "acpitz", 1) < 0 ||
	    attr(fs, 7, "temp1_input", "27800\n") < 0 ||
	    chip_at(fs, 8, "devices/virtual", NULL, 0) < 0 ||
	    attr(fs, 8, "energy1_input", "8000000\n") < 0 ||
	    chip_at(fs, 9, "devices/platform/psu_meter.3", "psu_meter", 1) < 0 ||
	    attr(fs, 9, "energy1_input", "nan\n") < 0 || attr(fs, 9, "energy2_input", "") < 0 ||
	    attr(fs, 9, "power1_input", "7000000\n") < 0 ||
	    attr(fs, 9, "power3_input", "N/A\n") < 0 ||
	    attr(fs, 9, "power4_input", "5000000\n") < 0 ||
	    attr(fs, 9, "power4_average", "-1\n") < 0 || attr(fs, 9, "power4_label", "out\n") < 0 ||
	    fakesys_write(fs, "class/hwmon/hwmon10/name", "legacy\n") < 0 ||
	    fakesys_write(fs, "class/hwmon/hwmon10/power1_average", "2000000\n") < 0 ||
	    fakesys_write(fs, "class/hwmon/hwmon10/power1_average_interval", "50\n") < 0 ||
	    fakesys_write(fs, "class/hwmon/hwmonX/name", "notachip\n") < 0 ||
	    fakesys_write(fs, "class/hwmon/README", "not a chip\n") < 0)
		return -1;
	return 0;
}
