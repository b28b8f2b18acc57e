/* SPDX-License-Identifier: MIT */
/*
 * The perf `power` PMU backend through the public API, on fake sysfs trees.
 *
 * No machine here has a power PMU, so the trees' PMU types fail to open and
 * the error paths run for real. To run the read path on a real kernel
 * counter, some trees point `type` at the software PMU (1): event 0x00 is
 * cpu-clock (always advances) and 0x09 is the dummy event, which the
 * kernel never advances: a dead counter like the device machine's psys.
 * Opening those system-wide needs root (or perf_event_paranoid <= 0); the
 * tests that need it say so and skip otherwise.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/perf_format.h"
#include "fakesys.h"
#include "harness.h"
#include "testutil.h"
#include "joules.h"
#include "layouts.h"

#define PMU "bus/event_source/devices/power/"
#define MAXS 64
#define SW_CPU_CLOCK "event=0x00"
#define SW_DUMMY "event=0x09"

/* The sensor with this id; a failure (and NULL) when there is none. */
static const struct joules_sensor *get(const joules_ctx *ctx, const char *id)
{
	int i = joules_sensor_find(ctx, id);
	if (i < 0)
		printf("#   no sensor %s\n", id);
	CHECK(i >= 0);
	return i >= 0 ? joules_sensor(ctx, (size_t)i) : NULL;
}

static size_t count_source(const joules_ctx *ctx, const char *source)
{
	size_t n = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		n += strcmp(joules_sensor(ctx, i)->source, source) == 0;
	CHECK(joules_sensor_count(ctx) <= MAXS);
	return n;
}

static const char *parent_of(const joules_ctx *ctx, const struct joules_sensor *s)
{
	if (!s || s->parent < 0)
		return "(none)";
	const struct joules_sensor *p = joules_sensor(ctx, (size_t)s->parent);
	return p ? p->id : "(bad index)";
}

/* Whether this process may open system-wide software events. */
static bool software_events_open(void)
{
	struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr,
				       .config = PERF_COUNT_SW_DUMMY};
	int fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		printf("# SKIP: system-wide software perf events cannot be opened here: %s\n",
		       strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/* A power PMU that is really the software PMU, on cpu 0. */
static struct fakesys *software_tree(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_perf_pmu(fs, "1\n", "0\n"), 0);
	CHECK_EQ_INT(fakesys_cpu(fs, 0, 0, 0), 0);
	return fs;
}

/* ---- the pure parsers ---- */

static void test_cpulist(void)
{
	unsigned cpus[8];
	size_t n = 99;
	CHECK_EQ_INT(jl_perf_cpulist("0", cpus, 8, &n), 0);
	CHECK_EQ_U64(n, 1);
	CHECK_EQ_U64(cpus[0], 0);
	CHECK_EQ_INT(jl_perf_cpulist("0,28", cpus, 8, &n), 0);
	CHECK_EQ_U64(n, 2);
	CHECK_EQ_U64(cpus[1], 28);
	CHECK_EQ_INT(jl_perf_cpulist("0-1", cpus, 8, &n), 0);
	CHECK_EQ_U64(n, 2);
	CHECK_EQ_U64(cpus[1], 1);
	CHECK_EQ_INT(jl_perf_cpulist("0-2,8,10-11", cpus, 8, &n), 0);
	CHECK_EQ_U64(n, 6);
	CHECK_EQ_U64(cpus[3], 8);
	CHECK_EQ_U64(cpus[5], 11);
	static const char *const bad[] = {"", "a", "3-1", "0,,1", "0,", "0-", "-1", "1 2",
					  "0-8", "99999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (jl_perf_cpulist(bad[i], cpus, 8, &n) != JOULES_ERR_PARSE)
			printf("#   cpulist \"%s\" accepted\n", bad[i]);
		CHECK_EQ_INT(jl_perf_cpulist(bad[i], cpus, 8, &n), JOULES_ERR_PARSE);
	}
}

static void test_event_terms_and_format(void)
{
	const char *c = "event=0x02,umask=0x1,edge,period=10";
	char name[16];
	uint64_t v;
	CHECK_EQ_INT(jl_perf_term(&c, name, sizeof name, &v), 1);
	CHECK(strcmp(name, "event") == 0);
	CHECK_EQ_U64(v, 2);
	CHECK_EQ_INT(jl_perf_term(&c, name, sizeof name, &v), 1);
	CHECK(strcmp(name, "umask") == 0);
	CHECK_EQ_U64(v, 1);
	CHECK_EQ_INT(jl_perf_term(&c, name, sizeof name, &v), 1);
	CHECK(strcmp(name, "edge") == 0);
	CHECK_EQ_U64(v, 1);
	CHECK_EQ_INT(jl_perf_term(&c, name, sizeof name, &v), 1);
	CHECK_EQ_U64(v, 10);
	CHECK_EQ_INT(jl_perf_term(&c, name, sizeof name, &v), 0);
	static const char *const bad[] = {"event=", "event=0x", "event=zz", "=2", "event=2,",
					  "event=2 x", "event=0x1ffffffffffffffff"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *p = bad[i];
		int r;
		while ((r = jl_perf_term(&p, name, sizeof name, &v)) == 1)
			;
		if (r != JOULES_ERR_PARSE)
			printf("#   terms \"%s\" accepted\n", bad[i]);
		CHECK_EQ_INT(r, JOULES_ERR_PARSE);
	}

	uint64_t config = 0;
	CHECK_EQ_INT(jl_perf_format_apply("config:0-7", 0x02, &config), 0);
	CHECK_EQ_INT(jl_perf_format_apply("config:8-15", 0x01, &config), 0);
	CHECK_EQ_U64(config, 0x102);
	config = 0;
	/* A split field: low 8 bits, then bits 32-35. */
	CHECK_EQ_INT(jl_perf_format_apply("config:0-7,32-35", 0x1ab, &config), 0);
	CHECK_EQ_U64(config, 0x1000000abull);
	config = 0;
	CHECK_EQ_INT(jl_perf_format_apply("config:63", 1, &config), 0);
	CHECK_EQ_U64(config, 1ull << 63);
	config = 0;
	CHECK_EQ_INT(jl_perf_format_apply("config:0-7", 0x100, &config), JOULES_ERR_PARSE);
	CHECK_EQ_INT(jl_perf_format_apply("config1:0-7", 1, &config), JOULES_ERR_UNSUPPORTED);
	CHECK_EQ_INT(jl_perf_format_apply("config:7-0", 1, &config), JOULES_ERR_PARSE);
	CHECK_EQ_INT(jl_perf_format_apply("config:0-64", 1, &config), JOULES_ERR_PARSE);
	CHECK_EQ_INT(jl_perf_format_apply("config", 1, &config), JOULES_ERR_PARSE);
	CHECK_EQ_INT(jl_perf_format_apply("cfg:0-7", 1, &config), JOULES_ERR_PARSE);
	CHECK_EQ_INT(jl_perf_format_apply("config:0-7,", 1, &config), JOULES_ERR_PARSE);
	CHECK_EQ_U64(config, 0);
}

static void check_scale(const char *text, uint64_t num, uint64_t den)
{
	uint64_t n = 0, d = 0;
	int r = jl_perf_scale_uj(text, &n, &d);
	if (r || n != num || d != den)
		printf("#   scale \"%s\": %d, %llu/%llu\n", text, r, (unsigned long long)n,
		       (unsigned long long)d);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_U64(n, num);
	CHECK_EQ_U64(d, den);
}

static void test_scale(void)
{
	/* The kernel's RAPL scale, 2^-32 J: 10^6 / 2^32 µJ = 15625 / 2^26. */
	check_scale("2.3283064365386963e-10", 15625, 67108864);
	check_scale("2.3283064365386962890625e-10", 15625, 67108864);
	check_scale("6.103515625e-05", 15625, 256); /* 2^-14 J, the common RAPL unit */
	check_scale("0.5", 500000, 1);
	check_scale("1", 1000000, 1);
	check_scale("1e-6", 1, 1);
	check_scale("1.5e-6", 3, 2);
	check_scale("0.0000153", 153, 10);
	check_scale("2.5E-7", 1, 4);
	check_scale("1e-3", 1000, 1);
	check_scale("1e-25", 1, 10000000000000000000ull); /* 10^-19 µJ */
	static const char *const bad[] = {"", "abc", "-1e-6", "0", "0.0", "1e-6x", "1e", ".",
					  "nan", "inf", "0x1p-32", "1e-400", "1e30", " 1"};
	uint64_t n, d;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (jl_perf_scale_uj(bad[i], &n, &d) != JOULES_ERR_PARSE)
			printf("#   scale \"%s\" accepted\n", bad[i]);
		CHECK_EQ_INT(jl_perf_scale_uj(bad[i], &n, &d), JOULES_ERR_PARSE);
	}
}

/* ---- enumeration on fake trees ---- */

/* perf's note on a context: why it found nothing, or "". */
static const char *perf_note(const joules_ctx *ctx)
{
	for (size_t i = 0; i < joules_source_count(ctx); i++)
		if (strcmp(joules_source_name(ctx, i), "perf") == 0)
			return joules_source_note(ctx, i);
	CHECK(!"perf is a source");
	return "";
}

struct expect {
	const char *id, *name;
	int kind;
	const char *device, *parent;
};

static void test_intel_2s_one_sensor_per_event_per_package(void)
{
	static const struct expect e[] = {
		{"rapl:package-0", "package-0", JOULES_KIND_CPU_PACKAGE, "socket 0", "rapl:psys"},
		{"rapl:core-0", "core-0", JOULES_KIND_CPU_CORE, "socket 0", "rapl:package-0"},
		{"rapl:dram-0", "dram-0", JOULES_KIND_DRAM, "socket 0", "rapl:psys"},
		{"rapl:psys", "psys", JOULES_KIND_PLATFORM, "", "(none)"},
		{"rapl:package-1", "package-1", JOULES_KIND_CPU_PACKAGE, "socket 1", "rapl:psys"},
		{"rapl:core-1", "core-1", JOULES_KIND_CPU_CORE, "socket 1", "rapl:package-1"},
		{"rapl:dram-1", "dram-1", JOULES_KIND_DRAM, "socket 1", "rapl:psys"},
	};
	struct fakesys *fs = TEST_TREE("perf-intel-2s");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "perf"), 7);
	for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
		const struct joules_sensor *s = get(ctx, e[i].id);
		if (!s)
			continue;
		CHECK(strcmp(s->name, e[i].name) == 0);
		CHECK_EQ_INT(s->kind, e[i].kind);
		CHECK(strcmp(s->source, "perf") == 0);
		CHECK(strcmp(s->device, e[i].device) == 0);
		CHECK(strcmp(parent_of(ctx, s), e[i].parent) == 0);
		CHECK(strcmp(s->also, "") == 0);
		/* Type 65023 is no PMU here: listed, unreadable, saying why. */
		CHECK(!(s->flags & JOULES_SENSOR_READABLE));
		CHECK_STR_HAS(s->reason, "perf_event_open");
	}
	CHECK_STR_HAS(get(ctx, "rapl:package-1")->reason, "energy-pkg");
	CHECK_STR_HAS(get(ctx, "rapl:package-1")->reason, "on cpu 28");
	CHECK_STR_HAS(get(ctx, "rapl:core-0")->reason, "config 0x1) on cpu 0");
	CHECK_STR_HAS(get(ctx, "rapl:psys")->reason, "on cpu 0");
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_unopenable_pmu_names_the_call_and_reads_fail(void)
{
	struct fakesys *fs = TEST_TREE("perf-dead-psys");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "perf"), 1);
	int i = joules_sensor_find(ctx, "rapl:psys");
	CHECK(i >= 0);
	const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
	if (s) {
		CHECK_EQ_INT(s->kind, JOULES_KIND_PLATFORM);
		CHECK(!(s->flags & JOULES_SENSOR_READABLE));
		/* Type 65009 is no PMU (a real one may sit at any small type): ENOENT or EINVAL. */
		CHECK_STR_HAS(s->reason, "perf_event_open of energy-psys (PMU type 65009, config 0x5) "
					 "on cpu 0: ");
		CHECK(strstr(s->reason, "(EINVAL)") || strstr(s->reason, "(ENOENT)"));
		struct joules_reading r[MAXS];
		CHECK(joules_read(ctx, r, MAXS) > i);
		CHECK_EQ_INT(r[i].status, JOULES_ERR_UNSUPPORTED);
		CHECK(strcmp(joules_sensor_error(ctx, (size_t)i), s->reason) == 0);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

/* Every sensor of `ctx` from perf is unreadable and its reason has `what`. */
static void check_all_unreadable(const joules_ctx *ctx, size_t n, const char *what)
{
	CHECK_EQ_U64(count_source(ctx, "perf"), n);
	for (size_t i = 0; i < joules_sensor_count(ctx); i++) {
		const struct joules_sensor *s = joules_sensor(ctx, i);
		if (strcmp(s->source, "perf") != 0)
			continue;
		CHECK(!(s->flags & JOULES_SENSOR_READABLE));
		CHECK_STR_HAS(s->reason, what);
	}
}

static void test_broken_pmu_files(void)
{
	static const struct {
		const char *file, *content, *what;
	} cases[] = {
		{"type", "nine\n", "/type holds \"nine\", not a PMU type number"},
		{"type", "4294967296\n", "not a PMU type number"},
		{"type", NULL, "/type: cannot read"},
		{"cpumask", "zero\n", "/cpumask holds \"zero\", not a CPU list"},
		{"cpumask", NULL, "/cpumask: cannot read"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		printf("# %s = %s", cases[k].file, cases[k].content ? cases[k].content : "(none)\n");
		struct fakesys *fs = TEST_TREE("perf-intel-2s");
		char rel[64];
		snprintf(rel, sizeof rel, PMU "%s", cases[k].file);
		CHECK_EQ_INT(cases[k].content ? fakesys_write(fs, rel, cases[k].content)
					      : fakesys_remove(fs, rel),
			     0);
		joules_ctx *ctx = test_open(fs);
		/* Without a cpumask the domains are still listed, once each. */
		check_all_unreadable(ctx, 4, cases[k].what);
		get(ctx, "rapl:package-0");
		CHECK(joules_sensor_find(ctx, "rapl:package-1") < 0);
		joules_close(ctx);
		fakesys_free(fs);
	}
}

static void test_broken_event_files(void)
{
	struct fakesys *fs = TEST_TREE("perf-intel-2s");
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-gpu", "event=zz", FAKESYS_PERF_SCALE), 0);
	CHECK_EQ_INT(fakesys_write(fs, PMU "events/energy-pkg.scale", "a lot\n"), 0);
	CHECK_EQ_INT(fakesys_remove(fs, PMU "events/energy-cores.scale"), 0);
	CHECK_EQ_INT(fakesys_write(fs, PMU "events/energy-ram.unit", "Watts\n"), 0);
	CHECK_EQ_INT(fakesys_write(fs, PMU "events/energy-psys", "event=0x05,umask=0x1\n"), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-foo", "", FAKESYS_PERF_SCALE), 0);
	/* Not energy events: ignored. */
	CHECK_EQ_INT(fakesys_perf_event(fs, "cycles", "event=0x3c", "1"), 0);
	CHECK_EQ_INT(fakesys_write(fs, PMU "events/energy-", "event=0x1\n"), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "perf"), 11); /* 5 per package, psys once */
	CHECK_STR_HAS(get(ctx, "rapl:uncore-0")->reason,
		      "events/energy-gpu holds \"event=zz\", not event terms");
	CHECK_EQ_INT(get(ctx, "rapl:uncore-1")->kind, JOULES_KIND_UNCORE);
	CHECK_STR_HAS(get(ctx, "rapl:package-0")->reason,
		      "events/energy-pkg.scale holds \"a lot\", not a positive decimal");
	CHECK_STR_HAS(get(ctx, "rapl:core-1")->reason, "events/energy-cores.scale: No such file");
	CHECK_STR_HAS(get(ctx, "rapl:dram-0")->reason, "energy-ram.unit is \"Watts\", not Joules");
	CHECK_STR_HAS(get(ctx, "rapl:psys")->reason, "/format/umask: missing");
	const struct joules_sensor *foo = get(ctx, "rapl:foo-1");
	if (foo) {
		CHECK_EQ_INT(foo->kind, JOULES_KIND_OTHER);
		CHECK_STR_HAS(foo->reason, "events/energy-foo: empty");
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_no_power_pmu_adds_nothing(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	CHECK_EQ_INT(fakesys_write(fs, "bus/event_source/devices/software/type", "1\n"), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "perf"), 0);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 8);
	CHECK_STR_HAS(perf_note(ctx), "/bus/event_source/devices/power: the kernel has no RAPL perf");
	joules_close(ctx);
	fakesys_free(fs);
	/* A power PMU with no energy events is no sensor either. */
	fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_perf_pmu(fs, "65023\n", "0\n"), 0);
	CHECK_EQ_INT(fakesys_write(fs, PMU "events/cycles", "event=0x3c\n"), 0);
	ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "perf"), 0);
	CHECK_STR_HAS(perf_note(ctx), "/events holds no energy-* events");
	joules_close(ctx);
	fakesys_free(fs);
}

/* ---- the read path on real kernel counters (software PMU) ---- */

static void test_dead_counter_is_not_counting(void)
{
	if (!software_events_open())
		return;
	struct fakesys *fs = software_tree();
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-psys", SW_DUMMY, FAKESYS_PERF_SCALE), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	int psys = joules_sensor_find(ctx, "rapl:psys");
	int pkg = joules_sensor_find(ctx, "rapl:package-0");
	CHECK(psys >= 0 && pkg >= 0);
	if (psys >= 0 && pkg >= 0) {
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)psys);
		CHECK(s->flags & JOULES_SENSOR_READABLE);
		CHECK_EQ_U64(s->refresh_us, 1000);
		CHECK_EQ_U64(s->range_uj, 0); /* a 64-bit count never wraps */
		CHECK_EQ_INT(joules_sensor(ctx, (size_t)pkg)->parent, psys);
		struct joules_reading a[MAXS], b[MAXS];
		CHECK(joules_read(ctx, a, MAXS) > psys);
		usleep(2000);
		CHECK(joules_read(ctx, b, MAXS) > psys);
		/* The dead one: never a reading, so never "0 J used". */
		CHECK_EQ_INT(a[psys].status, JOULES_ERR_NOT_COUNTING);
		CHECK_EQ_INT(b[psys].status, JOULES_ERR_NOT_COUNTING);
		uint64_t uj = 12345;
		CHECK_EQ_INT(joules_delta(&a[psys], &b[psys], &uj), JOULES_ERR_NOT_COUNTING);
		CHECK_EQ_U64(uj, 12345);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)psys),
			      "energy-psys (cpu 0): counter has not advanced in ");
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)psys), "common in virtual machines");
		/* The live one, opened alongside, counts from the first snapshot. */
		CHECK_EQ_INT(a[pkg].status, 0);
		CHECK_EQ_INT(b[pkg].status, 0);
		CHECK(a[pkg].energy_uj > 0);
		CHECK_EQ_INT(joules_delta(&a[pkg], &b[pkg], &uj), 0);
		CHECK(uj > 0);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_format_places_terms_in_config(void)
{
	if (!software_events_open())
		return;
	struct fakesys *fs = software_tree();
	/* umask at bits 8-15: config 0x100, which the software PMU does not have. */
	CHECK_EQ_INT(fakesys_write(fs, PMU "format/umask", "config:8-15\n"), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-cores", "event=0x00,umask=0x01",
					FAKESYS_PERF_SCALE), 0);
	/* Without the umask, the same event opens (cpu-clock). */
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", "event=0x00,umask=0x00",
					FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	const struct joules_sensor *core = get(ctx, "rapl:core-0");
	if (core)
		CHECK_STR_HAS(core->reason, "config 0x100) on cpu 0: no such PMU or event");
	const struct joules_sensor *pkg = get(ctx, "rapl:package-0");
	if (pkg)
		CHECK(pkg->flags & JOULES_SENSOR_READABLE);
	joules_close(ctx);
	fakesys_free(fs);
}

/* ---- one domain, one sensor ---- */

static void test_perf_and_powercap_give_one_package(void)
{
	struct fakesys *fs = TEST_TREE("perf+powercap");
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "powercap") + count_source(ctx, "perf"), 1);
	const struct joules_sensor *s = get(ctx, "rapl:package-0");
	if (s) {
		CHECK(strcmp(s->source, "powercap") == 0);
		CHECK(s->flags & JOULES_SENSOR_READABLE);
		CHECK(strcmp(s->also, "perf (unreadable)") == 0);
		CHECK_STR_HAS(perf_note(ctx), "read through another source");
		struct joules_reading r[MAXS];
		CHECK(joules_read(ctx, r, MAXS) >= 1);
		CHECK_EQ_INT(r[0].status, 0);
		CHECK_EQ_U64(r[0].energy_uj, 1000000);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_both_readable_keeps_powercap(void)
{
	if (!software_events_open())
		return;
	struct fakesys *fs = software_tree();
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 5000000,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 1);
	CHECK_EQ_U64(count_source(ctx, "perf"), 0);
	const struct joules_sensor *s = get(ctx, "rapl:package-0");
	if (s) {
		CHECK(strcmp(s->source, "powercap") == 0);
		CHECK(strcmp(s->also, "perf") == 0);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_readable_perf_replaces_unreadable_powercap(void)
{
	if (!software_events_open())
		return;
	struct fakesys *fs = software_tree();
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 5000000,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0:0", "core", 3000000,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	/* powercap's package zone cannot be read; perf's energy-pkg can. */
	CHECK_EQ_INT(fakesys_remove(fs, "class/powercap/intel-rapl:0/energy_uj"), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-cores", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "powercap") + count_source(ctx, "perf"), 2);
	int pkg = joules_sensor_find(ctx, "rapl:package-0");
	int core = joules_sensor_find(ctx, "rapl:core-0");
	CHECK_EQ_INT(pkg, 0); /* replaced in place: the index is kept */
	CHECK_EQ_INT(core, 1);
	if (pkg == 0 && core == 1) {
		const struct joules_sensor *p = joules_sensor(ctx, 0), *c = joules_sensor(ctx, 1);
		CHECK(strcmp(p->source, "perf") == 0);
		CHECK(p->flags & JOULES_SENSOR_READABLE);
		CHECK(strcmp(p->reason, "") == 0);
		CHECK(strcmp(p->also, "powercap (unreadable)") == 0);
		CHECK(strcmp(p->device, "socket 0") == 0);
		CHECK_EQ_INT(p->kind, JOULES_KIND_CPU_PACKAGE);
		CHECK_EQ_U64(p->range_uj, 0); /* perf's counter, not powercap's */
		CHECK(strcmp(c->source, "powercap") == 0);
		CHECK(strcmp(c->also, "perf") == 0);
		CHECK_EQ_INT(c->parent, 0);
		struct joules_reading r[MAXS];
		CHECK(joules_read(ctx, r, MAXS) >= 2);
		CHECK_EQ_INT(r[0].status, 0);
		CHECK(r[0].energy_uj > 0);
		CHECK_EQ_INT(r[1].status, 0);
		CHECK_EQ_U64(r[1].energy_uj, 3000000);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_both_unreadable_keeps_powercap_and_says_so(void)
{
	struct fakesys *fs = TEST_TREE("perf+powercap");
	CHECK_EQ_INT(fakesys_remove(fs, "class/powercap/intel-rapl:0/energy_uj"), 0);
	joules_ctx *ctx = test_open(fs);
	CHECK_EQ_U64(count_source(ctx, "powercap") + count_source(ctx, "perf"), 1);
	const struct joules_sensor *s = get(ctx, "rapl:package-0");
	if (s) {
		CHECK(strcmp(s->source, "powercap") == 0);
		CHECK(!(s->flags & JOULES_SENSOR_READABLE));
		CHECK(strcmp(s->also, "perf (unreadable)") == 0);
		CHECK_STR_HAS(s->reason, "energy_uj: missing");
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_perf_psys_contains_powercap_packages(void)
{
	struct fakesys *fs = TEST_TREE("perf+powercap");
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-psys", "event=0x05", FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	const struct joules_sensor *pkg = get(ctx, "rapl:package-0");
	const struct joules_sensor *psys = get(ctx, "rapl:psys");
	if (pkg && psys) {
		CHECK(strcmp(psys->source, "perf") == 0);
		CHECK(strcmp(parent_of(ctx, pkg), "rapl:psys") == 0);
	}
	joules_close(ctx);
	fakesys_free(fs);
}

/* ---- as an unprivileged user ---- */

static char self[4096];

/* Child mode: list each sensor as "id|status|also|reason or error". */
static int list_as_child(const char *root)
{
	joules_ctx *ctx;
	if (joules_open(&ctx, root) < 0)
		return 1;
	size_t n = joules_sensor_count(ctx);
	struct joules_reading r[MAXS];
	joules_read(ctx, r, n < MAXS ? n : MAXS);
	for (size_t i = 0; i < n && i < MAXS; i++) {
		const struct joules_sensor *s = joules_sensor(ctx, i);
		printf("%s|%d|%s|%s\n", s->id, r[i].status, s->also,
		       *s->reason ? s->reason : joules_sensor_error(ctx, i));
	}
	joules_close(ctx);
	return 0;
}

static void test_unprivileged_user_gets_reason_and_fix(void)
{
	char paranoid[16] = "";
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (f) {
		if (!fgets(paranoid, sizeof paranoid, f))
			paranoid[0] = '\0';
		fclose(f);
	}
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0 || atoi(paranoid) <= 0) {
		printf("# SKIP: needs root, setpriv and perf_event_paranoid > 0\n");
		return;
	}
	char cmd[8192], line[1024], out[8192] = "";
	snprintf(cmd, sizeof cmd, "setpriv --reuid=nobody --regid=nogroup --clear-groups test -x '%s'",
		 self);
	if (system(cmd) != 0) {
		printf("# SKIP: nobody cannot run %s (a directory above it is private)\n", self);
		return;
	}
	struct fakesys *fs = software_tree();
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-psys", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", SW_CPU_CLOCK, FAKESYS_PERF_SCALE), 0);
	/* powercap's package-0 root-only, as since Linux 5.10. */
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 5000000,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	CHECK_EQ_INT(fakesys_chmod(fs, "class/powercap/intel-rapl:0/energy_uj", 0400), 0);
	snprintf(cmd, sizeof cmd,
		 "JOULES_PERF_LIST_ROOT='%s' setpriv --reuid=nobody --regid=nogroup "
		 "--clear-groups '%s' 2>&1",
		 fakesys_root(fs), self);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	while (p && fgets(line, sizeof line, p))
		if (strlen(out) + strlen(line) < sizeof out)
			strcat(out, line);
	if (p)
		CHECK_EQ_INT(pclose(p), 0);
	char want[128];
	snprintf(want, sizeof want, "rapl:psys|%d||perf_event_open of energy-psys",
		 JOULES_ERR_PERMISSION);
	CHECK_STR_HAS(out, want);
	CHECK_STR_HAS(out, "permission denied: kernel.perf_event_paranoid is ");
	CHECK_STR_HAS(out, "sysctl kernel.perf_event_paranoid=0, or grant CAP_PERFMON");
	snprintf(want, sizeof want, "rapl:package-0|%d|perf (unreadable)|", JOULES_ERR_PERMISSION);
	CHECK_STR_HAS(out, want);
	CHECK_STR_HAS(out, "root-only since Linux 5.10");
	CHECK_STR_HAS(out, "; or let perf read it: sysctl kernel.perf_event_paranoid=0");
	/* What the child saw, after the checks (strtok cuts it up). */
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		printf("# %s\n", l);
	fakesys_free(fs);
}

/* ---- the CLI shows where else a domain was found ---- */

static void test_cli_shows_also_available(void)
{
	const char *cli = getenv("JOULES_CLI");
	if (!cli) {
		printf("# SKIP: JOULES_CLI not set\n");
		return;
	}
	struct fakesys *fs = TEST_TREE("perf+powercap");
	char cmd[8192], line[512];
	bool json = false, table = false;
	snprintf(cmd, sizeof cmd, "JOULES_SYSFS_ROOT='%s' '%s' list --json", fakesys_root(fs), cli);
	FILE *p = popen(cmd, "r");
	while (p && fgets(line, sizeof line, p))
		json |= strstr(line, "\"also_available\"") && strstr(line, "\"perf (unreadable)\"");
	CHECK(p && pclose(p) == 0);
	snprintf(cmd, sizeof cmd, "JOULES_SYSFS_ROOT='%s' '%s' list", fakesys_root(fs), cli);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof line, p))
		table |= strstr(line, "rapl:package-0") && strstr(line, "also: perf (unreadable)");
	CHECK(p && pclose(p) == 0);
	CHECK(json);
	CHECK(table);
	fakesys_free(fs);
}

static const struct test tests[] = {
	TEST(test_cpulist),
	TEST(test_event_terms_and_format),
	TEST(test_scale),
	TEST(test_intel_2s_one_sensor_per_event_per_package),
	TEST(test_unopenable_pmu_names_the_call_and_reads_fail),
	TEST(test_broken_pmu_files),
	TEST(test_broken_event_files),
	TEST(test_no_power_pmu_adds_nothing),
	TEST(test_dead_counter_is_not_counting),
	TEST(test_format_places_terms_in_config),
	TEST(test_perf_and_powercap_give_one_package),
	TEST(test_both_readable_keeps_powercap),
	TEST(test_readable_perf_replaces_unreadable_powercap),
	TEST(test_both_unreadable_keeps_powercap_and_says_so),
	TEST(test_perf_psys_contains_powercap_packages),
	TEST(test_unprivileged_user_gets_reason_and_fix),
	TEST(test_cli_shows_also_available),
};

int main(void)
{
	const char *child_root = getenv("JOULES_PERF_LIST_ROOT");
	if (child_root)
		return list_as_child(child_root);
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
