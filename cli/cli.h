/* SPDX-License-Identifier: MIT */
#ifndef JOULES_CLI_H
#define JOULES_CLI_H

#include <stdbool.h>

#include "joules.h"

/* Exit statuses shared by every subcommand. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* Each subcommand: argv[0] is the subcommand's name. */
int cli_list(int argc, char **argv);
int cli_gpu(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_record(int argc, char **argv);
int cli_top(int argc, char **argv);
#ifdef JOULES_HAVE_PLOT
int cli_plot(int argc, char **argv);
#endif

/*
 * Options of a command whose only option is --json (list, gpu): sets *json.
 * Returns -1 to go on, or the exit status to return now (after --help or a
 * usage error).
 */
int cli_json_only_options(int argc, char **argv, const char *cmd, const char *usage, bool *json);

/*
 * joules_open() for command `cmd`, after checking that JOULES_SYSFS_ROOT,
 * when set, is a directory; 0, or -1 after saying why on stderr.
 */
int cli_open(const char *cmd, joules_ctx **ctx);

/* "joules: <what>" on stderr, and a hint to --help for usage errors. */
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
