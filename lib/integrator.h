/* SPDX-License-Identifier: MIT */
/*
 * Energy from power samples, for sensors that have no energy counter:
 * trapezoids between consecutive samples, summed in integers (µJ plus a
 * remainder in µW·ns), so nothing drifts however long it runs.
 */
#ifndef JOULES_INTEGRATOR_H
#define JOULES_INTEGRATOR_H

#include <stdbool.h>
#include <stdint.h>

struct jl_integrator {
	bool primed;
	uint64_t last_ns;
	uint64_t last_uw;
	uint64_t uj;  /* energy so far, µJ */
	uint64_t rem; /* and the part of a µJ below that, µW·ns (< 1e9) */
};

/* Add a power sample (µW) taken at now_ns; the first one only starts. */
void jl_integrator_add(struct jl_integrator *ig, uint64_t power_uw, uint64_t now_ns);

#endif
