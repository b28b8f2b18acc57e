/* SPDX-License-Identifier: MIT */
/*
 * Is this process the one that opened a context, or a fork() child of it?
 *
 * A context's sampler thread, the locks it and its backends hold, and
 * NVML's session belong to the process that opened it: a fork() child
 * gets a copy of their memory but no thread, and any lock held by another
 * thread at the fork stays held forever. So the public functions that read
 * sensors, lock or call a library refuse in a child (JOULES_ERR_FORKED:
 * open a new context there), and joules_close() in a child only frees the
 * child's copy: it joins no thread and touches no lock (docs/design.md).
 *
 * Why a check on entry and not pthread_atfork() for contexts: atfork
 * handlers are process-wide, so they would need a registry of every open
 * context (the library keeps no globals), and a prepare handler that takes
 * the sampler's locks makes the parent's fork() wait for an NVML call in
 * flight. Re-arming the copy in the child (new sampler, nvmlInit, every
 * backend rebuilt) is what joules_open() already does, through its tested
 * path. The one atfork handler of the library is not about contexts: it
 * keeps this process's NVML calls away from the instant of fork(), so that
 * a new context in the child can use NVML at all
 * (lib/backends/nvml/nvml_fork.h).
 *
 * How, without a syscall on the read path and without global state: a
 * private page marked MADV_WIPEONFORK (Linux >= 4.14) holds a nonzero word;
 * the kernel hands every fork() child that page zero-filled. Where the
 * kernel lacks it, the opener's pid is compared with getpid() instead.
 */
#ifndef JOULES_FORK_GUARD_H
#define JOULES_FORK_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

struct jl_fork_guard {
	volatile unsigned *page; /* MADV_WIPEONFORK page: 1 here, 0 in a child; or NULL */
	pid_t pid;               /* the process that opened the context */
};

/* Arm the guard in the calling process. Never fails (falls back to the pid). */
void jl_fork_guard_init(struct jl_fork_guard *g);
/* True in a fork() child of the process that armed the guard. */
bool jl_fork_guard_forked(const struct jl_fork_guard *g);
/* Unmap the page (in either process). */
void jl_fork_guard_free(struct jl_fork_guard *g);

#endif
