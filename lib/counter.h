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

/* Time allowed on top of the measured interval when judging a wrap or a jump. */
#define JL_COUNTER_SLACK_NS 10000000ull /* 10 ms */
/*
 * Drops of up to this many resolution steps are jitter, not resets. A
 * counter never runs backwards, but two readings of it can each be one step
 * off the truth where a driver re-quantises (energy computed from a
 * differently rounded base, a firmware average): two readings are then
 * within two steps of each other whatever the order. Anything larger is
 * not rounding.
 */
#define JL_COUNTER_JITTER_STEPS 2u
/*
 * A counter read raw that does not change over a region of more than this
 * many refresh intervals is not counting (lib/region.c). A live domain moves its counter at
 * nearly every refresh, but at a very low power one refresh adds less than
 * one resolution step (a core at 0.1 W adds 6 µJ per 1 ms RAPL refresh
 * against a 61 µJ step), so one interval is not enough evidence; a hundred
 * is (100 ms for RAPL).
 */
#define JL_COUNTER_STUCK_REFRESHES 100u
/*
 * Callers poll at half the wrap period at most (one poll late still sees the
 * wrap); a poll cannot be relied on more often than every 10 ms (a
 * scheduler tick can delay it that much), so a counter that can wrap in
 * less than twice that cannot be followed and is refused.
 */
#define JL_COUNTER_MIN_WRAP_NS 20000000ull /* 20 ms */

struct jl_counter {
	/* Set by jl_counter_init(). */
	uint64_t modulus;      /* raw values run 0..modulus-1; 0: a 64-bit counter */
	uint64_t uj_num;       /* µJ per raw unit = uj_num / uj_den, exactly */
	uint64_t uj_den;
	uint64_t max_power_uw; /* bound that tells a wrap from a reset; 0: none */
	/* Set by the backend or the core after jl_counter_init(). */
	uint64_t jitter_raw;   /* a drop of at most this many raw units is jitter */
	bool range_unknown;    /* it wraps, but its range could not be read */
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
	JL_COUNTER_ADVANCE, /* went up (or stayed, or dropped by jitter: no change) */
	JL_COUNTER_WRAP,    /* went down, explained by one wrap */
	JL_COUNTER_RESET,   /* went down, not explained by a wrap (or range unknown) */
	JL_COUNTER_JUMP,    /* went up by more than the power bound allows */
	JL_COUNTER_BAD,     /* raw value outside the counter's range: ignored */
};

/*
 * Take a new raw reading taken at now_ns. On a reset the counter restarted
 * from 0, so the raw value is the energy since the reset: it is added and
 * `resets` is incremented, which marks every difference across it. A jump
 * is a reset too (resets incremented), of which nothing is added: the
 * interval holding it is unknown, the next ones count again. A drop of at
 * most jitter_raw changes nothing (the higher value is kept, so the next
 * rise is not counted twice).
 */
enum jl_counter_event jl_counter_update(struct jl_counter *c, uint64_t raw, uint64_t now_ns);

/* The extended counter in µJ. */
uint64_t jl_counter_energy_uj(const struct jl_counter *c);

/* Shortest wrap period in ns (modulus over the power bound); 0 if none. */
uint64_t jl_counter_wrap_period_ns(const struct jl_counter *c);

/* Raw units that `uj` µJ make, rounded up. */
uint64_t jl_counter_raw_of_uj(const struct jl_counter *c, uint64_t uj);

#endif
