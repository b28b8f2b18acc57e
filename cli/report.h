/* SPDX-License-Identifier: MIT */
/*
 * What `joules run` found over all its runs: per sensor and per total, the
 * mean and standard deviation across runs of energy, mean and peak power,
 * and energy above the idle power of the baseline. The output_* files
 * print it; none of them computes anything.
 */
#ifndef JOULES_CLI_REPORT_H
#define JOULES_CLI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "joules.h"

/* A running mean and variance (Welford): stable for any number of runs. */
struct acc {
	unsigned n;
	double mean, m2;
};
void acc_add(struct acc *a, double x);
/* Sample standard deviation (n − 1), as perf stat -r; 0 for one run. */
double acc_sd(const struct acc *a);

struct sensor_report {
	bool selected;
	int total;  /* the total it adds to (enum joules_total), or -1 */
	int status; /* 0, or why its energy is not known (first failure) */
	char reason[JOULES_REASON_LEN];
	struct acc energy_j, mean_w, peak_w, above_idle_j;
	uint32_t wraps;
	int idle_status; /* of the baseline, when there is one */
	double idle_w;
};

struct total_report {
	bool measured; /* at least one selected sensor adds to it */
	bool known;    /* ... and all of them were read in every run */
	const char *missing; /* when measured but not known: id of a failed sensor */
	struct acc j, above_idle_j;
};

struct report {
	const joules_ctx *ctx;
	const bool *selected;
	char *const *command;
	int command_argc;
	unsigned runs_asked;
	int exit_status; /* of the last run */
	struct acc duration_s;
	bool baseline;
	double baseline_s;
	size_t n;
	struct sensor_report *sensors;
	struct total_report totals[JOULES_TOTALS];
};

int report_init(struct report *r, const joules_ctx *ctx, const bool *selected);
void report_free(struct report *r);
/* The baseline region's result (every sensor): idle power per sensor. */
void report_set_baseline(struct report *r, const struct joules_region_sensor *per, double seconds);
/*
 * One run of the command: its region's result per sensor (every sensor),
 * its wall time and exit status.
 */
int report_add_run(struct report *r, const struct joules_region_sensor *per, uint64_t wall_ns,
		   int exit_status);

/*
 * The formats; each sets errno to 0, writes, and returns output_status(f):
 * 0, or -errno of the write that failed (-EIO when none said why).
 */
int output_status(FILE *f);
int output_text(const struct report *r, FILE *f);
int output_json(const struct report *r, FILE *f);
int output_csv(const struct report *r, FILE *f);

#endif
