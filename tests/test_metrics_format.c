/* SPDX-License-Identifier: MIT */
/*
 * joulesd's exposition formatter (daemon/metrics_format.c): the exact text
 * for a known input, label escaping, short buffers, and promtool's verdict
 * on the text (Debian's prometheus package ships promtool).
 */
#include <stdlib.h>

#include "harness.h"
#include "metrics_format.h"

static const struct metrics_info info = {
	.version = "0.2.0", .resolution_uj = 1, .start_time_s = 1700000000};

static const struct metrics_sensor two[] = {
	{.id = "rapl:package-0", .kind = "cpu-package", .device = "socket 0", .up = true,
	 .have_energy = true, .energy_uj = 12345678901, .have_power = true, .power_uw = 35500000},
	{.id = "nvml:gpu-0", .kind = "gpu", .device = "NVIDIA \"H200\"\\0\nx", .up = false,
	 .have_energy = false},
};

static const char expected[] =
	"# HELP joules_build_info joulesd's version (always 1).\n"
	"# TYPE joules_build_info gauge\n"
	"joules_build_info{version=\"0.2.0\"} 1\n"
	"# HELP joules_daemon_start_time_seconds When joulesd started (Unix time); counters "
	"restart from 0 then.\n"
	"# TYPE joules_daemon_start_time_seconds gauge\n"
	"joules_daemon_start_time_seconds 1700000000\n"
	"# HELP joules_energy_resolution_joules Resolution of the energy served (1: the public "
	"resolution, whole joules).\n"
	"# TYPE joules_energy_resolution_joules gauge\n"
	"joules_energy_resolution_joules 0.000001\n"
	"# HELP joules_sensor_up 1 when the sensor was read at the last poll, else 0.\n"
	"# TYPE joules_sensor_up gauge\n"
	"joules_sensor_up{sensor=\"rapl:package-0\",kind=\"cpu-package\",device=\"socket 0\"} 1\n"
	"joules_sensor_up{sensor=\"nvml:gpu-0\",kind=\"gpu\",device=\"NVIDIA \\\"H200\\\"\\\\0\\nx\"} 0\n"
	"# HELP joules_energy_joules_total Energy used since joulesd started, wraparounds added "
	"back.\n"
	"# TYPE joules_energy_joules_total counter\n"
	"joules_energy_joules_total{sensor=\"rapl:package-0\",kind=\"cpu-package\",device=\"socket "
	"0\"} 12345.678901\n"
	"# HELP joules_power_watts Recent average power.\n"
	"# TYPE joules_power_watts gauge\n"
	"joules_power_watts{sensor=\"rapl:package-0\",kind=\"cpu-package\",device=\"socket 0\"} "
	"35.500000\n";

static void test_exact_text(void)
{
	char buf[4096];
	size_t n = metrics_format(buf, sizeof buf, &info, two, 2);
	CHECK_EQ_U64(n, strlen(expected));
	CHECK(strcmp(buf, expected) == 0);
	if (strcmp(buf, expected) != 0)
		printf("# got:\n%s", buf);
}

static void test_short_buffers_keep_the_length_and_a_prefix(void)
{
	size_t whole = metrics_format(NULL, 0, &info, two, 2);
	CHECK_EQ_U64(whole, strlen(expected));
	for (size_t len = 1; len < whole + 2; len += 37) {
		char *buf = malloc(len);
		CHECK_EQ_U64(metrics_format(buf, len, &info, two, 2), whole);
		size_t got = strlen(buf);
		CHECK_EQ_U64(got, len - 1 < whole ? len - 1 : whole);
		CHECK(strncmp(buf, expected, got) == 0);
		free(buf);
	}
}

static void test_no_sensors_and_null_labels(void)
{
	char buf[4096];
	struct metrics_sensor s = {.id = "x", .kind = NULL, .device = NULL, .up = true,
				   .have_energy = true, .energy_uj = 7};
	struct metrics_info pub = {.version = "v", .resolution_uj = 1000000, .start_time_s = 0};
	metrics_format(buf, sizeof buf, &pub, &s, 1);
	CHECK_STR_HAS(buf, "joules_energy_joules_total{sensor=\"x\",kind=\"\",device=\"\"} 0.000007\n");
	CHECK_STR_HAS(buf, "joules_energy_resolution_joules 1.000000\n");
	CHECK(!strstr(buf, "joules_power_watts{"));
	metrics_format(buf, sizeof buf, &pub, NULL, 0);
	CHECK_STR_HAS(buf, "# TYPE joules_energy_joules_total counter\n");
	CHECK(!strstr(buf, "joules_sensor_up{"));
}

/* promtool, the reference parser, accepts the text, escapes included. */
static void test_promtool_accepts_it(void)
{
	char buf[4096];
	metrics_format(buf, sizeof buf, &info, two, 2);
	FILE *p = popen("promtool check metrics >/dev/null 2>&1", "w");
	CHECK(p != NULL);
	if (!p)
		return;
	fputs(buf, p);
	int status = pclose(p);
	if (status != 0)
		printf("# promtool check metrics failed (status %d): is Debian's prometheus "
		       "installed (apt-get install prometheus)?\n", status);
	CHECK_EQ_INT(status, 0);
	/* And it can fail: a broken label value is refused. */
	p = popen("promtool check metrics >/dev/null 2>&1", "w");
	if (!p)
		return;
	fputs("# TYPE x counter\nx_total{a=\"unterminated} 1\n", p);
	CHECK(pclose(p) != 0);
}

static const struct test tests[] = {
	TEST(test_exact_text),
	TEST(test_short_buffers_keep_the_length_and_a_prefix),
	TEST(test_no_sensors_and_null_labels),
	TEST(test_promtool_accepts_it),
};

int main(void)
{
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
