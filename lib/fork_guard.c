/* SPDX-License-Identifier: MIT */
#include "fork_guard.h"

#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

void jl_fork_guard_init(struct jl_fork_guard *g)
{
	g->pid = getpid();
	g->page = NULL;
	long size = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, (size_t)size, MADV_WIPEONFORK) < 0) { /* before Linux 4.14: EINVAL */
		munmap(p, (size_t)size);
		return;
	}
	g->page = p;
	*g->page = 1;
}

bool jl_fork_guard_forked(const struct jl_fork_guard *g)
{
	if (g->page)
		return *g->page == 0;
	return getpid() != g->pid;
}

void jl_fork_guard_free(struct jl_fork_guard *g)
{
	if (g->page)
		munmap((void *)g->page, (size_t)sysconf(_SC_PAGESIZE));
	g->page = NULL;
}

int jl_fork_check(joules_ctx *ctx, const char *func)
{
	if (!jl_fork_guard_forked(&ctx->fork_guard))
		return 0;
	return jl_fail(ctx, JOULES_ERR_FORKED,
		       "%s: this context was opened by process %d and this process (%d) is a "
		       "fork() child of it: the context's sampler thread, locks and NVML session "
		       "stay with the parent; open a new context in the child with joules_open(), "
		       "and joules_close() this one (that only frees the child's copy)",
		       func, (int)ctx->fork_guard.pid, (int)getpid());
}
