/* SPDX-License-Identifier: MIT */
/*
 * Run a command (or just wait) while ticking at a fixed interval, as a
 * shell would run it: the command inherits stdin/stdout/stderr, SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to joules are passed on to it, and its
 * fate is turned into a shell-style exit status.
 *
 * The command never outlives joules: it is killed (SIGKILL, through
 * PR_SET_PDEATHSIG) if joules dies first; a command that ignores the
 * signal that should stop it is killed by a second such signal, or
 * kill_after_ns after the first; once joules stopped it, what it left
 * running (handed to joules, a child subreaper) is killed too. joules itself
 * ignores SIGPIPE, so a closed output is a write error (EPIPE) it handles;
 * the command gets the default.
 */
#ifndef JOULES_CLI_SPAWN_H
#define JOULES_CLI_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

/* What a tick returns. */
enum spawn_tick {
	SPAWN_GO_ON = 0,
	SPAWN_STOP_TICKS,  /* no more ticks; the command runs on */
	SPAWN_END_COMMAND, /* no more ticks, and end the command (SIGTERM, then SIGKILL) */
};
typedef enum spawn_tick (*spawn_tick_fn)(void *arg);

/* The default of --kill-after: long enough to save state, short enough to wait for. */
#define SPAWN_KILL_AFTER_NS 5000000000ull

struct spawn_cfg {
	uint64_t interval_ns;   /* between ticks */
	uint64_t kill_after_ns; /* SIGKILL this long after a signal meant to stop the command */
	bool stdout_to_stderr;  /* the command's stdout is joules's stderr (record -o -) */
	spawn_tick_fn tick;     /* or NULL */
	void *arg;
};

/* Ignore SIGPIPE in joules: a closed output is then EPIPE, not death. */
void spawn_ignore_sigpipe(void);

/*
 * Run argv (argv[0] looked up in PATH), ticking until it ends. Returns its
 * exit status, 128 + signal if a signal ended it, or, when it could not be
 * started, 127 (not found) or 126 (not executable) after saying so on
 * stderr, with *started = 0. *wall_ns gets the time from fork to reaping.
 */
int spawn_run(char *const argv[], const struct spawn_cfg *cfg, int *started, uint64_t *wall_ns);

/*
 * Tick for duration_ns (0: until SIGINT, SIGTERM, SIGHUP or SIGQUIT).
 * Returns 0, or 128 + the signal that ended it early.
 */
int spawn_wait(uint64_t duration_ns, const struct spawn_cfg *cfg);

/* CLOCK_MONOTONIC, ns. */
uint64_t spawn_now_ns(void);

#endif
