/* SPDX-License-Identifier: MIT */
/* joules record: a power trace, one CSV row per sensor per sample, written as it goes. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "options.h"
#include "sampler.h"
#include "select.h"
#include "spawn.h"
#include "text.h"

static const char usage[] =
	"Usage: joules record -o FILE [OPTIONS] [--] COMMAND [ARGS...]\n"
	"       joules record -o FILE [OPTIONS] [--duration S]\n"
	"\n"
	"Record a power trace of every energy sensor while COMMAND runs, for S\n"
	"seconds, or (with neither) until interrupted with Ctrl-C or SIGTERM.\n"
	"Rows are flushed as they go (a sample's rows one interval later, once a\n"
	"GPU's readings have settled), so an interrupted recording keeps all but\n"
	"its last sample. 'joules plot FILE' draws the trace.\n"
	"\n"
	"The trace is CSV (RFC 4180) with this header and columns:\n"
	"  time_s,sensor,watts,joules,total\n"
	"  time_s   seconds since the recording started, at the end of the sample\n"
	"  sensor   the sensor's id ('joules list' names them all)\n"
	"  watts    mean power over the interval that ends at time_s\n"
	"  joules   energy since the recording started (cumulative)\n"
	"  total    the total this sensor adds to (cpu, dram, gpu, platform), or\n"
	"           empty when it sits inside another sensor of the same total (a\n"
	"           core inside its package) or belongs to none; summing the watts\n"
	"           of the rows with the same total never counts a domain twice\n"
	"One row per selected sensor per sample. A sensor that fails gets rows\n"
	"with empty watts and joules from then on, and joules says why on stderr.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   the trace (required); '-' for stdout. When the trace is\n"
	"                      stdout ('-', /dev/stdout), COMMAND's own stdout goes to\n"
	"                      joules's stderr, so that stdout holds the trace alone\n" SELECT_HELP
	"  -i, --interval MS   sample every MS ms (default 100)\n"
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
	struct sampler smp;
	const bool *selected;
	const char *path;
	FILE *f;
	bool *warned; /* per sensor: its failure was reported */
	size_t clock;  /* the sensor whose reading times the rows */
	int failed;    /* errno of a failed write, or 0 */
	bool has_command;
};

static void warn_failed(struct recorder *rec, size_t i, double t)
{
	if (rec->warned[i] || !rec->smp.failed[i])
		return;
	rec->warned[i] = true;
	fputs("joules record: ", stderr);
	text_put(stderr, joules_sensor(rec->smp.ctx, i)->id);
	fprintf(stderr, " failed at %.3f s: ", t);
	text_put(stderr, rec->smp.reasons + i * JOULES_REASON_LEN);
	fputc('\n', stderr);
}

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

/*
 * The rows of the sample `b`, with the power since sample `a`; 0, or -1 when
 * the trace cannot be written. Nothing when b is no later than a.
 */
static int write_rows(struct recorder *rec, const struct joules_reading *a,
		      const struct joules_reading *b)
{
	const struct sampler *s = &rec->smp;
	if (b[rec->clock].time_ns <= a[rec->clock].time_ns)
		return 0;
	errno = 0;
	double t = (double)(b[rec->clock].time_ns - s->first[rec->clock].time_ns) / 1e9;
	for (size_t i = 0; i < s->n; i++) {
		if (!rec->selected[i])
			continue;
		const struct joules_sensor *js = joules_sensor(s->ctx, i);
		int total = joules_total_of(s->ctx, (const uint8_t *)rec->selected, i);
		uint64_t uj = 0;
		double w = 0;
		bool known = !s->failed[i] && sampler_watts(&a[i], &b[i], &w) &&
			     joules_delta(&s->first[i], &b[i], &uj) == 0;
		csv_number(rec->f, true, t);
		fputc(',', rec->f);
		csv_field(rec->f, js->id);
		fputc(',', rec->f);
		csv_number(rec->f, known, w);
		fputc(',', rec->f);
		csv_number(rec->f, known, (double)uj / 1e6);
		fputc(',', rec->f);
		csv_field(rec->f, total < 0 ? "" : joules_total_name(total));
		fputc('\n', rec->f);
		warn_failed(rec, i, t);
	}
	return flushed(rec);
}

/*
 * Rows trail by one sample: a GPU's newest reading is provisional until the
 * driver's samples covering it arrive, the one before has settled.
 */
static enum spawn_tick tick(void *arg)
{
	struct recorder *rec = arg;
	sampler_tick(&rec->smp);
	if (write_rows(rec, rec->smp.older, rec->smp.prev) == 0)
		return SPAWN_GO_ON;
	/* No reader left (record -o - | head): the pipeline is over, as SIGPIPE would say. */
	return rec->failed == EPIPE ? SPAWN_END_COMMAND : SPAWN_STOP_TICKS;
}

struct record_opts {
	const char *output, *sensors;
	uint64_t interval_ns, duration_ns, kill_after_ns;
};

enum { OPT_DURATION = 256, OPT_KILL_AFTER };

/* 0 to go on, -1 after --help, else the exit status of a usage error. */
static int parse(int argc, char **argv, struct record_opts *o)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"sensors", required_argument, NULL, 'e'},
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"kill-after", required_argument, NULL, OPT_KILL_AFTER},
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

/* Record with the trace open; returns the exit status. */
static int record(struct recorder *rec, const struct record_opts *o, char **cmd)
{
	errno = 0;
	fputs("time_s,sensor,watts,joules,total\n", rec->f);
	if (flushed(rec) < 0)
		return CLI_EXIT_FAILURE;
	int rc, started = 1;
	uint64_t wall;
	/* The trace on stdout: COMMAND's stdout goes to stderr, to keep them apart. */
	struct spawn_cfg cfg = {.interval_ns = o->interval_ns, .kill_after_ns = o->kill_after_ns,
				.stdout_to_stderr = is_stdout(rec->f), .tick = tick, .arg = rec};
	sampler_start(&rec->smp);
	if (cmd[0]) {
		rc = spawn_run(cmd, &cfg, &started, &wall);
	} else {
		spawn_wait(o->duration_ns, &cfg);
		rc = CLI_EXIT_OK; /* Ctrl-C is how an open-ended recording ends */
	}
	if (started && !rec->failed) {
		sampler_tick(&rec->smp);
		sampler_finish(&rec->smp); /* the last rows with final values */
		if (write_rows(rec, rec->smp.older, rec->smp.prev) == 0)
			write_rows(rec, rec->smp.prev, rec->smp.cur);
	}
	return rec->failed ? CLI_EXIT_FAILURE : rc;
}

static int record_with(joules_ctx *ctx, const struct record_opts *o, char **cmd)
{
	size_t n = joules_sensor_count(ctx);
	bool *selected = calloc(n ? n : 1, sizeof *selected);
	struct recorder rec = {.path = o->output, .selected = selected, .has_command = cmd[0] != NULL};
	int rc = CLI_EXIT_FAILURE;
	rec.warned = calloc(n ? n : 1, sizeof *rec.warned);
	if (!selected || !rec.warned || sampler_init(&rec.smp, ctx) < 0) {
		fputs("joules record: out of memory\n", stderr);
		goto out;
	}
	if (select_sensors(ctx, o->sensors, selected, "record") < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	while (rec.clock < n && !selected[rec.clock])
		rec.clock++;
	if (rec.clock == n) {
		fputs("joules record: no energy sensors to record (see 'joules list')\n", stderr);
		goto out;
	}
	bool to_stdout = strcmp(o->output, "-") == 0;
	rec.f = to_stdout ? stdout : option_output("record", o->output);
	if (!rec.f)
		goto out;
	rc = record(&rec, o, cmd);
	if (!to_stdout && fclose(rec.f) != 0 && !rec.failed) {
		char path[1024];
		fprintf(stderr, "joules record: cannot write %s: %s\n",
			text_show(o->output, path, sizeof path), strerror(errno));
		rc = CLI_EXIT_FAILURE;
	}
out:
	sampler_free(&rec.smp);
	free(rec.warned);
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
	uint64_t most = sampler_max_interval_ns(ctx);
	if (most && o.interval_ns > most)
		o.interval_ns = most;
	rc = record_with(ctx, &o, argv + optind);
	joules_close(ctx);
	return rc;
}
