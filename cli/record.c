/* SPDX-License-Identifier: MIT */
/* joules record: a power trace, one CSV row per sensor per sample, written as it goes. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "options.h"
#include "record_rows.h"
#include "select.h"
#include "spawn.h"
#include "text.h"

/* The library makes a reading final within 1 s whatever comes; a little more. */
#define SETTLE_WAIT_NS 1200000000ull

static const char usage[] =
	"Usage: joules record -o FILE [OPTIONS] [--] COMMAND [ARGS...]\n"
	"       joules record -o FILE [OPTIONS] [--duration S]\n"
	"\n"
	"Record a power trace of every energy sensor while COMMAND runs, for S\n"
	"seconds, or (with neither) until interrupted with Ctrl-C or SIGTERM.\n"
	"Rows are flushed as they go, once their readings are final (a GPU's\n"
	"~20-60 ms later; at the end joules waits up to ~1 s for them), so an\n"
	"interrupted recording keeps all but its last rows. 'joules plot FILE'\n"
	"draws the trace.\n"
	"\n"
	"The trace is CSV (RFC 4180) with this header and columns:\n"
	"  " RECORD_HEADER "\n"
	"  time_s   seconds since the recording started, at the end of the window\n"
	"  sensor   the sensor's id ('joules list' names them all)\n"
	"  watts    mean power over the window: exactly its energy over the window's\n"
	"           length; empty when the window has no energy (a failed read, a\n"
	"           counter reset)\n"
	"  joules   the sensor's energy since the recording started (cumulative,\n"
	"           never decreasing); empty until it first measured something\n"
	"  total    the total this sensor adds to (cpu, dram, gpu, platform), or\n"
	"           empty when it sits inside another sensor of the same total (a\n"
	"           core inside its package) or belongs to none; summing the watts\n"
	"           of the rows with the same total never counts a domain twice\n"
	"Rows come per sensor in time order, one per sample and sensor; a GPU's\n"
	"trail the others'. What happened to a window (a failed read, a reset, a\n"
	"window spanning failed reads, ...) is said on stderr, once per run of the\n"
	"same reason. With --wide it is in the status and note of six more columns\n"
	"(failures, resets and a sensor's first gap on stderr too):\n"
	"  window_s the window's length: it starts where the sensor's last row\n"
	"           with watts ended (so a row after failed reads spans them)\n"
	"  status   ok, or what happened, joined by '+': failed (the read failed:\n"
	"           no watts), reset (the counter was reset: this window's energy\n"
	"           is unknown and left out of joules), spans (the window reaches\n"
	"           back across failed reads: their energy is in it), gap (power\n"
	"           samples failed, integrated across), carried (a settled reading\n"
	"           came lower than energy already written: the difference is\n"
	"           taken from this window), lost (windows joules could not read)\n"
	"  name, kind, device   the sensor's name ('gpu0 NVIDIA H200'), kind and\n"
	"           device, as 'joules list' shows them\n"
	"  note     why, for a status other than ok: written on the first row of\n"
	"           a run of the same note, empty on the rows that repeat it\n"
	"\n"
"Options:\n"
	"  -o, --output FILE   the trace (required); '-' for stdout. When the trace is\n"
	"                      stdout ('-', /dev/stdout), COMMAND's own stdout goes to\n"
	"                      joules's stderr, so that stdout holds the trace alone\n" SELECT_HELP
	"  -i, --interval MS   sample every MS ms (default 100)\n"
	"      --wide          the eleven columns above, not the first five\n"
	"      --duration S    record for S seconds (without a COMMAND)\n"
	"      --kill-after S  a COMMAND still running S seconds (default 5) after a\n"
	"                      signal meant to stop it is killed with SIGKILL\n"
	"  -h, --help          this text\n"
	"\n"
	"Signals reach COMMAND as with 'joules run'; a second one, or --kill-after\n"
	"seconds without COMMAND ending, kills it. COMMAND never outlives joules. When\n"
	"the reader of the trace goes away ('joules record -o - -- CMD | head'), joules\n"
	"ends COMMAND (SIGTERM) as SIGPIPE would end a pipeline; other write errors\n"
	"(a full disk) stop the trace and let COMMAND finish.\n"
	"\n"
	"Exit status: COMMAND's (128 + N when signal N ended it; 127 or 126 when it\n"
	"could not be started); without a COMMAND 0, also when interrupted. 1 when\n"
	"the trace could not be written (a full disk, an unwritable path): the\n"
	"error names the file and the reason. 2 on a usage error.\n";

struct recorder {
	struct record_rows rows;
	const char *path;
	FILE *f;
	int failed; /* errno of a failed write, or 0 */
	bool has_command;
};

/* 0 when every row so far is written out; else -1, said once. */
static int flushed(struct recorder *rec)
{
	if (fflush(rec->f) == 0 && !ferror(rec->f))
		return 0;
	rec->failed = errno ? errno : EIO;
	char path[1024];
	text_show(rec->path, path, sizeof path);
	if (rec->failed == EPIPE)
		fprintf(stderr, "joules record: cannot write %s: %s (its reader is gone)%s\n",
			strcmp(rec->path, "-") ? path : "stdout", strerror(EPIPE),
			rec->has_command ? ": ending COMMAND" : "");
	else
		fprintf(stderr, "joules record: cannot write %s: %s%s\n",
			strcmp(rec->path, "-") ? path : "stdout", strerror(rec->failed),
			rec->has_command ? "; COMMAND runs on, unrecorded" : "");
	return -1;
}

/* The rows of every window the library's sampler made final since the last tick. */
static enum spawn_tick tick(void *arg)
{
	struct recorder *rec = arg;
	errno = 0;
	record_rows_write(&rec->rows, UINT64_MAX);
	if (flushed(rec) == 0)
		return SPAWN_GO_ON;
	/* No reader left (record -o - | head): the pipeline is over, as SIGPIPE would say. */
	return rec->failed == EPIPE ? SPAWN_END_COMMAND : SPAWN_STOP_TICKS;
}

/*
 * The end: one more sample now, then the rows up to it as they become
 * final (a GPU's ~20-60 ms later), waiting at most SETTLE_WAIT_NS: the
 * library makes a reading final within 1 s whatever comes.
 */
static void last_rows(struct recorder *rec)
{
	const struct timespec pause = {.tv_nsec = 5000000};
	uint64_t end = spawn_now_ns();
	joules_sample(rec->rows.ctx);
	for (;;) {
		errno = 0;
		record_rows_write(&rec->rows, end);
		if (record_rows_done(&rec->rows, end) || spawn_now_ns() - end > SETTLE_WAIT_NS)
			break;
		nanosleep(&pause, NULL);
	}
	flushed(rec);
}

struct record_opts {
	const char *output, *sensors;
	uint64_t interval_ns, duration_ns, kill_after_ns;
	bool wide;
};

enum { OPT_DURATION = 256, OPT_KILL_AFTER, OPT_WIDE };

/* 0 to go on, -1 after --help, else the exit status of a usage error. */
static int parse(int argc, char **argv, struct record_opts *o)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"sensors", required_argument, NULL, 'e'},
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"kill-after", required_argument, NULL, OPT_KILL_AFTER},
		{"wide", no_argument, NULL, OPT_WIDE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct record_opts){.interval_ns = 100000000u, .kill_after_ns = SPAWN_KILL_AFTER_NS};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:e:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'e':
			o->sensors = optarg;
			break;
		case 'i':
			if (option_duration_ns("record", "-i", optarg, 1e6, &o->interval_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_DURATION:
			if (option_duration_ns("record", "--duration", optarg, 1e9,
					       &o->duration_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_KILL_AFTER:
			if (option_duration_ns("record", "--kill-after", optarg, 1e9,
					       &o->kill_after_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_WIDE:
			o->wide = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			if (optopt == OPT_DURATION || optopt == OPT_KILL_AFTER ||
			    (optopt > 0 && optopt < 256 && strchr("oei", optopt)))
				cli_usage_error("record", "option '%s' needs a value",
						argv[optind - 1]);
			else
				cli_usage_error("record", "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (!o->output) {
		cli_usage_error("record", "no trace file: give -o FILE");
		return CLI_EXIT_USAGE;
	}
	if (o->duration_ns && optind < argc) {
		cli_usage_error("record", "--duration and a COMMAND exclude each other");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* Whether the trace is joules's stdout: '-', or /dev/stdout, /proc/self/fd/1 ... */
static bool is_stdout(FILE *f)
{
	struct stat a, b;
	if (f == stdout)
		return true;
	return fstat(fileno(f), &a) == 0 && fstat(STDOUT_FILENO, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Windows kept by the library per sensor: 2 s of them, so a slow write loses none. */
static uint32_t trace_len(uint64_t interval_ns)
{
	uint64_t len = 2000000000u / (interval_ns ? interval_ns : 1);
	return len < 64 ? 64 : len > 100000 ? 100000 : (uint32_t)len;
}

/* Record with the trace open; returns the exit status. */
static int record(struct recorder *rec, const struct record_opts *o, char **cmd)
{
	joules_ctx *ctx = rec->rows.ctx;
	errno = 0;
	fputs(o->wide ? RECORD_HEADER_WIDE "\n" : RECORD_HEADER "\n", rec->f);
	if (flushed(rec) < 0)
		return CLI_EXIT_FAILURE;
	uint64_t us = o->interval_ns / 1000u;
	/* A region for the whole recording: it keeps the GPUs sampled (the sampler alone does not). */
	int region = -1;
	int rc = joules_region_begin(ctx, "record", &region);
	if (rc == 0)
		rc = joules_sampler_start(ctx, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us,
					  trace_len(o->interval_ns));
	if (rc < 0) {
		fprintf(stderr, "joules record: cannot start recording: %s\n",
			*joules_last_error(ctx) ? joules_last_error(ctx) : joules_strerror(rc));
		return CLI_EXIT_FAILURE;
	}
	int started = 1;
	uint64_t wall;
	/* The trace on stdout: COMMAND's stdout goes to stderr, to keep them apart. */
	struct spawn_cfg cfg = {.interval_ns = (uint64_t)joules_sampler_interval(ctx) * 1000u,
				.kill_after_ns = o->kill_after_ns,
				.stdout_to_stderr = is_stdout(rec->f), .tick = tick, .arg = rec};
	if (cmd[0]) {
		rc = spawn_run(cmd, &cfg, &started, &wall);
	} else {
		spawn_wait(o->duration_ns, &cfg);
		rc = CLI_EXIT_OK; /* Ctrl-C is how an open-ended recording ends */
	}
	if (started && !rec->failed)
		last_rows(rec);
	joules_sampler_stop(ctx);
	joules_region_end(ctx, region, 0, NULL, NULL, 0); /* only its hold mattered */
	return rec->failed ? CLI_EXIT_FAILURE : rc;
}

static int record_with(joules_ctx *ctx, const struct record_opts *o, char **cmd)
{
	size_t n = joules_sensor_count(ctx);
	bool *selected = calloc(n ? n : 1, sizeof *selected);
	struct recorder rec = {.path = o->output, .has_command = cmd[0] != NULL};
	int rc = CLI_EXIT_FAILURE;
	if (!selected) {
		fputs("joules record: out of memory\n", stderr);
		goto out;
	}
	if (select_sensors(ctx, o->sensors, selected, "record") < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (record_rows_init(&rec.rows, ctx, NULL, selected, 0) < 0) {
		fputs("joules record: out of memory\n", stderr);
		goto out;
	}
	size_t any = 0;
	while (any < n && !selected[any])
		any++;
	if (any == n) {
		fputs("joules record: no energy sensors to record (see 'joules list')\n", stderr);
		goto out;
	}
	bool to_stdout = strcmp(o->output, "-") == 0;
	rec.f = rec.rows.f = to_stdout ? stdout : option_output("record", o->output);
	if (!rec.f)
		goto out;
	rec.rows.wide = o->wide;
	rec.rows.start_ns = spawn_now_ns();
	rc = record(&rec, o, cmd);
	if (!to_stdout && fclose(rec.f) != 0 && !rec.failed) {
		char path[1024];
		fprintf(stderr, "joules record: cannot write %s: %s\n",
			text_show(o->output, path, sizeof path), strerror(errno));
		rc = CLI_EXIT_FAILURE;
	}
out:
	record_rows_free(&rec.rows);
	free(selected);
	return rc;
}

int cli_record(int argc, char **argv)
{
	struct record_opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	joules_ctx *ctx;
	if (cli_open("record", &ctx) < 0)
		return CLI_EXIT_FAILURE;
	rc = record_with(ctx, &o, argv + optind);
	joules_close(ctx);
	return rc;
}
