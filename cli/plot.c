/* SPDX-License-Identifier: MIT */
/* joules plot: a recorded trace drawn to PNG or SVG with cairo. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "cli.h"
#include "plot_draw.h"
#include "text.h"
#include "trace.h"

static const char usage[] =
	"Usage: joules plot TRACE -o OUTPUT.png|OUTPUT.svg [OPTIONS]\n"
	"\n"
	"Draw a trace written by 'joules record': power over time of every sensor.\n"
	"The sensors that add to the cpu, dram and gpu totals are stacked as filled\n"
	"bands, so the top of the stack (a black line) is their total power; the\n"
	"others are lines over them: dashed for a sensor inside another (a core in\n"
	"its package), solid for one with a total of its own (psys). The legend\n"
	"gives each sensor's energy over the trace.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE        the figure; its extension picks the format:\n"
	"                           .png (raster) or .svg (vector)\n"
	"  -m, --mark START:END[:LABEL]\n"
	"                           shade the region from START to END seconds, with\n"
	"                           an optional label; may be given many times\n"
	"  -t, --title TEXT         the title (default: the trace's file name)\n"
	"  -s, --size WxH           the figure's size in pixels (default 1000x600)\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit status: 0 when the figure was written, 1 when the trace could not be\n"
	"read or the figure written (the error says which line or file, and why),\n"
	"2 on a usage error.\n";

#define MAX_MARKS 64

struct plot_opts {
	const char *trace, *output, *title;
	double width, height;
	struct mark marks[MAX_MARKS];
	size_t n_marks;
	bool svg;
};

static int parse_mark(char *text, struct mark *m)
{
	char *end, *p = text;
	m->start = strtod(p, &end);
	if (end == p || *end != ':')
		return -1;
	p = end + 1;
	m->end = strtod(p, &end);
	if (end == p || (*end && *end != ':') || !(m->end > m->start))
		return -1;
	m->label = *end == ':' && end[1] ? end + 1 : NULL;
	return 0;
}

static int parse_size(const char *text, double *w, double *h)
{
	char *end;
	long x = strtol(text, &end, 10);
	if (*end != 'x')
		return -1;
	long y = strtol(end + 1, &end, 10);
	if (*end || x < 400 || y < 300 || x > 10000 || y > 10000)
		return -1;
	*w = (double)x;
	*h = (double)y;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* 0 to go on, -1 after --help, else a usage error's status. */
static int parse(int argc, char **argv, struct plot_opts *o)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"mark", required_argument, NULL, 'm'},
		{"title", required_argument, NULL, 't'},
		{"size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct plot_opts){.width = 1000, .height = 600};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:m:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'm':
			if (o->n_marks == MAX_MARKS || parse_mark(optarg, &o->marks[o->n_marks]) < 0) {
				cli_usage_error("plot", "--mark '%s': expected START:END[:LABEL] in "
					       "seconds with END > START (at most %d marks)",
						optarg, MAX_MARKS);
				return CLI_EXIT_USAGE;
			}
			o->n_marks++;
			break;
		case 't':
			o->title = optarg;
			break;
		case 's':
			if (parse_size(optarg, &o->width, &o->height) < 0) {
				cli_usage_error("plot", "--size '%s': expected WxH, from 400x300 "
					       "to 10000x10000", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			if (optopt && strchr("omts", optopt))
				cli_usage_error("plot", "option '%s' needs a value", argv[optind - 1]);
			else
				cli_usage_error("plot", "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_usage_error("plot", optind >= argc ? "no trace to plot"
						       : "one trace at a time, got '%s' too",
				argv[argc - 1]);
		return CLI_EXIT_USAGE;
	}
	o->trace = argv[optind];
	if (!o->output || !(ends_with(o->output, ".png") || ends_with(o->output, ".svg"))) {
		cli_usage_error("plot", "give -o FILE.png or -o FILE.svg");
		return CLI_EXIT_USAGE;
	}
	o->svg = ends_with(o->output, ".svg");
	if (!o->title) {
		const char *slash = strrchr(o->trace, '/');
		o->title = slash ? slash + 1 : o->trace;
	}
	return 0;
}

/* The trace, or -1 after a message naming it, the line and why. */
static int read_trace(const struct plot_opts *o, struct trace *tr)
{
	char path[1024], why[512];
	text_show(o->trace, path, sizeof path);
	FILE *f = fopen(o->trace, "r");
	if (!f) {
		fprintf(stderr, "joules plot: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct trace_error err;
	/* Two bins per pixel column: the grid's span is at most twice the data's. */
	int rc = trace_read(f, 2 * plot_columns(o->width), tr, &err);
	fclose(f);
	if (rc == 0)
		return 0;
	text_show(err.why, why, sizeof why);
	if (err.line)
		fprintf(stderr, "joules plot: %s:%lu: %s\n", path, err.line, why);
	else
		fprintf(stderr, "joules plot: %s: %s\n", path, why);
	return -1;
}

/* Draw on a surface of the chosen kind and write it out; 0 or -1 with a message. */
static int render(const struct plot *p, const struct plot_opts *o)
{
	cairo_surface_t *surface =
		o->svg ? cairo_svg_surface_create(o->output, o->width, o->height)
		       : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)o->width,
						    (int)o->height);
	cairo_t *cr = cairo_create(surface);
	plot_draw(cr, p);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	if (st == CAIRO_STATUS_SUCCESS && !o->svg)
		st = cairo_surface_write_to_png(surface, o->output);
	cairo_surface_finish(surface); /* an SVG is written out here */
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		return 0;
	/* cairo says "error while writing to output stream"; errno says why. */
	int e = errno;
	char out[1024];
	fprintf(stderr, "joules plot: cannot write %s: %s%s%s\n",
		text_show(o->output, out, sizeof out), cairo_status_to_string(st), e ? ": " : "",
		e ? strerror(e) : "");
	return -1;
}

int cli_plot(int argc, char **argv)
{
	struct plot_opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	struct trace tr;
	if (read_trace(&o, &tr) < 0)
		return CLI_EXIT_FAILURE;
	struct plot p = {.trace = &tr, .marks = o.marks, .n_marks = o.n_marks, .title = o.title,
			 .width = o.width, .height = o.height};
	errno = 0;
	rc = render(&p, &o) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	trace_free(&tr);
	/*
	 * Hand back cairo's and fontconfig's font caches: fontconfig 2.14 keeps
	 * blocks valgrind calls lost until FcFini, and the suite runs under it.
	 */
	cairo_debug_reset_static_data();
	FcFini();
	return rc;
}
