/* SPDX-License-Identifier: MIT */
/*
 * The domain model on the layouts of tests/rig/layouts_domain.c: every
 * domain is one sensor, named, placed and contained by facts (zone names,
 * the CPU topology), whatever the numbering, the order of the sources, or
 * how many sources see it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "joules.h"
#include "layouts.h"
#include "testutil.h"

#define J 1000000ull
#define PERF_NO "perf (unreadable)"

struct expect {
	const char *id, *device, *parent; /* parent id, or NULL */
	uint64_t energy_uj;
	const char *source, *also;
};

/* Exactly these sensors (no domain listed twice), each as expected. */
static void check(const struct fakesys *fs, const struct expect *e, size_t n)
{
	joules_ctx *ctx = test_open(fs);
	if (!ctx)
		return;
	CHECK_EQ_U64(joules_sensor_count(ctx), n);
	size_t count = joules_sensor_count(ctx);
	struct joules_reading *r = calloc(count ? count : 1, sizeof *r);
	CHECK_EQ_INT(joules_read(ctx, r, count), (int)count);
	for (size_t k = 0; k < n; k++) {
		int i = test_find(ctx, e[k].id);
		if (i < 0)
			continue;
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
		printf("# %s on \"%s\" in %s, %s%s%s\n", s->id, s->device,
		       s->parent >= 0 ? joules_sensor(ctx, (size_t)s->parent)->id : "-", s->source,
		       s->also[0] ? ", also " : "", s->also);
		CHECK(strcmp(s->device, e[k].device) == 0);
		CHECK(strcmp(s->source, e[k].source) == 0);
		CHECK(strcmp(s->also, e[k].also) == 0);
		CHECK_EQ_INT(s->parent, e[k].parent ? joules_sensor_find(ctx, e[k].parent) : -1);
		if (e[k].energy_uj) {
			CHECK_EQ_INT(r[i].status, 0);
			CHECK_EQ_U64(r[i].energy_uj, e[k].energy_uj);
		} else {
			CHECK(r[i].status < 0);
		}
	}
	free(r);
	joules_close(ctx);
}

/* intel/powertelemetry#3: package-1 is intel-rapl:2, yet on socket 1 with its DRAM. */
static void test_psys_between_packages(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "socket 0", "rapl:psys", 1 * J, "powercap", PERF_NO},
		{"rapl:dram-0", "socket 0", "rapl:psys", 2 * J, "powercap", PERF_NO},
		{"rapl:psys", "", NULL, 3 * J, "powercap", PERF_NO},
		{"rapl:package-1", "socket 1", "rapl:psys", 4 * J, "powercap", PERF_NO},
		{"rapl:dram-1", "socket 1", "rapl:psys", 5 * J, "powercap", PERF_NO},
		/* Only perf has the cores: its sensors, inside their packages. */
		{"rapl:core-0", "socket 0", "rapl:package-0", 0, "perf", ""},
		{"rapl:core-1", "socket 1", "rapl:package-1", 0, "perf", ""},
	};
	struct fakesys *fs = TEST_TREE("psys-between");
	check(fs, e, sizeof e / sizeof e[0]);
	fakesys_free(fs);
}

static void test_psys_first(void)
{
	static const struct expect e[] = {
		{"rapl:psys", "", NULL, 1 * J, "powercap", PERF_NO},
		{"rapl:package-0", "socket 0", "rapl:psys", 2 * J, "powercap", PERF_NO},
		{"rapl:core-0", "socket 0", "rapl:package-0", 3 * J, "powercap", PERF_NO},
		{"rapl:dram-0", "socket 0", "rapl:psys", 4 * J, "powercap", PERF_NO},
		{"rapl:package-1", "socket 1", "rapl:psys", 5 * J, "powercap", PERF_NO},
		{"rapl:core-1", "socket 1", "rapl:package-1", 6 * J, "powercap", PERF_NO},
		{"rapl:dram-1", "socket 1", "rapl:psys", 7 * J, "powercap", PERF_NO},
	};
	struct fakesys *fs = TEST_TREE("psys-first");
	check(fs, e, sizeof e / sizeof e[0]);
	fakesys_free(fs);
}

static void test_psys_last(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "socket 0", "rapl:psys", 1 * J, "powercap", PERF_NO},
		{"rapl:core-0", "socket 0", "rapl:package-0", 2 * J, "powercap", PERF_NO},
		{"rapl:dram-0", "socket 0", "rapl:psys", 3 * J, "powercap", PERF_NO},
		{"rapl:package-1", "socket 1", "rapl:psys", 4 * J, "powercap", PERF_NO},
		{"rapl:core-1", "socket 1", "rapl:package-1", 5 * J, "powercap", PERF_NO},
		{"rapl:dram-1", "socket 1", "rapl:psys", 6 * J, "powercap", PERF_NO},
		{"rapl:psys", "", NULL, 7 * J, "powercap", PERF_NO},
	};
	struct fakesys *fs = TEST_TREE("psys-last");
	check(fs, e, sizeof e / sizeof e[0]);
	fakesys_free(fs);
}

/* The 2-socket 8-CCD Zen 4: zones intel-rapl:0 .. :f (hex), one per die. */
static void test_hex_numbered_die_zones(void)
{
	struct expect e[32];
	char ids[32][48], devs[16][32];
	for (unsigned i = 0; i < 16; i++) {
		unsigned p = i / 8, d = i % 8;
		snprintf(ids[2 * i], sizeof ids[0], "rapl:package-%u-die-%u", p, d);
		snprintf(ids[2 * i + 1], sizeof ids[0], "rapl:core-%u-die-%u", p, d);
		snprintf(devs[i], sizeof devs[0], "socket %u die %u", p, d);
		e[2 * i] = (struct expect){ids[2 * i], devs[i], NULL, (2 * i + 1) * J, "powercap", ""};
		e[2 * i + 1] = (struct expect){ids[2 * i + 1], devs[i], ids[2 * i], (2 * i + 2) * J,
					       "powercap", ""};
	}
	struct fakesys *fs = TEST_TREE("hex-zones");
	check(fs, e, 32);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_INT(joules_source_note(ctx, 0)[0], '\0'); /* nothing skipped, nothing odd */
	joules_close(ctx);
	fakesys_free(fs);
}

/* Per-die RAPL: perf's cpumask names one CPU per die; each die one sensor. */
static void test_per_die_zones_with_perf(void)
{
	static const struct expect e[] = {
		{"rapl:package-0-die-0", "socket 0 die 0", NULL, 1 * J, "powercap", PERF_NO},
		{"rapl:core-0-die-0", "socket 0 die 0", "rapl:package-0-die-0", 2 * J, "powercap",
		 PERF_NO},
		{"rapl:dram-0-die-0", "socket 0 die 0", NULL, 3 * J, "powercap", PERF_NO},
		{"rapl:package-0-die-1", "socket 0 die 1", NULL, 4 * J, "powercap", PERF_NO},
		{"rapl:core-0-die-1", "socket 0 die 1", "rapl:package-0-die-1", 5 * J, "powercap",
		 PERF_NO},
		{"rapl:dram-0-die-1", "socket 0 die 1", NULL, 6 * J, "powercap", PERF_NO},
	};
	struct fakesys *fs = TEST_TREE("per-die-perf");
	check(fs, e, sizeof e / sizeof e[0]);
	fakesys_free(fs);
}

/* perf without the CPU topology: packages in cpumask order, and the note says so. */
static void test_perf_without_topology_says_so(void)
{
	struct fakesys *fs = TEST_TREE("psys-between");
	CHECK_EQ_INT(fakesys_remove(fs, "devices/system/cpu/cpu1/topology/physical_package_id"),
		     0);
	joules_ctx *ctx = test_open(fs);
	CHECK_STR_HAS(joules_source_note(ctx, 1), "cpu1/topology/physical_package_id is missing");
	CHECK(test_find(ctx, "rapl:core-1") >= 0);
	CHECK_EQ_U64(joules_sensor_count(ctx), 7);
	joules_close(ctx);
	fakesys_free(fs);
}

/* More zones than any fixed table of 256. */
static void test_300_zones(void)
{
	struct fakesys *fs = TEST_TREE("zones-300");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(joules_sensor_count(ctx), 300);
	static const unsigned probe[] = {0, 15, 16, 255, 256, 299};
	struct joules_reading *r = calloc(300, sizeof *r);
	joules_read(ctx, r, 300);
	for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
		char id[32], dev[32];
		snprintf(id, sizeof id, "rapl:package-%u", probe[k]);
		snprintf(dev, sizeof dev, "socket %u", probe[k]);
		int i = test_find(ctx, id);
		if (i < 0)
			continue;
		CHECK(strcmp(joules_sensor(ctx, (size_t)i)->device, dev) == 0);
		CHECK_EQ_U64(r[i].energy_uj, (probe[k] + 1) * J);
	}
	free(r);
	joules_close(ctx);
	fakesys_free(fs);
}

/* The order of the sources decides nothing: perf alone reads the domains powercap would. */
static void test_one_reader_whatever_the_sources(void)
{
	struct fakesys *fs = TEST_TREE("psys-between");
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = fakesys_root(fs),
				     .sources = "perf"};
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), 0);
	/* pkg, ram and cores on two packages, psys once. */
	CHECK_EQ_U64(joules_sensor_count(ctx), 7);
	int p1 = test_find(ctx, "rapl:package-1");
	if (p1 >= 0)
		CHECK(strcmp(joules_sensor(ctx, (size_t)p1)->device, "socket 1") == 0);
	CHECK_EQ_INT(joules_sensor(ctx, (size_t)test_find(ctx, "rapl:dram-1"))->parent,
		     test_find(ctx, "rapl:psys"));
	joules_close(ctx);
	fakesys_free(fs);
}

static int rmdir_in(const struct fakesys *fs, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", fakesys_root(fs), rel);
	return rmdir(path);
}

/* Van Gogh: slowPPT and fastPPT are one SoC power, one sensor. */
static void test_vangogh_ppt_pair_is_one_sensor(void)
{
	struct fakesys *fs = TEST_TREE("vangogh");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(joules_sensor_count(ctx), 1);
	const struct joules_sensor *s = joules_sensor(ctx, 0);
	if (s) {
		CHECK(strcmp(s->id, "hwmon:amdgpu:0000:04:00.0:slowPPT") == 0);
		CHECK(strcmp(s->device, "0000:04:00.0") == 0);
		CHECK(s->flags & JOULES_SENSOR_INTEGRATED);
	}
	joules_close(ctx);
	/* fastPPT unreadable (a directory stands in for power2_average): slowPPT reads. */
	CHECK_EQ_INT(fakesys_remove(fs, "class/hwmon/hwmon20/power2_average"), 0);
	CHECK_EQ_INT(fakesys_mkdir(fs, "class/hwmon/hwmon20/power2_average"), 0);
	ctx = test_open(fs);
	CHECK_EQ_U64(joules_sensor_count(ctx), 1);
	struct joules_reading r;
	CHECK_EQ_INT(joules_read(ctx, &r, 1), 1);
	CHECK_EQ_INT(r.status, 0);
	joules_close(ctx);
	CHECK_EQ_INT(rmdir_in(fs, "class/hwmon/hwmon20/power2_average"), 0);
	CHECK_EQ_INT(fakesys_write(fs, "class/hwmon/hwmon20/power2_average", "4090000\n"), 0);
	/* fastPPT alone (no power1): still one sensor, of the same domain. */
	CHECK_EQ_INT(fakesys_remove(fs, "class/hwmon/hwmon20/power1_input"), 0);
	CHECK_EQ_INT(fakesys_remove(fs, "class/hwmon/hwmon20/power1_average"), 0);
	ctx = test_open(fs);
	CHECK_EQ_U64(joules_sensor_count(ctx), 1);
	CHECK(test_find(ctx, "hwmon:amdgpu:0000:04:00.0:slowPPT") == 0);
	joules_close(ctx);
	fakesys_free(fs);
}

/* amd_energy's sockets are the packages powercap has: one sensor each, cores inside. */
static void test_amd_energy_sockets_are_the_packages(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "socket 0", NULL, 1 * J, "powercap", "hwmon"},
		{"rapl:core-0", "socket 0", "rapl:package-0", 2 * J, "powercap", ""},
		{"rapl:package-1", "socket 1", NULL, 3 * J, "powercap", "hwmon"},
		{"rapl:core-1", "socket 1", "rapl:package-1", 4 * J, "powercap", ""},
		{"hwmon:amd_energy:Ecore000", "socket 0", "rapl:package-0", 1 * J, "hwmon", ""},
		{"hwmon:amd_energy:Ecore001", "socket 0", "rapl:package-0", 2 * J, "hwmon", ""},
		{"hwmon:amd_energy:Ecore002", "socket 1", "rapl:package-1", 3 * J, "hwmon", ""},
		{"hwmon:amd_energy:Ecore003", "socket 1", "rapl:package-1", 4 * J, "hwmon", ""},
	};
	struct fakesys *fs = TEST_TREE("amd-2s", "hwmon-amd-energy");
	check(fs, e, sizeof e / sizeof e[0]);
	fakesys_free(fs);
}

/*
 * Per-die zones beside amd_energy: each Ecore sits in its die's zone (its
 * die_id), each die in its socket's package, which only amd_energy has.
 */
static void test_amd_energy_cores_in_their_die(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "socket 0", NULL, 10 * J, "hwmon", ""},
		{"rapl:package-0-die-1", "socket 0 die 1", "rapl:package-0", 3 * J, "powercap", ""},
		{"rapl:package-1-die-3", "socket 1 die 3", "rapl:package-1", 23 * J, "powercap", ""},
		{"hwmon:amd_energy:Ecore001", "socket 0", "rapl:package-0-die-1", 2 * J, "hwmon", ""},
		{"hwmon:amd_energy:Ecore003", "socket 1", "rapl:package-1-die-3", 4 * J, "hwmon", ""},
	};
	struct fakesys *fs = TEST_TREE("hex-zones", "hwmon-amd-energy");
	static const unsigned die[] = {0, 1, 0, 3};
	for (unsigned cpu = 0; cpu < 4; cpu++)
		CHECK_EQ_INT(fakesys_cpu(fs, cpu, cpu / 2, die[cpu]), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(joules_sensor_count(ctx), 32 + 2 + 4); /* dies and cores, sockets, Ecores */
	struct joules_reading r[64];
	joules_read(ctx, r, 64);
	for (size_t k = 0; k < sizeof e / sizeof e[0]; k++) {
		int i = test_find(ctx, e[k].id);
		if (i < 0)
			continue;
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
		CHECK(strcmp(s->device, e[k].device) == 0);
		CHECK(strcmp(s->source, e[k].source) == 0);
		CHECK_EQ_INT(s->parent, e[k].parent ? joules_sensor_find(ctx, e[k].parent) : -1);
		CHECK_EQ_U64(r[i].energy_uj, e[k].energy_uj);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_psys_between_packages),
		TEST(test_psys_first),
		TEST(test_psys_last),
		TEST(test_hex_numbered_die_zones),
		TEST(test_per_die_zones_with_perf),
		TEST(test_perf_without_topology_says_so),
		TEST(test_300_zones),
		TEST(test_one_reader_whatever_the_sources),
		TEST(test_vangogh_ppt_pair_is_one_sensor),
		TEST(test_amd_energy_sockets_are_the_packages),
		TEST(test_amd_energy_cores_in_their_die),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
