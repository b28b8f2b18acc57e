/* SPDX-License-Identifier: MIT */
/*
 * The trace reader of `joules plot` (cli/trace.c) on both formats: the
 * five columns 'joules record' writes by default (ids only: a legend name
 * from the id, "GPU 911ede30" for an NVML UUID) and the eleven of
 * 'joules record --wide' (columns found by name: "GPU 0 H200" from the
 * name and kind); a sensor whose rows never have a power is counted as
 * never measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trace.h"
#include "trace_label.h"

static int read_text(const char *text, struct trace *tr)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct trace_error err;
	CHECK(f != NULL);
	int rc = trace_read(f, 8, tr, &err);
	if (rc)
		printf("#   %lu: %s\n", err.line, err.why);
	fclose(f);
	return rc;
}

static const struct series *find(const struct trace *tr, const char *id)
{
	for (size_t i = 0; i < tr->n; i++)
		if (strcmp(tr->s[i].id, id) == 0)
			return &tr->s[i];
	return NULL;
}

static void test_five_columns(void)
{
	struct trace tr;
	const char *text = "time_s,sensor,watts,joules,total\n"
			   "0.02,rapl:psys,,,platform\n"
			   "0.02,nvml:GPU-911ede30-6d4d-1fbb-d217-a6ee33f8b1d3,78.7,1.6,gpu\n"
			   "0.04,rapl:psys,,,platform\n"
			   "0.04,nvml:GPU-911ede30-6d4d-1fbb-d217-a6ee33f8b1d3,79,3.2,gpu\n";
	CHECK_EQ_INT(read_text(text, &tr), 0);
	const struct series *gpu = find(&tr, "nvml:GPU-911ede30-6d4d-1fbb-d217-a6ee33f8b1d3");
	const struct series *psys = find(&tr, "rapl:psys");
	CHECK(gpu && psys);
	if (gpu && psys) {
		CHECK_STR_HAS(gpu->label, "GPU 911ede30");
		CHECK_EQ_INT(strlen(gpu->label), strlen("GPU 911ede30"));
		CHECK_EQ_INT(strcmp(psys->label, "psys"), 0);
		CHECK_EQ_INT(strcmp(gpu->total, "gpu"), 0);
		CHECK_EQ_U64(gpu->measured, 2);
		CHECK_EQ_U64(psys->measured, 0);
	}
	trace_free(&tr);
}

/* Two GPUs of one model in five columns (no names): told apart by their UUIDs. */
static void test_two_gpus_by_id(void)
{
	struct trace tr;
	const char *text = "time_s,sensor,watts,joules,total\n"
			   "0.02,nvml:GPU-0aea86fe-9801-ba50-c8f0-336b3c0b1f78,80,1.6,gpu\n"
			   "0.02,nvml:GPU-5c1d3e07-44a1-0b6e-1f3c-9d1e2a7b6c55,70,1.4,gpu\n"
			   "0.02,nvml:gpu2,60,1.2,gpu\n";
	CHECK_EQ_INT(read_text(text, &tr), 0);
	const struct series *a = find(&tr, "nvml:GPU-0aea86fe-9801-ba50-c8f0-336b3c0b1f78");
	const struct series *b = find(&tr, "nvml:GPU-5c1d3e07-44a1-0b6e-1f3c-9d1e2a7b6c55");
	const struct series *c = find(&tr, "nvml:gpu2");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK_EQ_INT(strcmp(a->label, "GPU 0aea86fe"), 0);
		CHECK_EQ_INT(strcmp(b->label, "GPU 5c1d3e07"), 0);
		CHECK_EQ_INT(strcmp(c->label, "gpu2"), 0);
	}
	trace_free(&tr);
}

static void test_wide(void)
{
	struct trace tr;
	const char *text =
		"time_s,sensor,watts,joules,total,window_s,status,name,kind,device,note\n"
		"0.020000000,nvml:GPU-911e,80.000000,1.600000,gpu,0.020000000,ok,"
		"gpu0 NVIDIA H200,gpu,0000:17:00.0,\n"
		"0.020000000,rapl:package-0,10.000000,0.200000,cpu,0.020000000,ok,package-0,"
		"cpu-package,socket 0,\n"
		"0.040000000,rapl:package-0,,0.200000,cpu,0.020000000,failed,package-0,"
		"cpu-package,socket 0,\"the read failed: gone, for good\"\n"
		"0.040000000,nvml:GPU-911e,81.000000,3.220000,gpu,0.020000000,ok,"
		"gpu0 NVIDIA H200,gpu,0000:17:00.0,\n";
	CHECK_EQ_INT(read_text(text, &tr), 0);
	const struct series *gpu = find(&tr, "nvml:GPU-911e"), *pkg = find(&tr, "rapl:package-0");
	CHECK(gpu && pkg);
	if (gpu && pkg) {
		CHECK_EQ_INT(strcmp(gpu->label, "GPU 0 H200"), 0);
		CHECK_EQ_INT(strcmp(pkg->label, "package-0"), 0);
		CHECK_EQ_INT(strcmp(pkg->total, "cpu"), 0);
		CHECK_EQ_U64(pkg->measured, 1);
		CHECK(pkg->joules == 0.2);
		CHECK(gpu->joules == 3.22);
	}
	CHECK_EQ_U64(tr.rows, 4);
	trace_free(&tr);
}

static void test_labels(void)
{
	char *l = trace_label("nvml:GPU-1", "gpu12 NVIDIA H100 80GB HBM3 with a very long name",
			      "gpu");
	CHECK(l && strncmp(l, "GPU 12 H100 80GB HBM3", 21) == 0);
	CHECK(l && strlen(l) <= TRACE_LABEL_MAX);
	free(l);
	l = trace_label("hwmon:amdgpu-0", "", "");
	CHECK(l && strcmp(l, "amdgpu-0") == 0);
	free(l);
	/* A cut never splits a character: 20 two-byte letters. */
	l = trace_label("x", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
			"");
	CHECK(l && strlen(l) == 28);
	free(l);
}

int main(void)
{
	static const struct test tests[] = {TEST(test_five_columns), TEST(test_two_gpus_by_id),
					    TEST(test_wide), TEST(test_labels)};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
