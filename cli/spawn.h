/* SPDX-License-Identifier: MIT */
/*
 * Run a command (or just wait) while ticking at a fixed interval, as a
 * shell would run it: the command inherits stdin/stdout/stderr, SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to joules are passed on to it, and its
 * fate is turned into a shell-style exit status.
 */
#ifndef JOULES_CLI_SPAWN_H
#define JOULES_CLI_SPAWN_H

#include <stdint.h>

/* Called every tick; a non-zero return stops the ticks, not the command. */
typedef int (*spawn_tick_fn)(void *arg);

/*
 * Run argv (argv[0] looked up in PATH), ticking every interval_ns until it
 * ends. Returns its exit status, 128 + signal if a signal ended it, or,
 * when it could not be started, 127 (not found) or 126 (not executable)
 * after saying so on stderr, with *started = 0. *wall_ns gets the time
 * from fork to reaping.
 */
int spawn_run(char *const argv[], uint64_t interval_ns, spawn_tick_fn tick, void *arg,
	      int *started, uint64_t *wall_ns);

/*
 * Tick every interval_ns for duration_ns (0: until SIGINT, SIGTERM, SIGHUP
 * or SIGQUIT). Returns 0, or 128 + the signal that ended it early.
 */
int spawn_wait(uint64_t duration_ns, uint64_t interval_ns, spawn_tick_fn tick, void *arg);

/* CLOCK_MONOTONIC, ns. */
uint64_t spawn_now_ns(void);

#endif
