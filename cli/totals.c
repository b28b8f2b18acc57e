/* SPDX-License-Identifier: MIT */
/* Which total each sensor adds to; see totals.h for the rule and why. */
#include "totals.h"

const char *const total_names[N_TOTALS] = {"cpu", "dram", "gpu", "platform"};

int total_of_kind(int kind)
{
	switch (kind) {
	case JOULES_KIND_CPU_PACKAGE:
	case JOULES_KIND_CPU_CORE:
	case JOULES_KIND_UNCORE:
		return TOTAL_CPU;
	case JOULES_KIND_DRAM:
		return TOTAL_DRAM;
	case JOULES_KIND_GPU:
		return TOTAL_GPU;
	case JOULES_KIND_PLATFORM:
		return TOTAL_PLATFORM;
	}
	return TOTAL_NONE;
}

int total_counted(const joules_ctx *ctx, const bool *selected, size_t i)
{
	const struct joules_sensor *s = joules_sensor(ctx, i);
	int t = s ? total_of_kind(s->kind) : TOTAL_NONE;
	size_t n = joules_sensor_count(ctx);
	/* At most n steps: a malformed tree with a cycle cannot loop forever. */
	for (size_t steps = 0; t != TOTAL_NONE && s->parent >= 0 && steps < n; steps++) {
		size_t p = (size_t)s->parent;
		s = joules_sensor(ctx, p);
		if (!s)
			break;
		if ((!selected || selected[p]) && total_of_kind(s->kind) == t)
			return TOTAL_NONE;
	}
	return t;
}
