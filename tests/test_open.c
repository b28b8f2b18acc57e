/* SPDX-License-Identifier: MIT */
/*
 * joules_open_with(): the options struct that starts with its own size
 * (libbpf's rule for sizes), the choice of sources, the policy, and the
 * message of a failed open, which outlives the context.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "joules.h"
#include "testutil.h"

static size_t count_source(const joules_ctx *ctx, const char *source)
{
	size_t n = 0;
	for (size_t i = 0; i < joules_sensor_count(ctx); i++)
		n += strcmp(joules_sensor(ctx, i)->source, source) == 0;
	return n;
}

static void test_opts_open_the_tree(void)
{
	struct fakesys *fs = TEST_TREE("intel-2s");
	char err[256] = "stale";
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = fakesys_root(fs),
				     .error = err, .error_len = sizeof err};
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), 0);
	CHECK(ctx != NULL);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 8);
	CHECK_EQ_INT(err[0], '\0');
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_sources_pick_the_backends(void)
{
	struct fakesys *fs = TEST_TREE("perf+powercap", "hwmon-i915");
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = fakesys_root(fs),
				     .sources = "hwmon,perf"};
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), 0);
	CHECK_EQ_U64(joules_source_count(ctx), 2);
	/* Listed in the library's order, not the caller's. */
	CHECK(strcmp(joules_source_name(ctx, 0), "perf") == 0);
	CHECK(strcmp(joules_source_name(ctx, 1), "hwmon") == 0);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 0);
	/* Without powercap, perf is the only reader of package-0. */
	int p = joules_sensor_find(ctx, "rapl:package-0");
	CHECK(p >= 0);
	if (p >= 0)
		CHECK(strcmp(joules_sensor(ctx, (size_t)p)->source, "perf") == 0);
	CHECK_EQ_U64(count_source(ctx, "hwmon"), 1);
	joules_close(ctx);
	fakesys_free(fs);
}

static void test_unknown_source_is_refused_with_a_message(void)
{
	char err[512];
	struct joules_open_opts o = {.size = sizeof o, .sources = "powercap,rapl",
				     .error = err, .error_len = sizeof err};
	joules_ctx *ctx = (joules_ctx *)&o; /* set to NULL on failure */
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	CHECK(ctx == NULL);
	CHECK_STR_HAS(err, "unknown source \"rapl\"");
	CHECK_STR_HAS(err, "powercap, perf, nvml, hwmon");
	/* A short buffer gets as much as fits, terminated. */
	char tiny[8];
	o.error = tiny;
	o.error_len = sizeof tiny;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	CHECK_EQ_U64(strlen(tiny), sizeof tiny - 1);
}

static void test_policy(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen");
	char err[512];
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = fakesys_root(fs),
				     .policy = JOULES_POLICY_DAEMON, .error = err,
				     .error_len = sizeof err};
	joules_ctx *ctx = NULL;
	/* The daemon policy with no daemon: refused, saying what to do. */
	setenv("JOULES_SOCKET", "/nonexistent/joules.sock", 1);
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_PERMISSION);
	CHECK_STR_HAS(err, "joulesd is not running");
	CHECK_STR_HAS(err, "systemctl enable --now joulesd");
	unsetenv("JOULES_SOCKET");
	o.policy = 7;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	CHECK_STR_HAS(err, "policy 7");
	o.policy = JOULES_POLICY_DIRECT;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), 0);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 2);
	joules_close(ctx);
	o.reserved = 1;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	fakesys_free(fs);
}

/* libbpf's rule: smaller than the first version, or bigger with a nonzero tail: refused. */
static void test_size_rules(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen");
	struct {
		struct joules_open_opts o;
		uint64_t later_field;
	} big;
	memset(&big, 0, sizeof big);
	big.o.size = sizeof big;
	big.o.sysfs_root = fakesys_root(fs);
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, &big.o), 0); /* a newer caller, tail zero */
	joules_close(ctx);
	char err[256] = "";
	big.o.error = err;
	big.o.error_len = sizeof err;
	big.later_field = 1;
	CHECK_EQ_INT(joules_open_with(&ctx, &big.o), JOULES_ERR_INVALID);
	CHECK(ctx == NULL);
	CHECK_STR_HAS(err, "opts->size");
	struct joules_open_opts o = {.size = sizeof o - 1, .sysfs_root = fakesys_root(fs)};
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	o.size = 0;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), JOULES_ERR_INVALID);
	CHECK_EQ_INT(joules_open_with(NULL, NULL), JOULES_ERR_INVALID);
	fakesys_free(fs);
}

/* NULL options and joules_open() are the defaults: $JOULES_SYSFS_ROOT. */
static void test_null_opts_use_the_environment(void)
{
	struct fakesys *fs = TEST_TREE("amd-zen");
	setenv("JOULES_SYSFS_ROOT", fakesys_root(fs), 1);
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, NULL), 0);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 2);
	joules_close(ctx);
	CHECK_EQ_INT(joules_open(&ctx, NULL), 0);
	CHECK_EQ_U64(count_source(ctx, "powercap"), 2);
	joules_close(ctx);
	unsetenv("JOULES_SYSFS_ROOT");
	fakesys_free(fs);
}

/* The NVML library named in the options, over $JOULES_NVML_LIBRARY. */
static void test_nvml_library_option(void)
{
	struct fakesys *fs = TEST_TREE(NULL);
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = fakesys_root(fs),
				     .nvml_library = "/nonexistent/opts/libnvidia-ml.so.1",
				     .sources = "nvml"};
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open_with(&ctx, &o), 0);
	CHECK_EQ_INT(joules_gpu_count(ctx), 0);
	CHECK_STR_HAS(joules_gpu_error(ctx), "/nonexistent/opts/libnvidia-ml.so.1");
	joules_close(ctx);
	fakesys_free(fs);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_opts_open_the_tree),
		TEST(test_sources_pick_the_backends),
		TEST(test_unknown_source_is_refused_with_a_message),
		TEST(test_policy),
		TEST(test_size_rules),
		TEST(test_null_opts_use_the_environment),
		TEST(test_nvml_library_option),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
