/* SPDX-License-Identifier: MIT */
/*
 * Faults injected under the real read path (tests/faults.c wraps open,
 * read and pread at link time): every backend's read, and the sysfs
 * helpers under them, fed EIO, EBUSY, ENODEV and ENODATA once or for good,
 * after a countdown. Each error keeps its meaning: EIO is a failed read
 * (JOULES_ERR_IO), never "not a number" (JOULES_ERR_PARSE, also -5).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "fakesys.h"
#include "harness.h"
#include "joules.h"
#include "layouts.h"
#include "sysfs.h"
#include "testutil.h"

#define MAXS 64
#define PKG0_UJ "class/powercap/intel-rapl:0/energy_uj"
#define I915 "hwmon:i915:0000:04:00.0:energy1"
#define AMDGPU "hwmon:amdgpu:0000:0a:00.0:PPT"

struct errcase {
	int errnum, err;
};

/* What each errno of a failed read becomes. */
static const struct errcase read_errors[] = {
	{EIO, JOULES_ERR_IO},
	{EBUSY, JOULES_ERR_IO},
	{ENODEV, JOULES_ERR_LOST},
	{ENODATA, JOULES_ERR_IO},
};
#define N_READ_ERRORS (sizeof read_errors / sizeof read_errors[0])

static void path_of(const struct fakesys *fs, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fakesys_root(fs), rel);
}

static void test_sysfs_helpers_keep_one_error_space(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_write(fs, "a/value", "123\n"), 0);
	char path[4096], text[32];
	path_of(fs, "a/value", path, sizeof path);
	int fd = jl_sysfs_open(path, NULL);
	CHECK(fd >= 0);
	for (size_t i = 0; i < N_READ_ERRORS; i++) {
		const struct errcase *c = &read_errors[i];
		printf("# %s\n", strerror(c->errnum));
		int e = -1;
		fault_arm(FAULT_READ, "/a/value", 0, c->errnum, 1);
		CHECK_EQ_INT(jl_read_text(path, text, sizeof text, &e), c->err);
		CHECK_EQ_INT(e, c->errnum);
		CHECK_STR_HAS(jl_sysfs_why(c->err, e), strerror(c->errnum));
		/* Once: the next read succeeds. */
		CHECK_EQ_INT(jl_read_text(path, text, sizeof text, &e), 3);
		CHECK_EQ_INT(e, 0);
		fault_clear();

		uint64_t v = 0;
		fault_arm(FAULT_READ, "/a/value", 1, c->errnum, FAULT_ALWAYS);
		CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), 0);
		CHECK_EQ_U64(v, 123);
		for (int k = 0; k < 3; k++) {
			CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), c->err);
			CHECK_EQ_INT(e, c->errnum);
		}
		CHECK_EQ_U64(fault_fired(), 3);
		fault_clear();
	}
	/* An EIO is not a parse error, though both were -5 once. */
	CHECK(JOULES_ERR_PARSE == -EIO);
	int e;
	fault_arm(FAULT_READ, "/a/value", 0, EIO, 1);
	CHECK(jl_read_text(path, text, sizeof text, &e) != JOULES_ERR_PARSE);
	fault_clear();
	/* Open failures too. */
	fault_arm(FAULT_OPEN, "/a/value", 0, EACCES, 1);
	CHECK_EQ_INT(jl_read_text(path, text, sizeof text, &e), JOULES_ERR_PERMISSION);
	CHECK_EQ_INT(e, EACCES);
	fault_clear();
	close(fd);
	fakesys_free(fs);
}

/* Sensor i's readings in three snapshots. */
static void read3(joules_ctx *ctx, int i, struct joules_reading out[3])
{
	struct joules_reading r[MAXS];
	size_t n = joules_sensor_count(ctx);
	CHECK(n <= MAXS && i >= 0);
	for (int k = 0; k < 3; k++) {
		CHECK_EQ_INT(joules_read(ctx, r, n), (int)n);
		out[k] = i >= 0 ? r[i] : (struct joules_reading){.status = -100};
	}
}

static void test_powercap_read_faults(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	joules_ctx *ctx = test_open(fs);
	int pkg = test_find(ctx, "rapl:package-0");
	int dram = test_find(ctx, "rapl:dram-0");
	for (size_t i = 0; i < N_READ_ERRORS; i++) {
		const struct errcase *c = &read_errors[i];
		printf("# %s once, after one good read\n", strerror(c->errnum));
		struct joules_reading r[3];
		fault_arm(FAULT_READ, "/intel-rapl:0/energy_uj", 1, c->errnum, 1);
		read3(ctx, pkg, r);
		CHECK_EQ_INT(r[0].status, 0);
		CHECK_EQ_INT(r[1].status, c->err);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)pkg), "intel-rapl:0/energy_uj");
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)pkg), strerror(c->errnum));
		CHECK_EQ_INT(r[2].status, 0);
		CHECK_EQ_U64(fault_fired(), 1);
		fault_clear();
	}
	/* For good: every read fails the same way; the other zones read on. */
	fault_arm(FAULT_READ, "/intel-rapl:0/energy_uj", 0, ENODEV, FAULT_ALWAYS);
	struct joules_reading r[3], d[3];
	read3(ctx, pkg, r);
	for (int k = 0; k < 3; k++)
		CHECK_EQ_INT(r[k].status, JOULES_ERR_LOST);
	read3(ctx, dram, d);
	for (int k = 0; k < 3; k++)
		CHECK_EQ_INT(d[k].status, 0);
	fault_clear();
	joules_close(ctx);

	/* An open refused at enumeration: listed, unreadable, with the reason. */
	fault_arm(FAULT_OPEN, "/intel-rapl:0/energy_uj", 0, EACCES, 1);
	ctx = test_open(fs);
	fault_clear();
	pkg = test_find(ctx, "rapl:package-0");
	if (pkg >= 0) {
		const struct joules_sensor *s = joules_sensor(ctx, (size_t)pkg);
		CHECK(!(s->flags & JOULES_SENSOR_READABLE));
		CHECK_STR_HAS(s->reason, "permission denied");
	}
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_hwmon_counter_read_faults(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-i915");
	joules_ctx *ctx = test_open(fs);
	int gpu = test_find(ctx, I915);
	for (size_t i = 0; i < N_READ_ERRORS; i++) {
		const struct errcase *c = &read_errors[i];
		printf("# %s once\n", strerror(c->errnum));
		struct joules_reading r[3];
		fault_arm(FAULT_READ, "/energy1_input", 1, c->errnum, 1);
		read3(ctx, gpu, r);
		CHECK_EQ_INT(r[0].status, 0);
		CHECK_EQ_INT(r[1].status, c->err);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), "energy1_input");
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), strerror(c->errnum));
		CHECK_EQ_INT(r[2].status, 0);
		CHECK_EQ_U64(r[2].energy_uj, r[0].energy_uj);
		fault_clear();
	}
	/* EBUSY is a refusal of the moment, and the message says so. */
	fault_arm(FAULT_READ, "/energy1_input", 0, EBUSY, 1);
	struct joules_reading r[3];
	read3(ctx, gpu, r);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), "later reads may succeed");
	fault_clear();
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_hwmon_power_sample_faults(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
	/* Every sample fails with ENODEV from the first, taken at open. */
	fault_arm(FAULT_READ, "/power1_input", 0, ENODEV, FAULT_ALWAYS);
	joules_ctx *ctx = test_open(fs);
	int gpu = test_find(ctx, AMDGPU);
	struct joules_reading r[3];
	read3(ctx, gpu, r);
	CHECK_EQ_INT(r[2].status, JOULES_ERR_LOST);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), "power1_input");
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), strerror(ENODEV));
	CHECK(fault_fired() >= 1);
	joules_close(ctx);
	fault_clear();
	fakesys_free(fs);
}

/* Read until every provisional reading has settled (at most ~1.5 s). */
static void settle(joules_ctx *ctx, struct joules_reading *r)
{
	struct timespec pause = {.tv_nsec = 10000000};
	for (int k = 0; k < 150 && joules_settle(ctx, r, 1) > 0; k++)
		nanosleep(&pause, NULL);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Wait (up to 20 s: the sampler may run late on a loaded machine) for n failed calls. */
static void wait_fired(unsigned n)
{
	for (int k = 0; k < 2000 && fault_fired() < n; k++)
		sleep_ms(10);
	CHECK(fault_fired() >= n);
}

/* Sensor i's reading now. */
static struct joules_reading read_now(joules_ctx *ctx, int i)
{
	struct joules_reading r[MAXS];
	size_t n = joules_sensor_count(ctx);
	CHECK(n <= MAXS && i >= 0);
	CHECK_EQ_INT(joules_read(ctx, r, n), (int)n);
	return i >= 0 ? r[i] : (struct joules_reading){.status = -100};
}

/*
 * layouts/11: amdgpu refuses power1_input with EBUSY for a while (runtime
 * suspend): no reading fails, those meanwhile are flagged, and the energy
 * over the whole region is the steady 120 W integrated across the gap.
 */
static void test_hwmon_power_busy_is_a_gap(void)
{
	static const int transient[] = {EBUSY, ENODATA, EAGAIN};
	for (size_t k = 0; k < sizeof transient / sizeof transient[0]; k++) {
		printf("# %s for 350 ms\n", strerror(transient[k]));
		struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
		joules_ctx *ctx = test_open(fs);
		int gpu = test_find(ctx, AMDGPU);
		struct joules_reading a = read_now(ctx, gpu);
		fault_arm(FAULT_READ, "/power1_input", 0, transient[k], FAULT_ALWAYS);
		wait_fired(3);
		struct joules_reading m = read_now(ctx, gpu);
		CHECK_EQ_INT(m.status, 0);
		CHECK(m.flags & JOULES_READING_GAP);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), strerror(transient[k]));
		fault_clear();
		sleep_ms(250);
		struct joules_reading b = read_now(ctx, gpu);
		CHECK_EQ_INT(b.status, 0);
		CHECK(b.flags & JOULES_READING_GAP); /* it spans the end of the gap */
		settle(ctx, &a);
		settle(ctx, &b);
		uint64_t uj = 0;
		CHECK_EQ_INT(joules_delta(&a, &b, &uj), 0);
		/*
		 * 120 W across the gap: exact once both readings settled; a reading the
		 * sampler was too late to settle falls short by at most its uncertainty.
		 */
		double want = 120.0 * (double)(b.time_ns - a.time_ns) / 1e3; /* µJ */
		double lo = want * 0.995 - b.uncertainty_uj, hi = want * 1.005 + a.uncertainty_uj;
		if (uj < lo || uj > hi)
			printf("#   %" PRIu64 " µJ, want %.0f in [%.0f, %.0f]\n", uj, want, lo, hi);
		CHECK(uj >= lo && uj <= hi);
		/* Counted in the uncertainty: half of three 100 ms samples at 120 W, at least. */
		CHECK(b.uncertainty_uj >= 18000000u);
		joules_close(ctx);
		fakesys_free(fs);
	}
}

/* One EIO is a hiccup (skipped); EIO again and again is a fault (reported). */
static void test_hwmon_power_eio_once_and_for_good(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-amdgpu");
	joules_ctx *ctx = test_open(fs);
	int gpu = test_find(ctx, AMDGPU);
	fault_arm(FAULT_READ, "/power1_input", 0, EIO, 1);
	wait_fired(1);
	struct joules_reading r = read_now(ctx, gpu);
	CHECK_EQ_INT(r.status, 0);
	fault_clear();
	fault_arm(FAULT_READ, "/power1_input", 0, EIO, FAULT_ALWAYS);
	wait_fired(2);
	r = read_now(ctx, gpu);
	CHECK_EQ_INT(r.status, JOULES_ERR_IO);
	CHECK(r.flags & JOULES_READING_PARTIAL);
	CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)gpu), strerror(EIO));
	fault_clear();
	joules_close(ctx);
	fakesys_free(fs);
}

/* A counter gone for good keeps the energy up to its last good reading. */
static void test_gone_counter_is_partial(void)
{
	struct fakesys *fs = TEST_TREE("hwmon-i915");
	joules_ctx *ctx = test_open(fs);
	int gpu = test_find(ctx, I915);
	struct joules_reading a = read_now(ctx, gpu);
	CHECK_EQ_INT(fakesys_advance(fs, "class/hwmon/hwmon3/energy1_input", 2500000, 0), 0);
	struct joules_reading b = read_now(ctx, gpu);
	fault_arm(FAULT_READ, "/energy1_input", 0, ENODEV, FAULT_ALWAYS);
	struct joules_reading c = read_now(ctx, gpu);
	CHECK_EQ_INT(c.status, JOULES_ERR_LOST);
	CHECK(c.flags & JOULES_READING_PARTIAL);
	CHECK(!(b.flags & JOULES_READING_PARTIAL));
	CHECK_EQ_U64(c.energy_uj, b.energy_uj);
	CHECK_EQ_U64(c.energy_uj - a.energy_uj, 2500000);
	fault_clear();
	joules_close(ctx);
	fakesys_free(fs);
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

static void test_perf_read_faults(void)
{
	if (!software_events_open())
		return;
	/* The power PMU is the software PMU: energy-pkg is cpu-clock, which counts. */
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_perf_pmu(fs, "1\n", "0\n"), 0);
	CHECK_EQ_INT(fakesys_perf_event(fs, "energy-pkg", "event=0x00", FAKESYS_PERF_SCALE), 0);
	joules_ctx *ctx = test_open(fs);
	int pkg = test_find(ctx, "rapl:package-0");
	for (size_t i = 0; i < N_READ_ERRORS; i++) {
		const struct errcase *c = &read_errors[i];
		printf("# %s once\n", strerror(c->errnum));
		struct joules_reading r[3];
		fault_arm(FAULT_READ, "[perf_event]", 1, c->errnum, 1);
		read3(ctx, pkg, r);
		CHECK_EQ_INT(r[0].status, 0);
		CHECK_EQ_INT(r[1].status, c->err);
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)pkg), "read of perf event energy-pkg");
		CHECK_STR_HAS(joules_sensor_error(ctx, (size_t)pkg), strerror(c->errnum));
		CHECK_EQ_INT(r[2].status, 0);
		CHECK(r[2].energy_uj >= r[0].energy_uj);
		fault_clear();
	}
	joules_close(ctx);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_sysfs_helpers_keep_one_error_space),
		TEST(test_powercap_read_faults),
		TEST(test_hwmon_counter_read_faults),
		TEST(test_hwmon_power_sample_faults),
		TEST(test_hwmon_power_busy_is_a_gap),
		TEST(test_hwmon_power_eio_once_and_for_good),
		TEST(test_gone_counter_is_partial),
		TEST(test_perf_read_faults),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
