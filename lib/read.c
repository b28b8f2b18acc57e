/* SPDX-License-Identifier: MIT */
/* The snapshot read path. It allocates nothing and opens nothing. */
#include "backend.h"
#include "region.h"
#include "sampler.h"

/* Seconds from a to b, for messages. */
static double seconds(uint64_t a_ns, uint64_t b_ns)
{
	return b_ns > a_ns ? (double)(b_ns - a_ns) / 1e9 : 0;
}

/* Say why the counter was taken to reset (joules_sensor_error gives it). */
static void explain_reset(struct jl_sensor *s, enum jl_counter_event ev, uint64_t was_raw,
			  uint64_t was_ns, uint64_t raw, uint64_t now_ns)
{
	const struct jl_counter *c = &s->counter;
	double dt = seconds(was_ns, now_ns);
	if (ev == JL_COUNTER_JUMP)
		jl_sensor_fail(s, JOULES_ERR_RESET,
			       "%s: the counter jumped from %llu to %llu in %.3f s, more than its "
			       "%.0f W bound allows: taken as a reset, so the energy of that interval "
			       "is unknown (a driver or firmware glitch)",
			       s->pub.id, (unsigned long long)was_raw, (unsigned long long)raw, dt,
			       (double)c->max_power_uw / 1e6);
	else if (c->range_unknown)
		jl_sensor_fail(s, JOULES_ERR_RESET,
			       "%s: the counter went down from %llu to %llu: a wrap or a reset: range "
			       "unknown, so the energy of that interval is unknown (%s)",
			       s->pub.id, (unsigned long long)was_raw, (unsigned long long)raw,
			       s->pub.reason);
	else if (c->modulus)
		jl_sensor_fail(s, JOULES_ERR_RESET,
			       "%s: the counter went down from %llu to %llu in %.3f s, further than "
			       "a wrap at its %.0f W bound explains: it was reset (a driver reload?), "
			       "so the energy of that interval is unknown",
			       s->pub.id, (unsigned long long)was_raw, (unsigned long long)raw, dt,
			       (double)c->max_power_uw / 1e6);
	else
		jl_sensor_fail(s, JOULES_ERR_RESET,
			       "%s: the counter went down from %llu to %llu, and it never wraps: it "
			       "was reset (a driver reload?), so the energy of that interval is "
			       "unknown",
			       s->pub.id, (unsigned long long)was_raw, (unsigned long long)raw);
}

static void read_one(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *out)
{
	struct jl_counter *c = &s->counter;
	struct jl_sample sample = {0};
	*out = (struct joules_reading){0};
	if (!(s->pub.flags & JOULES_SENSOR_READABLE)) {
		out->status = s->unreadable; /* s->error already holds the reason */
	} else {
		out->status = s->backend->read(ctx, s, &sample);
	}
	out->time_ns = sample.time_ns ? sample.time_ns : jl_now_ns();
	if (out->status == 0) {
		uint64_t was_raw = c->last_raw, was_ns = c->last_ns;
		enum jl_counter_event ev = jl_counter_update(c, sample.raw, out->time_ns);
		switch (ev) {
		case JL_COUNTER_WRAP:
			out->flags |= JOULES_READING_WRAPPED;
			break;
		case JL_COUNTER_RESET:
		case JL_COUNTER_JUMP:
			explain_reset(s, ev, was_raw, was_ns, sample.raw, out->time_ns);
			break;
		case JL_COUNTER_BAD:
			out->status = jl_sensor_fail(
				s, JOULES_ERR_PARSE,
				"%s: raw value %llu is outside the counter's range 0..%llu; "
				"the driver's range is wrong, so wraps cannot be handled",
				s->pub.id, (unsigned long long)sample.raw,
				(unsigned long long)(c->modulus - 1));
			break;
		default:
			break;
		}
		out->uncertainty_uj = sample.uncertainty_uj;
		out->flags |= sample.flags;
	}
	/* A failure after good readings keeps the energy up to the last good one. */
	if (out->status && c->primed)
		out->flags |= JOULES_READING_PARTIAL;
	out->energy_uj = jl_counter_energy_uj(c);
	out->resets = c->resets;
}

JOULES_API int joules_read(joules_ctx *ctx, struct joules_reading *out, size_t n)
{
	if (!ctx || (!out && n))
		return JOULES_ERR_INVALID;
	int r = jl_fork_check(ctx, "joules_read");
	if (r < 0)
		return r;
	if (n > ctx->n_sensors)
		n = ctx->n_sensors;
	jl_regions_lock(ctx);
	jl_read_snapshot(ctx, out, n);
	jl_regions_unlock(ctx);
	return (int)n;
}

void jl_read_snapshot(joules_ctx *ctx, struct joules_reading *out, size_t n)
{
	jl_sampler_touch(ctx); /* sensors sampled on demand: wake them, keep them awake */
	for (size_t i = 0; i < n; i++)
		read_one(ctx, &ctx->sensors[i], &out[i]);
}

void jl_read_following(joules_ctx *ctx, struct joules_reading *out, bool *read, size_t n)
{
	bool awake = jl_sampler_follow_begin(ctx);
	for (size_t i = 0; i < n; i++) {
		read[i] = awake || !jl_sampler_on_demand(&ctx->sensors[i]);
		if (read[i])
			read_one(ctx, &ctx->sensors[i], &out[i]);
	}
	if (awake)
		jl_sampler_follow_end(ctx);
}

JOULES_API int joules_delta(const struct joules_reading *earlier,
			    const struct joules_reading *later, uint64_t *energy_uj)
{
	if (!earlier || !later || !energy_uj)
		return JOULES_ERR_INVALID;
	if (earlier->status)
		return earlier->status;
	if (later->status)
		return later->status;
	if (later->time_ns < earlier->time_ns || later->energy_uj < earlier->energy_uj)
		return JOULES_ERR_INVALID;
	if (later->resets != earlier->resets)
		return JOULES_ERR_RESET;
	*energy_uj = later->energy_uj - earlier->energy_uj;
	return 0;
}
