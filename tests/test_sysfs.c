/* SPDX-License-Identifier: MIT */
/*
 * Reads that must neither block nor misread: the sysfs helpers on real
 * files (FIFOs, directories, device nodes, values longer than the buffer,
 * trailing garbage, embedded NULs), and the backends on trees holding them.
 * A hang is a failure: alarm() ends the test if a read blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "harness.h"
#include "joules.h"
#include "sysfs.h"
#include "testutil.h"

#define J 1000000ull
#define PC "class/powercap/"
#define HANG_LIMIT_S 60

static void path_of(const struct fakesys *fs, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fakesys_root(fs), rel);
}

/* Write `len` bytes (NULs allowed) as the whole file. */
static void write_raw(struct fakesys *fs, const char *rel, const char *bytes, size_t len)
{
	char path[4096];
	CHECK_EQ_INT(fakesys_write(fs, rel, ""), 0);
	path_of(fs, rel, path, sizeof path);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, bytes, len), (long long)len);
	close(fd);
}

static void make_fifo(struct fakesys *fs, const char *rel)
{
	char path[4096];
	CHECK_EQ_INT(fakesys_write(fs, rel, ""), 0);
	path_of(fs, rel, path, sizeof path);
	CHECK_EQ_INT(unlink(path), 0);
	CHECK_EQ_INT(mkfifo(path, 0644), 0);
}

static void test_parse_u64(void)
{
	static const struct {
		const char *text;
		uint64_t v;
	} good[] = {
		{"0", 0}, {"7\n", 7}, {"123", 123}, {"007\n", 7}, {"123 \n", 123},
		{"18446744073709551615\n", UINT64_MAX},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint64_t v = 1;
		CHECK_EQ_INT(jl_parse_u64(good[i].text, &v), 0);
		CHECK_EQ_U64(v, good[i].v);
	}
	static const char *const bad[] = {
		"", "\n", " ", " 123", "\t123\n", "+1", "-1", "0x10", "123abc", "123\nabc",
		"123\n4", "12 3", "1.5", "18446744073709551616", "99999999999999999999999",
		"abc", "\x1b[2J",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 42;
		if (jl_parse_u64(bad[i], &v) != JOULES_ERR_PARSE)
			printf("#   \"%s\" accepted\n", bad[i]);
		CHECK_EQ_INT(jl_parse_u64(bad[i], &v), JOULES_ERR_PARSE);
		CHECK_EQ_U64(v, 42);
	}
}

static void test_fifo_directory_and_device_are_refused(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	make_fifo(fs, "a/fifo");
	CHECK_EQ_INT(fakesys_mkdir(fs, "a/dir"), 0);
	char fifo[4096], dir[4096], text[64];
	path_of(fs, "a/fifo", fifo, sizeof fifo);
	path_of(fs, "a/dir", dir, sizeof dir);
	const char *const paths[] = {fifo, dir, "/dev/null", "/dev/zero"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		printf("# %s\n", paths[i]);
		int e = -1;
		CHECK_EQ_INT(jl_sysfs_open(paths[i], &e), JOULES_ERR_UNSUPPORTED);
		CHECK_EQ_INT(e, 0);
		CHECK_EQ_INT(jl_read_text(paths[i], text, sizeof text, &e), JOULES_ERR_UNSUPPORTED);
		CHECK_STR_HAS(jl_sysfs_why(JOULES_ERR_UNSUPPORTED, e), "not a regular file");
	}
	/* Missing: open's errno, in the one error space. */
	int e;
	path_of(fs, "a/none", dir, sizeof dir);
	CHECK_EQ_INT(jl_read_text(dir, text, sizeof text, &e), JOULES_ERR_LOST);
	CHECK_EQ_INT(e, ENOENT);
	fakesys_free(fs);
}

static void test_values_longer_than_the_buffer(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	char path[4096], text[32];
	uint64_t v = 5;
	int e;
	/* 40 digits: its first 31 bytes would parse as a number. */
	CHECK_EQ_INT(fakesys_write(fs, "a/v", "1234567890123456789012345678901234567890\n"), 0);
	path_of(fs, "a/v", path, sizeof path);
	int fd = jl_sysfs_open(path, NULL);
	CHECK(fd >= 0);
	CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), JOULES_ERR_PARSE);
	CHECK_EQ_INT(e, EOVERFLOW);
	CHECK_EQ_U64(v, 5);
	/* "7" then spaces past the buffer: not "7". */
	char padded[200];
	memset(padded, ' ', sizeof padded);
	padded[0] = '7';
	padded[sizeof padded - 1] = '\0';
	CHECK_EQ_INT(fakesys_write(fs, "a/v", padded), 0);
	CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), JOULES_ERR_PARSE);
	CHECK_EQ_U64(v, 5);
	/* A text that fills the buffer is refused, not cut. */
	char name[16];
	CHECK_EQ_INT(fakesys_write(fs, "a/name", "package-0-die-12345\n"), 0);
	path_of(fs, "a/name", path, sizeof path);
	CHECK_EQ_INT(jl_read_text(path, name, sizeof name, &e), JOULES_ERR_PARSE);
	CHECK_EQ_INT(e, EOVERFLOW);
	CHECK(strcmp(name, "package-0-die-1") == 0); /* cut, for a caller that takes a name */
	CHECK_EQ_INT(jl_read_text(path, text, sizeof text, &e), 19);
	CHECK(strcmp(text, "package-0-die-12345") == 0);
	/* A megabyte: one bounded read, refused. */
	size_t big = 1 << 20;
	char *mb = malloc(big);
	CHECK(mb != NULL);
	if (mb) {
		memset(mb, '9', big);
		write_raw(fs, "a/v", mb, big);
		CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), JOULES_ERR_PARSE);
		free(mb);
	}
	/* The same fd reads a good value again. */
	CHECK_EQ_INT(fakesys_write(fs, "a/v", "99\n"), 0);
	CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), 0);
	CHECK_EQ_U64(v, 99);
	close(fd);
	fakesys_free(fs);
}

static void test_embedded_nul_and_garbage(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	char path[4096], text[32];
	uint64_t v = 5;
	int e;
	write_raw(fs, "a/v", "123\0abc\n", 8);
	path_of(fs, "a/v", path, sizeof path);
	int fd = jl_sysfs_open(path, NULL);
	CHECK(fd >= 0);
	CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), JOULES_ERR_PARSE);
	CHECK_EQ_U64(v, 5);
	/* The text kept for the message is printable. */
	for (size_t i = 0; text[i]; i++)
		CHECK(text[i] >= 0x20 && text[i] < 0x7f);
	CHECK_EQ_INT(strlen(text), 7);
	CHECK_EQ_INT(jl_read_text(path, text, sizeof text, &e), JOULES_ERR_PARSE);
	static const char *const bad[] = {"123abc\n", "123\nabc\n", " 123\n", "12 3\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ_INT(fakesys_write(fs, "a/v", bad[i]), 0);
		CHECK_EQ_INT(jl_pread_u64(fd, &v, text, sizeof text, &e), JOULES_ERR_PARSE);
		CHECK_EQ_INT(e, 0);
		CHECK_EQ_U64(v, 5);
	}
	close(fd);
	fakesys_free(fs);
}

/* The sensor with this id, unreadable, its reason containing `why`. */
static void check_refused(const joules_ctx *ctx, const char *id, const char *why)
{
	int i = test_find(ctx, id);
	if (i < 0)
		return;
	const struct joules_sensor *s = joules_sensor(ctx, (size_t)i);
	CHECK(!(s->flags & JOULES_SENSOR_READABLE));
	CHECK_STR_HAS(s->reason, why);
}

static void test_fifos_in_a_tree_never_block(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s", "hwmon-amdgpu", "hwmon-i915");
	/* Counters, names and ranges: each would block open() without O_NONBLOCK. */
	make_fifo(fs, PC "intel-rapl:0/energy_uj");
	make_fifo(fs, PC "intel-rapl:1/name");
	make_fifo(fs, PC "intel-rapl:1:2/max_energy_range_uj");
	make_fifo(fs, "class/hwmon/hwmon2/power1_input");
	make_fifo(fs, "class/hwmon/hwmon3/name");
	joules_ctx *ctx = test_open(fs);
	check_refused(ctx, "rapl:package-0", "intel-rapl:0/energy_uj");
	check_refused(ctx, "rapl:package-0", "not a regular file");
	check_refused(ctx, "hwmon:amdgpu:0000:0a:00.0:PPT", "power1_input");
	/* A zone whose name cannot be read is named after its directory. */
	test_find(ctx, "rapl:intel-rapl:1");
	/* A chip whose name cannot be read is named after its directory. */
	test_find(ctx, "hwmon:hwmon3:0000:04:00.0:energy1");
	int dram = test_find(ctx, "rapl:dram-1");
	if (dram >= 0)
		CHECK_EQ_U64(joules_sensor(ctx, (size_t)dram)->range_uj, 0);
	struct joules_reading r[64];
	size_t n = joules_sensor_count(ctx);
	CHECK(n <= 64);
	CHECK_EQ_INT(joules_read(ctx, r, n), (int)n);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_long_counter_value_is_refused(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	CHECK_EQ_INT(fakesys_powercap_zone(fs, "intel-rapl:0", "package-0", 7 * J,
					   FAKESYS_RAPL_RANGE_UJ), 0);
	joules_ctx *ctx = test_open(fs);
	struct joules_reading a, b;
	CHECK_EQ_INT(joules_read(ctx, &a, 1), 1);
	CHECK_EQ_INT(a.status, 0);
	CHECK_EQ_INT(fakesys_write(fs, PC "intel-rapl:0/energy_uj",
				   "700000000000000000000000000000000000000\n"), 0);
	CHECK_EQ_INT(joules_read(ctx, &b, 1), 1);
	CHECK_EQ_INT(b.status, JOULES_ERR_PARSE);
	CHECK_STR_HAS(joules_sensor_error(ctx, 0), "longer than any counter value");
	CHECK_EQ_U64(b.energy_uj, 7 * J);
	joules_close(ctx);
	fakesys_free(fs);
}

int main(void)
{
	alarm(HANG_LIMIT_S); /* a blocked read ends the test, failed */
	static const struct test tests[] = {
		TEST(test_parse_u64),
		TEST(test_fifo_directory_and_device_are_refused),
		TEST(test_values_longer_than_the_buffer),
		TEST(test_embedded_nul_and_garbage),
		TEST(test_fifos_in_a_tree_never_block),
		TEST(test_long_counter_value_is_refused),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
