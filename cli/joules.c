/* SPDX-License-Identifier: MIT */
/* joules: the command line. Dispatches to one file per subcommand. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "joules.h"
#include "spawn.h"
#include "text.h"

static const char usage[] =
	"Usage: joules [--help] [--version] COMMAND [ARGS]\n"
	"\n"
	"Measure energy with every sensor of this machine.\n"
	"\n"
	"Commands:\n"
	"  list     every energy sensor, readable or not, and why not\n"
	"  gpu      every NVIDIA GPU: identity, memory, utilisation, power\n"
	"  run      run a command and report the energy it used (like perf stat)\n"
	"  record   write a power trace (CSV) while a command runs\n"
	"  plot     draw a recorded trace to PNG or SVG\n"
	"  top      watch every sensor's power and energy live\n"
	"\n"
	"Run 'joules COMMAND --help' for a command's options.\n"
	"\n"
	"Environment:\n"
	"  JOULES_SYSFS_ROOT  a directory that replaces /sys (a recorded or fake tree)\n";

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "joules%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'joules%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
}

int cli_json_only_options(int argc, char **argv, const char *cmd, const char *usage, bool *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	*json = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cli_open(const char *cmd, joules_ctx **ctx)
{
	const char *root = getenv("JOULES_SYSFS_ROOT");
	struct stat st;
	char shown[1024];
	/* A typo here would otherwise read as "no RAPL driver loaded" on every source. */
	int found = root && *root ? stat(root, &st) : 0;
	if (root && *root && (found != 0 || !S_ISDIR(st.st_mode))) {
		const char *why = found == 0        ? "not a directory"
				  : errno == ENOENT ? "no such directory"
						    : strerror(errno);
		fprintf(stderr,
			"joules %s: JOULES_SYSFS_ROOT=%s: %s; set it to a directory holding a "
			"sysfs tree, or unset it to read /sys\n",
			cmd, text_show(root, shown, sizeof shown), why);
		*ctx = NULL;
		return -1;
	}
	int r = joules_open(ctx, NULL);
	if (r < 0) {
		fprintf(stderr, "joules %s: cannot open the sensors: %s\n", cmd, joules_strerror(r));
		return -1;
	}
	return 0;
}

#ifndef JOULES_HAVE_PLOT
/* Built without cairo: say so rather than leave the command unknown. */
static int cli_plot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("joules plot: this joules was built without cairo; install libcairo2-dev and "
	      "libfontconfig-dev, then rebuild (meson setup -Dplot=enabled)\n",
	      stderr);
	return CLI_EXIT_FAILURE;
}
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{"list", cli_list},
	{"gpu", cli_gpu},
	{"run", cli_run},
	{"record", cli_record},
	{"plot", cli_plot},
	{"top", cli_top},
};

static int dispatch(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c;
	opterr = 0;
	/* '+': stop at the first non-option, the subcommand. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("joules %s\n", joules_version());
			return CLI_EXIT_OK;
		default:
			cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;
			optind = 0; /* restart getopt for the subcommand */
			return commands[i].run(subc, sub);
		}
	}
	cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
	return CLI_EXIT_USAGE;
}

/*
 * What went to stdout must have got there: a full disk or a closed pipe is
 * a failure, said with its reason (quietly for a reader that went away, as
 * SIGPIPE would be: `joules list | head -1`).
 */
int main(int argc, char **argv)
{
	spawn_ignore_sigpipe();
	int rc = dispatch(argc, argv);
	/* A write that failed before this flush left its errno (commands print last). */
	int e = fflush(stdout) != 0 ? errno : ferror(stdout) ? (errno ? errno : EIO) : 0;
	if (e && rc == CLI_EXIT_OK) {
		if (e != EPIPE)
			fprintf(stderr, "joules: cannot write stdout: %s\n", strerror(e));
		rc = CLI_EXIT_FAILURE;
	}
	return rc;
}
