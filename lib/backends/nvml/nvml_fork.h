/* SPDX-License-Identifier: MIT */
/*
 * No thread of this process inside NVML at the instant of fork().
 *
 * NVML keeps its own mutexes and does not reset them in a fork() child: a
 * child forked while another thread was inside an NVML call (a sampler's
 * nvmlDeviceGetSamples) inherits that mutex locked by a thread it does not
 * have, and its own nvmlInit hangs on it (seen on an H200, driver 580: one
 * child of 200, tools/fork_check.c). joules cannot reach NVML's locks, so it
 * keeps its own calls away from the fork: every NVML call of this process
 * made by the library runs under one process-wide lock, and a
 * pthread_atfork prepare handler takes that lock (waiting for the call in
 * flight to return, and keeping new ones from starting) before fork()
 * proceeds.
 *
 * The wait is bounded: a call that does not return (a hung GPU) must not
 * hang fork(). After JL_NVML_FORK_WAIT_MS (or $JOULES_NVML_FORK_WAIT_MS)
 * fork() proceeds, and the child, and its own children, are marked: a
 * context opened there does not call NVML at all and its note says why.
 *
 * The lock, its atfork handlers and the mark are the library's only
 * process-wide state (docs/design.md, "fork"): fork() is process-wide by
 * nature, and a lock per context cannot see the calls of another context
 * or thread. Contexts themselves are still refused in a child by their
 * wipe-on-fork page (lib/fork_guard.h), not through these handlers.
 */
#ifndef JOULES_NVML_FORK_H
#define JOULES_NVML_FORK_H

#include <stdbool.h>
#include <stddef.h>

/* How long fork() waits for an NVML call in flight by default, ms. */
#define JL_NVML_FORK_WAIT_MS 2000u

/*
 * Register the atfork handlers (once per process) and tell whether NVML
 * may be used here. False in a process forked, directly or through its
 * ancestors, while an NVML call of this library was in flight past the
 * bound: then `why` holds the message that says so and what to do.
 */
bool jl_nvml_fork_usable(char *why, size_t len);

/* Around every NVML call (or run of calls): the process-wide lock. */
void jl_nvml_enter(void);
void jl_nvml_leave(void);

#endif
