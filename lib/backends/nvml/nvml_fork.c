/* SPDX-License-Identifier: MIT */
/*
 * The process-wide NVML call lock and its fork() handlers (nvml_fork.h).
 *
 * This file is the exception to "no globals in the library", and the only
 * one: fork() is process-wide, so what must be true at the instant of a
 * fork (no thread of ours inside NVML) can only be kept by process-wide
 * state. It holds nothing of any context.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nvml_fork.h"

/* Held by every thread of this process while it is inside NVML through joules. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registered = PTHREAD_ONCE_INIT;
/* This thread's fork(): whether prepare got the lock, and how long it would wait. */
static _Thread_local int fork_locked;
static _Thread_local unsigned long fork_wait_ms;
/* Set in a child forked while a call was still in flight after waited_ms. */
static int forked_in_call;
static unsigned long waited_ms;

void jl_nvml_enter(void)
{
	pthread_mutex_lock(&call_lock);
}

void jl_nvml_leave(void)
{
	pthread_mutex_unlock(&call_lock);
}

/* $JOULES_NVML_FORK_WAIT_MS when it is a number of ms, else the default. */
static unsigned long wait_bound_ms(void)
{
	const char *s = getenv("JOULES_NVML_FORK_WAIT_MS");
	char *end;
	if (!s || *s < '0' || *s > '9')
		return JL_NVML_FORK_WAIT_MS;
	unsigned long ms = strtoul(s, &end, 10);
	return *end || ms > 3600000ul ? JL_NVML_FORK_WAIT_MS : ms;
}

/*
 * Before fork(): wait for the NVML call in flight (if any) to return, and
 * hold the lock so that no other starts, at most the bound; past it, fork
 * goes on (a hung GPU must not hang fork) and the child is marked.
 */
static void prepare(void)
{
	fork_wait_ms = wait_bound_ms();
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(fork_wait_ms / 1000);
	until.tv_nsec += (long)(fork_wait_ms % 1000) * 1000000l;
	if (until.tv_nsec >= 1000000000l) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000l;
	}
	int r;
	while ((r = pthread_mutex_clocklock(&call_lock, CLOCK_MONOTONIC, &until)) == EINTR)
		;
	fork_locked = r == 0;
}

static void parent(void)
{
	if (fork_locked)
		pthread_mutex_unlock(&call_lock);
	fork_locked = 0;
}

/*
 * The child's only thread is the one that forked. It holds its copy of the
 * lock when prepare got it, and may unlock it (POSIX). Otherwise the copy
 * is held by a thread the child does not have, as is likely NVML's own
 * lock: the child's lock starts afresh (so its own forks do not wait for a
 * ghost) and NVML is marked unusable in it and its descendants.
 */
static void child(void)
{
	if (fork_locked) {
		pthread_mutex_unlock(&call_lock);
	} else {
		static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
		call_lock = fresh;
		forked_in_call = 1;
		waited_ms = fork_wait_ms;
	}
	fork_locked = 0;
}

/* If registering fails (ENOMEM), forks are not guarded: NVML still works here. */
static void register_handlers(void)
{
	pthread_atfork(prepare, parent, child);
}

bool jl_nvml_fork_usable(char *why, size_t len)
{
	pthread_once(&registered, register_handlers);
	if (!forked_in_call)
		return true;
	snprintf(why, len,
		 "NVML is not used in this process: it was forked (it or an ancestor) while "
		 "another thread was inside an NVML call that had not returned after %lu ms "
		 "(a hung GPU?), so NVML's own locks may be held here by a thread that does not "
		 "exist and any NVML call could hang; fork when no NVML call is in flight (from "
		 "a process with no joules context on GPUs, or before opening one), or measure "
		 "the GPUs from the parent ($JOULES_NVML_FORK_WAIT_MS sets the wait)",
		 waited_ms);
	return false;
}
