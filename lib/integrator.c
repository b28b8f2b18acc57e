/* SPDX-License-Identifier: MIT */
#include "integrator.h"

#define UWNS_PER_UJ 1000000000u /* 1 µJ = 1 µW for 1e9 ns */

void jl_integrator_add(struct jl_integrator *ig, uint64_t power_uw, uint64_t now_ns)
{
	if (ig->primed && now_ns > ig->last_ns) {
		/* (p0 + p1) / 2 * dt, in µW·ns, carried exactly. */
		unsigned __int128 twice = ((unsigned __int128)ig->last_uw + power_uw) *
					  (now_ns - ig->last_ns);
		unsigned __int128 uwns = twice / 2 + ig->rem;
		ig->uj += (uint64_t)(uwns / UWNS_PER_UJ);
		ig->rem = (uint64_t)(uwns % UWNS_PER_UJ);
	}
	if (!ig->primed || now_ns >= ig->last_ns) {
		ig->primed = true;
		ig->last_ns = now_ns;
		ig->last_uw = power_uw;
	}
}
