/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include "harness.h"

struct fakesys *test_tree(const char *const layouts[])
{
	struct fakesys *fs = fakesys_new();
	CHECK(fs != NULL);
	for (size_t i = 0; fs && layouts[i]; i++)
		CHECK_EQ_INT(fakesys_layout(fs, layouts[i]), 0);
	return fs;
}

joules_ctx *test_open(const struct fakesys *fs)
{
	joules_ctx *ctx = NULL;
	CHECK_EQ_INT(joules_open(&ctx, fakesys_root(fs)), 0);
	CHECK(ctx != NULL);
	return ctx;
}

int test_find(const joules_ctx *ctx, const char *id)
{
	int i = joules_sensor_find(ctx, id);
	if (i < 0)
		printf("#   no sensor %s\n", id);
	CHECK(i >= 0);
	return i;
}
