/* SPDX-License-Identifier: MIT */
/*
 * Extends a hardware energy counter to an exact 64-bit cumulative value:
 * wraps are added back, resets are counted and never turn into a huge or
 * negative energy. Pure arithmetic, no I/O, so it is tested on its own.
 */
#ifndef JOULES_COUNTER_H
#define JOULES_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

/* Time allowed on top of the measured interval when judging a wrap. */
#define JL_COUNTER_SLACK_NS 10000000ull /* 10 ms */

struct jl_counter {
	/* Set by jl_counter_init(). */
	uint64_t modulus;      /* raw values run 0..modulus-1; 0: a 64-bit counter */
	uint64_t uj_num;       /* µJ per raw unit = uj_num / uj_den, exactly */
	uint64_t uj_den;
	uint64_t max_power_uw; /* bound that tells a wrap from a reset; 0: none */
	/* Kept by jl_counter_update(). */
	bool primed;
	uint64_t last_raw;
	uint64_t last_ns;
	uint64_t total_raw; /* extended counter, raw units */
	uint32_t resets;
};

/*
 * modulus: the raw counter wraps to 0 when it reaches this; 0 for a counter
 * that never wraps. uj_num/uj_den: µJ per raw unit. max_power_uw: the most
 * the domain can draw, 0 when unknown.
 */
void jl_counter_init(struct jl_counter *c, uint64_t modulus, uint64_t uj_num,
		     uint64_t uj_den, uint64_t max_power_uw);

enum jl_counter_event {
	JL_COUNTER_FIRST,   /* first reading: the start of the extended counter */
	JL_COUNTER_ADVANCE, /* went up (or stayed) */
	JL_COUNTER_WRAP,    /* went down, explained by one wrap */
	JL_COUNTER_RESET,   /* went down, not explained by a wrap */
	JL_COUNTER_BAD,     /* raw value outside the counter's range: ignored */
};

/*
 * Take a new raw reading taken at now_ns. On a reset the counter restarted
 * from 0, so the raw value is the energy since the reset: it is added and
 * `resets` is incremented, which marks every difference across it.
 */
enum jl_counter_event jl_counter_update(struct jl_counter *c, uint64_t raw, uint64_t now_ns);

/* The extended counter in µJ. */
uint64_t jl_counter_energy_uj(const struct jl_counter *c);

/* Shortest wrap period in ns (modulus over the power bound); 0 if none. */
uint64_t jl_counter_wrap_period_ns(const struct jl_counter *c);

#endif
