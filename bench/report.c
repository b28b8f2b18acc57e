/* SPDX-License-Identifier: MIT */
/* The machine-readable lines of report.h. */
#include <stdio.h>

#include "report.h"

void bench_row(const char *row, double value, const char *unit, const char *floor_label,
	       double floor, const char *target)
{
	if (floor_label)
		printf("BENCH\t%s\t%.6g\t%s\t%s\t%.6g\t%s\n", row, value, unit, floor_label, floor,
		       target);
	else
		printf("BENCH\t%s\t%.6g\t%s\t\t\t%s\n", row, value, unit, target);
	fflush(stdout);
}

void bench_skip(const char *row, const char *target, const char *why)
{
	printf("BENCH-SKIP\t%s\t%s\t%s\n", row, target, why);
	fflush(stdout);
}
