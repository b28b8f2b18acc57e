/* SPDX-License-Identifier: MIT */
#include "gap.h"

#include <errno.h>

bool jl_gap_fail(struct jl_gap *g, bool transient, bool once_only)
{
	if (!transient || (once_only && g->failed) || g->failed + 1 >= JL_GAP_MAX_SAMPLES) {
		g->failed++;
		return false;
	}
	if (!g->failed)
		g->seq++;
	g->failed++;
	return true;
}

void jl_gap_close(struct jl_gap *g, uint64_t gap_ns, uint64_t p0_uw, uint64_t p1_uw)
{
	if (!g->failed)
		return;
	g->failed = 0;
	g->seq++; /* the next reading spans the gap: flag it too */
	uint64_t top = p0_uw > p1_uw ? p0_uw : p1_uw;
	unsigned __int128 uj = (unsigned __int128)top * gap_ns / 2000000000u;
	g->unc_uj += uj > UINT64_MAX - g->unc_uj ? UINT64_MAX - g->unc_uj : (uint64_t)uj;
}

bool jl_gap_flag(struct jl_gap *g)
{
	bool flag = g->failed || g->seq != g->seen_seq;
	g->seen_seq = g->seq;
	return flag;
}

bool jl_gap_transient_errno(int errnum)
{
	/*
	 * EBUSY/EPERM: amdgpu refuses sensor reads while the GPU is runtime-
	 * suspended or in reset (amdgpu_pm.c); ENODATA, EAGAIN, ETIMEDOUT:
	 * a driver with no fresh value yet; EIO: once.
	 */
	switch (errnum) {
	case EBUSY:
	case EPERM:
	case EAGAIN:
	case ENODATA:
	case ETIMEDOUT:
	case EIO:
		return true;
	}
	return false;
}
