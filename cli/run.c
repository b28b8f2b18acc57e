/* SPDX-License-Identifier: MIT */
/* joules run: the energy a command uses, in the manner of perf stat. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "report.h"
#include "select.h"
#include "spawn.h"
#include "text.h"

static const char usage[] =
	"Usage: joules run [OPTIONS] [--] COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND and report, for every energy sensor, the energy it used (J), its\n"
	"mean and peak power (W) and the wall time, then totals for cpu (packages),\n"
	"dram, gpu and platform (psys) that never count a domain twice: a core is\n"
	"inside its package, so cpu adds packages, not their cores.\n"
	"\n"
	"Energy is the difference of the counters read just before COMMAND starts\n"
	"and just after it ends; in between a sampler reads them every interval for\n"
	"the peak power (the highest mean over at least half an interval) and to see\n"
	"every counter wrap. The report goes to stderr, so COMMAND's stdout stays\n"
	"yours. Sensors this user cannot read are listed with the reason, never as 0 J.\n"
	"\n"
	"Options:\n" SELECT_HELP
	"  -i, --interval MS   sampler interval in ms (default 100); shortened if a\n"
	"                      counter could wrap twice in it\n"
	"  -r, --repeat N      run COMMAND N times; report the mean ± the sample\n"
	"                      standard deviation across runs (as perf stat -r). Stops\n"
	"                      at the first run that fails\n"
	"      --baseline S    first measure idle power for S seconds with nothing\n"
	"                      running, and also report the energy above idle:\n"
	"                      energy − idle power × time (it can be slightly negative).\n"
	"                      S is required, as every value of perf stat's options is:\n"
	"                      '--baseline 2 -- make' and '--baseline=2 -- make' agree\n"
	"      --json          one JSON object: command, exit_status, runs, duration_s,\n"
	"                      sensors [{id, name, kind, source, device, parent,\n"
	"                      counted_in, readable, energy_j, mean_w, peak_w, wraps,\n"
	"                      idle_w, above_idle_j} or {readable, error, reason}],\n"
	"                      totals {cpu_j, dram_j, gpu_j, platform_j} (null when\n"
	"                      unknown; totals_missing says why), totals_stddev (-r),\n"
	"                      totals_above_idle (--baseline); X_stddev beside each X\n"
	"                      when repeated\n"
	"      --csv           CSV: id,name,kind,readable,energy_j,energy_j_stddev,\n"
	"                      mean_w,peak_w,idle_w,above_idle_j,reason; one row per\n"
	"                      sensor, then rows total:cpu ... with kind 'total'; an\n"
	"                      unknown figure is an empty field\n"
	"  -o, --output FILE   write the report to FILE instead of stderr\n"
	"      --kill-after S  a COMMAND still running S seconds (default 5) after a\n"
	"                      signal meant to stop it is killed with SIGKILL\n"
	"  -h, --help          this text\n"
	"\n"
	"Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to joules are passed on to\n"
	"COMMAND (Ctrl-C reaches it directly); joules reports once it has ended. A\n"
	"second such signal, or --kill-after seconds without COMMAND ending, kills it\n"
	"(SIGKILL), and what it left running. COMMAND never outlives joules: if joules\n"
	"is killed, so is COMMAND.\n"
	"\n"
	"Exit status: COMMAND's (128 + N when signal N ended it); 127 when it was not\n"
	"found, 126 when it could not be executed; 1 when joules itself failed,\n"
	"2 on a usage error.\n"
	"\n"
	"Examples:\n"
	"  joules run -- sleep 1\n"
	"  joules run -r 5 --baseline 1 -e cpu,dram -- make -j8\n"
	"  joules run --json -o energy.json -- ./train.py\n";

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_CSV };

struct run_opts {
	const char *sensors, *output;
	uint64_t interval_ns, baseline_ns, kill_after_ns;
	unsigned repeat;
	enum format format;
};

enum { OPT_BASELINE = 256, OPT_JSON, OPT_CSV, OPT_KILL_AFTER };

/* 0 to go on, else the exit status (usage errors, --help). */
static int parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{"sensors", required_argument, NULL, 'e'},
		{"interval", required_argument, NULL, 'i'},
		{"repeat", required_argument, NULL, 'r'},
		{"baseline", required_argument, NULL, OPT_BASELINE},
		{"kill-after", required_argument, NULL, OPT_KILL_AFTER},
		{"json", no_argument, NULL, OPT_JSON},
		{"csv", no_argument, NULL, OPT_CSV},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct run_opts){.interval_ns = 100000000u, .repeat = 1,
			       .kill_after_ns = SPAWN_KILL_AFTER_NS};
	int c;
	opterr = 0;
	/* '+': the first non-option is COMMAND; its own options are its own. */
	while ((c = getopt_long(argc, argv, "+e:i:r:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->sensors = optarg;
			break;
		case 'i':
			if (option_duration_ns("run", "-i", optarg, 1e6, &o->interval_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'r':
			if (option_count("run", "-r", optarg, &o->repeat) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_BASELINE:
			if (option_duration_ns("run", "--baseline", optarg, 1e9, &o->baseline_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_KILL_AFTER:
			if (option_duration_ns("run", "--kill-after", optarg, 1e9, &o->kill_after_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_JSON:
			o->format = FORMAT_JSON;
			break;
		case OPT_CSV:
			o->format = FORMAT_CSV;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			if (optopt == OPT_BASELINE || optopt == OPT_KILL_AFTER ||
			    (optopt > 0 && optopt < 256 && strchr("eiro", optopt)))
				cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
			else
				cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage_error("run", "no command to run");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* Waiting for COMMAND (or the baseline), with no tick: the library samples. */
static struct spawn_cfg spawn_cfg(const struct run_opts *o)
{
	return (struct spawn_cfg){.interval_ns = o->interval_ns, .kill_after_ns = o->kill_after_ns};
}

/* joules_settle() makes a reading final within ~1 s whatever happens. */
#define SETTLE_WAIT_MS 1100u

/*
 * End region `id` with its readings settled (GPUs: their last ~20-60 ms
 * arrive late) into per[0..n-1]; 0, or -1 after saying why.
 */
static int end_region(joules_ctx *ctx, int id, struct joules_region_sensor *per, size_t n)
{
	int rc = joules_region_end(ctx, id, SETTLE_WAIT_MS, NULL, per, n);
	while (rc == 1) /* final at the latest 1.1 s after the end */
		rc = joules_region_finish(ctx, id, SETTLE_WAIT_MS, NULL, per, n);
	if (rc == 0)
		return 0;
	fprintf(stderr, "joules run: cannot end the measurement: %s\n", joules_last_error(ctx));
	return -1;
}

static int baseline(joules_ctx *ctx, struct report *rep, struct joules_region_sensor *per,
		    const struct run_opts *o)
{
	int id;
	if (joules_region_begin(ctx, "baseline", &id) < 0) {
		fprintf(stderr, "joules run: cannot start the baseline: %s\n", joules_last_error(ctx));
		return CLI_EXIT_FAILURE;
	}
	struct spawn_cfg cfg = spawn_cfg(o);
	int rc = spawn_wait(o->baseline_ns, &cfg);
	if (end_region(ctx, id, per, rep->n) < 0)
		return CLI_EXIT_FAILURE;
	if (rc == 0) {
		report_set_baseline(rep, per, (double)o->baseline_ns / 1e9);
		/* Regions from now on report the energy above it. */
		if (joules_baseline_from_region(ctx, per, rep->n) < 0)
			return CLI_EXIT_FAILURE;
	}
	return rc;
}

/* The runs; returns the last exit status, or -status when COMMAND never started. */
static int measure(joules_ctx *ctx, struct report *rep, struct joules_region_sensor *per,
		   const struct run_opts *o, char **cmd)
{
	int status = 0;
	struct spawn_cfg cfg = spawn_cfg(o);
	for (unsigned run = 0; run < o->repeat; run++) {
		int started, id;
		uint64_t wall;
		if (joules_region_begin(ctx, cmd[0], &id) < 0) {
			fprintf(stderr, "joules run: cannot start measuring: %s\n",
				joules_last_error(ctx));
			return -CLI_EXIT_FAILURE;
		}
		status = spawn_run(cmd, &cfg, &started, &wall);
		if (end_region(ctx, id, per, rep->n) < 0)
			return -CLI_EXIT_FAILURE;
		if (!started)
			return -status;
		if (report_add_run(rep, per, wall, status) < 0) {
			fputs("joules run: cannot total the sensors\n", stderr);
			return -CLI_EXIT_FAILURE;
		}
		if (status != 0)
			break;
	}
	return status;
}

static int emit(const struct report *rep, const struct run_opts *o, FILE *out)
{
	static int (*const formats[])(const struct report *, FILE *) = {
		[FORMAT_TEXT] = output_text, [FORMAT_JSON] = output_json, [FORMAT_CSV] = output_csv,
	};
	int r = formats[o->format](rep, out);
	if (r == 0)
		return 0;
	char path[1024];
	fprintf(stderr, "joules run: cannot write the report to %s: %s\n",
		o->output ? text_show(o->output, path, sizeof path) : "stderr", strerror(-r));
	return -1;
}

/* Measure with ctx open and the output ready; returns the exit status. */
static int run_with(joules_ctx *ctx, const struct run_opts *o, char **cmd, int ncmd, FILE *out)
{
	size_t n = joules_sensor_count(ctx);
	bool *selected = calloc(n ? n : 1, sizeof *selected);
	struct joules_region_sensor *per = calloc(n ? n : 1, sizeof *per);
	struct report rep = {0};
	int rc = CLI_EXIT_FAILURE;
	if (selected && select_sensors(ctx, o->sensors, selected, "run") < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (!selected || !per || report_init(&rep, ctx, selected) < 0) {
		fputs("joules run: out of memory\n", stderr);
		goto out;
	}
	rep.command = cmd;
	rep.command_argc = ncmd;
	rep.runs_asked = o->repeat;
	/* Peaks and wraps: the library's sampler thread, shortened to see every wrap. */
	uint64_t us = o->interval_ns / 1000u;
	if (joules_sampler_start(ctx, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us, 0) < 0) {
		fprintf(stderr, "joules run: cannot start the sampler: %s\n", joules_last_error(ctx));
		goto out;
	}
	if (o->baseline_ns && (rc = baseline(ctx, &rep, per, o)) != 0)
		goto out;
	rc = measure(ctx, &rep, per, o, cmd);
	if (rc < 0) {
		rc = -rc;
		goto out;
	}
	if (emit(&rep, o, out) < 0 && rc == 0)
		rc = CLI_EXIT_FAILURE;
out:
	report_free(&rep);
	free(per);
	free(selected);
	return rc;
}

int cli_run(int argc, char **argv)
{
	struct run_opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	joules_ctx *ctx;
	if (cli_open("run", &ctx) < 0)
		return CLI_EXIT_FAILURE;
	FILE *out = o.output ? option_output("run", o.output) : stderr;
	if (!out) {
		joules_close(ctx);
		return CLI_EXIT_FAILURE;
	}
	rc = run_with(ctx, &o, argv + optind, argc - optind, out);
	joules_close(ctx);
	if (out != stderr && fclose(out) != 0 && rc == 0) {
		char path[1024];
		fprintf(stderr, "joules run: cannot write the report to %s: %s\n",
			text_show(o.output, path, sizeof path), strerror(errno));
		rc = CLI_EXIT_FAILURE;
	}
	return rc;
}
