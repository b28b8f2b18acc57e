/* SPDX-License-Identifier: MIT */
/* joules top: a live view of every sensor's power and energy, or one frame as text. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "top_model.h"
#include "top_text.h"
#ifdef JOULES_HAVE_CURSES
#include <curses.h>
#include <langinfo.h>

#include "top_draw.h"
#endif

static const char usage[] =
	"Usage: joules top [-i SECONDS] [--sort KEY] [--once]\n"
	"\n"
	"Watch every energy sensor live: one row per sensor with its kind, device,\n"
	"current power (W, over the last interval), a sparkline of recent power, the\n"
	"energy since start (J) and its status, grouped by total (cpu, dram, gpu,\n"
	"platform) with each total's power and energy, which never count a domain\n"
	"twice (a core is inside its package). GPU rows are a tick late: they show\n"
	"settled readings, never extrapolated ones. A sensor that fails says so and\n"
	"keeps the energy it measured; when it reads again it says 'recovered' (the\n"
	"energy of the gap is not counted).\n"
	"\n"
	"Options:\n"
	"  -i, --interval SECONDS  refresh every SECONDS, 0.1 to 60 (default 1);\n"
	"                          shortened if a counter could wrap twice in it\n"
	"  -s, --sort KEY          order within a group: kind (default), power,\n"
	"                          energy or name\n"
	"      --once              print one frame as plain text after one interval\n"
	"                          and exit (needs no terminal)\n"
	"  -h, --help              this text\n"
	"\n"
	"Keys: q quit, p pause, r reset energy since start, s next sort order,\n"
	"+/- longer/shorter interval, arrows/PgUp/PgDn/Home/End scroll, ? help.\n"
	"\n"
	"Environment: NO_COLOR (not empty) turns colours off. The sparkline uses\n"
	"block characters in a UTF-8 locale, ASCII otherwise.\n"
	"\n"
	"Exit status: 0; 1 when joules cannot open the sensors or the terminal;\n"
	"2 on a usage error.\n";

#define NS 1000000000ull
#define MIN_INTERVAL_NS (NS / 10)
#define MAX_INTERVAL_NS (60 * NS)
/* joules_settle() makes a reading final within 1 s whatever happens. */
#define SETTLE_WAIT_NS (NS + NS / 10)

struct top_opts {
	uint64_t interval_ns;
	enum top_sort sort;
	bool once;
};

enum { OPT_ONCE = 256 };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* -i: seconds, fractional, from 0.1 to 60; -1 and a message if not. */
static int parse_interval(const char *text, uint64_t *ns)
{
	char *end;
	errno = 0;
	double s = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(s) || s * 1e9 < (double)MIN_INTERVAL_NS ||
	    s * 1e9 > (double)MAX_INTERVAL_NS) {
		cli_usage_error("top", "-i '%s': expected a number of seconds from 0.1 to 60",
				text);
		return -1;
	}
	*ns = (uint64_t)llround(s * 1e9);
	return 0;
}

/* 0 to go on, -1 after --help, else the exit status. */
static int parse(int argc, char **argv, struct top_opts *o)
{
	static const struct option opts[] = {
		{"interval", required_argument, NULL, 'i'},
		{"sort", required_argument, NULL, 's'},
		{"once", no_argument, NULL, OPT_ONCE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct top_opts){.interval_ns = NS};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_interval(optarg, &o->interval_ns) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 's': {
			int k = 0;
			while (k < TOP_N_SORTS && strcmp(optarg, top_sort_names[k]) != 0)
				k++;
			if (k == TOP_N_SORTS) {
				cli_usage_error("top", "--sort '%s': expected kind, power, energy or name",
						optarg);
				return CLI_EXIT_USAGE;
			}
			o->sort = (enum top_sort)k;
			break;
		}
		case OPT_ONCE:
			o->once = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			if (optopt && strchr("is", optopt))
				cli_usage_error("top", "option '%s' needs a value", argv[optind - 1]);
			else
				cli_usage_error("top", "unknown option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error("top", "unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The measuring half: a context, its model, a snapshot buffer. */
struct top {
	joules_ctx *ctx;
	struct top_model m;
	struct joules_reading *snap;
	uint64_t interval_ns, max_interval_ns, start_ns, last_ns;
};

/* Settle the pending readings, waiting at most wait_ns for them. */
static void settle(struct top *t, uint64_t wait_ns)
{
	uint64_t until = now_ns() + wait_ns;
	struct timespec pause = {.tv_nsec = 5000000};
	while (joules_settle(t->ctx, t->m.pending, t->m.n) > 0 && now_ns() < until)
		nanosleep(&pause, NULL);
	top_model_take_settled(&t->m);
}

/* One reading of every sensor, into the model (pending ones a tick late). */
static void tick(struct top *t, bool feed)
{
	joules_read(t->ctx, t->snap, t->m.n);
	if (!feed)
		return; /* paused: reading still keeps every wrap seen */
	settle(t, 0);
	top_model_add(&t->m, t->snap);
	t->last_ns = now_ns();
}

static void set_interval(struct top *t, uint64_t ns)
{
	t->interval_ns = t->max_interval_ns && ns > t->max_interval_ns ? t->max_interval_ns : ns;
}

static int once(struct top *t, enum top_sort sort)
{
	tick(t, true);
	/* The interval runs from the first reading, however long it took. */
	t->start_ns = t->last_ns;
	uint64_t end = t->start_ns + t->interval_ns;
	for (uint64_t now = now_ns(); now < end; now = now_ns()) {
		struct timespec left = {.tv_sec = (time_t)((end - now) / NS),
					.tv_nsec = (long)((end - now) % NS)};
		nanosleep(&left, NULL);
	}
	joules_read(t->ctx, t->snap, t->m.n);
	t->last_ns = now_ns();
	/* The first readings final before the second are added, then those. */
	settle(t, SETTLE_WAIT_NS);
	top_model_add(&t->m, t->snap);
	settle(t, SETTLE_WAIT_NS);
	errno = 0;
	if (top_text_frame(stdout, &t->m, sort, (double)t->interval_ns / 1e9,
			   (double)(t->last_ns - t->start_ns) / 1e9) < 0) {
		fprintf(stderr, "joules top: cannot write to stdout: %s\n",
			errno ? strerror(errno) : "write error");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

#ifdef JOULES_HAVE_CURSES
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* The next interval up (+1) or down (-1) from ns. */
static uint64_t step_interval(uint64_t ns, int dir)
{
	static const uint64_t steps[] = {NS / 10, NS / 5, NS / 2, NS,     2 * NS,
					 5 * NS,  10 * NS, 30 * NS, 60 * NS};
	size_t n = sizeof steps / sizeof steps[0];
	if (dir > 0) {
		for (size_t k = 0; k < n; k++)
			if (steps[k] > ns)
				return steps[k];
		return steps[n - 1];
	}
	for (size_t k = n; k-- > 0;)
		if (steps[k] < ns)
			return steps[k];
	return steps[0];
}

/* A key pressed; false to quit. */
static bool key(struct top *t, struct top_view *v, int ch)
{
	if (ch == 'q' || ch == 'Q')
		return false;
	if (v->help && ch != KEY_RESIZE) {
		v->help = false;
		return true;
	}
	switch (ch) {
	case 'p':
	case ' ':
		v->paused = !v->paused;
		break;
	case 'r':
		/* From a reading taken now, so that the reset is exact. */
		tick(t, true);
		top_model_reset(&t->m);
		t->start_ns = t->last_ns;
		break;
	case 's':
		v->sort = (enum top_sort)((v->sort + 1) % TOP_N_SORTS);
		break;
	case '+':
	case '=':
		set_interval(t, step_interval(t->interval_ns, 1));
		break;
	case '-':
		set_interval(t, step_interval(t->interval_ns, -1));
		break;
	case '?':
	case 'h':
		v->help = true;
		break;
	/* Scrolling past either end is put back in range when drawn. */
	case KEY_DOWN:
	case 'j':
		v->scroll++;
		break;
	case KEY_UP:
	case 'k':
		v->scroll--;
		break;
	case KEY_NPAGE:
		v->scroll += LINES > 6 ? LINES - 4 : 1;
		break;
	case KEY_PPAGE:
		v->scroll -= LINES > 6 ? LINES - 4 : 1;
		break;
	case KEY_HOME:
		v->scroll = 0;
		break;
	case KEY_END:
		v->scroll = INT_MAX / 2;
		break;
	}
	return true;
}

static void live_loop(struct top *t, struct top_view *v)
{
	uint64_t next = t->start_ns + t->interval_ns;
	for (;;) {
		v->interval_s = (double)t->interval_ns / 1e9;
		v->elapsed_s = (double)(t->last_ns - t->start_ns) / 1e9;
		top_draw(v);
		uint64_t now;
		/* Wake at least every 250 ms to notice a signal. */
		while ((now = now_ns()) < next && !stop) {
			uint64_t wait_ms = (next - now + 999999) / 1000000;
			timeout(wait_ms > 250 ? 250 : (int)wait_ms);
			int ch = getch();
			if (ch == ERR)
				continue;
			uint64_t before = t->interval_ns;
			if (!key(t, v, ch))
				return;
			if (t->interval_ns != before)
				next = now_ns() + t->interval_ns;
			v->interval_s = (double)t->interval_ns / 1e9;
			v->elapsed_s = (double)(t->last_ns - t->start_ns) / 1e9;
			top_draw(v);
		}
		if (stop)
			return;
		tick(t, !v->paused);
		next += t->interval_ns;
		if (next <= now_ns())
			next = now_ns() + t->interval_ns;
	}
}

/* NO_COLOR set to anything but "" turns colours off (no-color.org). */
static bool want_color(void)
{
	const char *nc = getenv("NO_COLOR");
	return !(nc && *nc) && has_colors();
}

static int live(struct top *t, enum top_sort sort)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("joules top: the live view needs a terminal on stdin and stdout; for one "
		      "frame as plain text use 'joules top --once'\n",
		      stderr);
		return CLI_EXIT_FAILURE;
	}
	/* Ours before ncurses', so that it leaves them: quit cleanly on these. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	const char *term = getenv("TERM");
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr,
			"joules top: cannot use the terminal (TERM=%s): set TERM to its type "
			"(e.g. xterm-256color), or use 'joules top --once'\n",
			term ? term : "unset");
		return CLI_EXIT_FAILURE;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	size_t *rows = calloc(t->m.n ? t->m.n : 1, sizeof *rows);
	struct top_view v = {
		.m = &t->m,
		.rows = rows,
		.sort = sort,
		.color = want_color(),
		.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0,
	};
	if (rows) {
		top_draw_setup(&v);
		live_loop(t, &v);
	}
	endwin();
	delscreen(scr);
	free(rows);
	if (!rows) {
		fputs("joules top: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

#else
/* Built without ncurses: --once still works. */
static int live(struct top *t, enum top_sort sort)
{
	(void)t;
	(void)sort;
	fputs("joules top: this joules was built without ncurses, so only 'joules top --once' "
	      "works; install libncurses-dev, then rebuild (meson setup -Dtop=enabled)\n",
	      stderr);
	return CLI_EXIT_FAILURE;
}
#endif

int cli_top(int argc, char **argv)
{
	struct top_opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	setlocale(LC_ALL, "");
	struct top t = {0};
	rc = joules_open(&t.ctx, NULL);
	if (rc < 0) {
		fprintf(stderr, "joules top: cannot open the sensors: %s\n", joules_strerror(rc));
		return CLI_EXIT_FAILURE;
	}
	t.max_interval_ns = joules_max_interval_ns(t.ctx);
	set_interval(&t, o.interval_ns);
	size_t n = joules_sensor_count(t.ctx);
	t.snap = calloc(n ? n : 1, sizeof *t.snap);
	if (!t.snap || top_model_init(&t.m, t.ctx) < 0) {
		fputs("joules top: out of memory\n", stderr);
		free(t.snap);
		joules_close(t.ctx);
		return CLI_EXIT_FAILURE;
	}
	if (o.once) {
		t.start_ns = now_ns();
		rc = once(&t, o.sort);
	} else {
		t.start_ns = t.last_ns = now_ns();
		tick(&t, true);
		rc = live(&t, o.sort);
	}
	top_model_free(&t.m);
	free(t.snap);
	joules_close(t.ctx);
	return rc;
}
