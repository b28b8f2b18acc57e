/* SPDX-License-Identifier: MIT */
/* Option values shared by run and record: parsing numbers with clear errors. */
#ifndef JOULES_CLI_OPTIONS_H
#define JOULES_CLI_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

/* A duration in `unit_ns` units (1e6: ms, 1e9: s), > 0; -1 and a message if bad. */
int option_duration_ns(const char *cmd, const char *opt, const char *text, double unit_ns,
		       uint64_t *out);
/* A count ≥ 1; -1 and a message if bad. */
int option_count(const char *cmd, const char *opt, const char *text, unsigned *out);
/* fopen for writing, or a message naming the file and why; NULL on failure. */
FILE *option_output(const char *cmd, const char *path);

#endif
