/* SPDX-License-Identifier: MIT */
#include "counter.h"

void jl_counter_init(struct jl_counter *c, uint64_t modulus, uint64_t uj_num,
		     uint64_t uj_den, uint64_t max_power_uw)
{
	*c = (struct jl_counter){
		.modulus = modulus,
		.uj_num = uj_num,
		.uj_den = uj_den ? uj_den : 1,
		.max_power_uw = max_power_uw,
	};
}

/* Raw units the domain can add in `ns` at its power bound, plus slack. */
static unsigned __int128 max_raw_in(const struct jl_counter *c, uint64_t ns)
{
	unsigned __int128 uj = (unsigned __int128)c->max_power_uw * (ns + JL_COUNTER_SLACK_NS) /
			       1000000000u;
	return uj * c->uj_den / (c->uj_num ? c->uj_num : 1);
}

enum jl_counter_event jl_counter_update(struct jl_counter *c, uint64_t raw, uint64_t now_ns)
{
	if (c->modulus && raw >= c->modulus)
		return JL_COUNTER_BAD;
	if (!c->primed) {
		c->primed = true;
		c->last_raw = raw;
		c->last_ns = now_ns;
		c->total_raw = raw;
		return JL_COUNTER_FIRST;
	}
	enum jl_counter_event ev = JL_COUNTER_ADVANCE;
	uint64_t dt = now_ns > c->last_ns ? now_ns - c->last_ns : 0;
	uint64_t delta;
	if (raw >= c->last_raw) {
		delta = raw - c->last_raw;
		if (c->max_power_uw && delta > max_raw_in(c, dt)) {
			delta = 0;
			ev = JL_COUNTER_JUMP;
		}
	} else if (c->last_raw - raw <= c->jitter_raw) {
		/* Jitter: keep the higher value, so the next rise is not counted twice. */
		c->last_ns = now_ns;
		return JL_COUNTER_ADVANCE;
	} else if (c->modulus) {
		delta = c->modulus - c->last_raw + raw;
		if (c->max_power_uw && delta > max_raw_in(c, dt)) {
			delta = raw;
			ev = JL_COUNTER_RESET;
		} else {
			ev = JL_COUNTER_WRAP;
		}
	} else {
		delta = raw;
		ev = JL_COUNTER_RESET;
	}
	if (ev == JL_COUNTER_RESET || ev == JL_COUNTER_JUMP)
		c->resets++;
	c->total_raw += delta;
	c->last_raw = raw;
	c->last_ns = now_ns;
	return ev;
}

uint64_t jl_counter_energy_uj(const struct jl_counter *c)
{
	if (c->uj_num == c->uj_den)
		return c->total_raw;
	return (uint64_t)((unsigned __int128)c->total_raw * c->uj_num / c->uj_den);
}

uint64_t jl_counter_wrap_period_ns(const struct jl_counter *c)
{
	if (!c->modulus || !c->max_power_uw)
		return 0;
	unsigned __int128 uj = (unsigned __int128)c->modulus * c->uj_num / c->uj_den;
	return (uint64_t)(uj * 1000000000u / c->max_power_uw);
}

uint64_t jl_counter_raw_of_uj(const struct jl_counter *c, uint64_t uj)
{
	uint64_t num = c->uj_num ? c->uj_num : 1;
	unsigned __int128 raw = ((unsigned __int128)uj * c->uj_den + num - 1) / num;
	return raw > UINT64_MAX ? UINT64_MAX : (uint64_t)raw;
}
