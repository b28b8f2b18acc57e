/* SPDX-License-Identifier: MIT */
/* The GPU energy estimate: see nvml_estimator.h and docs/nvml.md. */
#include "nvml_estimator.h"

#include <string.h>

/* Relative error allowed to integrated power between counter steps. */
#define INTEGRATION_ERROR_DIV 20u /* 5% */
/* Calibrate only over at least this long. */
#define CALIBRATE_MIN_NS 2000000000ull
/*
 * The pull toward the counter changes the power scale by at most this: a
 * step is known only to ± half the poll gap (~50-60 ms), so one step's
 * difference is noise of ±P × 55 ms, which over a span of idle history
 * scaled the power of the first second of a load by up to +17% (measured,
 * docs/validation.md, run 4). 1% still covers the samples' own bias (~0.3%).
 */
#define PULL_MAX 0.01
/* Extrapolate the last power sample over at most this long. */
#define EXTRAPOLATE_MAX_NS 1000000000ull

void jl_est_init(struct jl_gpu_est *e, enum jl_est_power power, bool has_counter,
		 uint64_t limit_uw, struct jl_history *hist)
{
	memset(e, 0, sizeof *e);
	e->power = power;
	e->has_counter = has_counter;
	e->limit_uw = limit_uw;
	e->gain = e->ratio = 1.0;
	e->hist = hist;
	if (hist) {
		jl_history_clear(hist);
		hist->steps = power == JL_EST_POWER_HISTORY;
	}
}

static uint64_t energy_of(uint64_t uw, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)uw * ns / 1000000000u);
}

/* The estimate at integrator value ig_uj (not before the last rebase). */
static uint64_t estimate_at(const struct jl_gpu_est *e, uint64_t ig_uj)
{
	double since = ig_uj > e->est_ig_uj ? (double)(ig_uj - e->est_ig_uj) : 0.0;
	return e->est_uj + (uint64_t)(e->gain * since);
}

/* The history's newest point: now, as far as the samples go. */
static void record(struct jl_gpu_est *e)
{
	if (e->hist && e->ig.primed)
		jl_history_add(e->hist, (struct jl_history_point){e->ig.last_ns, e->ig.uj,
								   estimate_at(e, e->ig.uj)});
}

/* Restart the estimate from counter value c_uj, where the integral is ig_uj. */
static void restart(struct jl_gpu_est *e, uint64_t c_uj, uint64_t ig_uj)
{
	e->est_uj = e->reported_uj = e->step_est_uj = c_uj;
	e->est_ig_uj = ig_uj;
	e->diff_uj = 0;
	e->n_steps = e->next_step = e->n_pending = 0;
	if (e->hist) {
		jl_history_clear(e->hist);
		record(e);
	}
}

/*
 * The counter was c_uj where the power integral was ig_mid and the estimate
 * est_mid, each to ±phase_uj (the step's time is known to ± half the poll
 * gap): rebase the estimate at the newest integral with the old gain (it
 * never jumps) and keep the difference. Over the kept steps the counter's
 * energy / the power integral is the ratio to within the two ends' phase
 * energies / the span: the ratio moves only as far as needed to lie within
 * that (so a span of idle history cannot rescale a load by one step's
 * timing). The gain is the ratio plus a pull of difference / span, at most
 * PULL_MAX, that brings the estimate back to the counter over the next such
 * span: the estimate follows the counter in the long run.
 */
static void calibrate(struct jl_gpu_est *e, uint64_t c_uj, uint64_t ig_mid, uint64_t est_mid,
		      uint64_t phase_uj, uint64_t t_ns)
{
	e->diff_uj = (int64_t)(c_uj - est_mid);
	e->step_est_uj = est_mid;
	e->est_uj = estimate_at(e, e->ig.uj);
	e->est_ig_uj = e->ig.uj;
	e->phase_unc_uj = phase_uj;
	struct jl_est_step *oldest = &e->steps[e->n_steps < JL_EST_STEPS ? 0 : e->next_step];
	if (e->n_steps && t_ns - oldest->t_ns >= CALIBRATE_MIN_NS && ig_mid > oldest->ig_uj) {
		double span = (double)(ig_mid - oldest->ig_uj);
		double r = (double)(c_uj - oldest->c_uj) / span;
		double u = (double)(phase_uj + oldest->phase_uj) / span;
		if (r > 0.5 && r < 2.0) { /* else the power readings are not this counter's */
			if (e->ratio < r - u)
				e->ratio = r - u;
			else if (e->ratio > r + u)
				e->ratio = r + u;
			double pull = (double)e->diff_uj / span;
			pull = pull > PULL_MAX ? PULL_MAX : pull < -PULL_MAX ? -PULL_MAX : pull;
			e->gain = e->ratio + pull;
		}
	}
	e->steps[e->next_step] = (struct jl_est_step){c_uj, ig_mid, t_ns, phase_uj};
	e->next_step = (e->next_step + 1) % JL_EST_STEPS;
	if (e->n_steps < JL_EST_STEPS)
		e->n_steps++;
}

/* Calibrate with the pending counter steps that the samples now cover. */
static void settle_steps(struct jl_gpu_est *e)
{
	unsigned done = 0;
	for (; done < e->n_pending; done++) {
		struct jl_est_pending *p = &e->pending[done];
		struct jl_history_point mid, lo, hi;
		if (jl_history_at(e->hist, p->t_ns + p->half_ns, &hi) == JL_HISTORY_LATER)
			break;
		if (jl_history_at(e->hist, p->t_ns, &mid) != JL_HISTORY_FOUND ||
		    jl_history_at(e->hist, p->t_ns - p->half_ns, &lo) != JL_HISTORY_FOUND)
			continue; /* older than the history: nothing to place it with */
		calibrate(e, p->c_uj, mid.ig_uj, mid.est_uj, (hi.est_uj - lo.est_uj) / 2u, p->t_ns);
	}
	memmove(e->pending, e->pending + done, (e->n_pending - done) * sizeof e->pending[0]);
	e->n_pending -= done;
}

/*
 * The counter moved to c_uj since the previous poll. It moves once per
 * JL_EST_COUNTER_PERIOD_NS, so its value is that of a moment after the
 * previous poll and within one period before this one: the midpoint of
 * that span, ± half of it, however rarely it is polled. With sample
 * history, wait for the samples that cover it; else place it on the
 * integral as it is now.
 */
static void counter_step(struct jl_gpu_est *e, uint64_t c_uj, uint64_t now_ns)
{
	uint64_t since = now_ns - e->poll_ns;
	uint64_t half = (since < JL_EST_COUNTER_PERIOD_NS ? since : JL_EST_COUNTER_PERIOD_NS) / 2u;
	if (e->hist) {
		if (e->n_pending == JL_EST_PENDING) { /* samples stalled: drop the oldest */
			memmove(e->pending, e->pending + 1,
				(JL_EST_PENDING - 1) * sizeof e->pending[0]);
			e->n_pending--;
		}
		e->pending[e->n_pending++] = (struct jl_est_pending){c_uj, now_ns - half, half};
		settle_steps(e);
		return;
	}
	/* Without history: the power integral since the previous poll, as linear in time. */
	uint64_t span = e->ig.uj - e->poll_ig_uj;
	uint64_t part = since ? (uint64_t)((unsigned __int128)span * (2u * half) / since) : span;
	uint64_t ig_mid = e->ig.uj - part / 2u;
	calibrate(e, c_uj, ig_mid, estimate_at(e, ig_mid), part / 2u, now_ns - half);
}

void jl_est_counter(struct jl_gpu_est *e, uint64_t mj, uint64_t now_ns)
{
	uint64_t ig_now = e->ig.uj, c_uj = mj * 1000u;
	if (!e->polled) {
		restart(e, c_uj, ig_now);
		e->phase_unc_uj = e->ig.last_uw / 10u; /* the value can be a step (100 ms) old */
	} else if (mj < e->counter_mj) {
		/* The caller reports the drop, so the core counts the reset. */
		restart(e, c_uj, ig_now);
		e->phase_unc_uj = (ig_now - e->poll_ig_uj) / 2u;
	} else if (mj != e->counter_mj) {
		if (e->power == JL_EST_POWER_NONE) { /* nothing to place it with: one step */
			e->phase_unc_uj = c_uj - e->est_uj;
			e->est_uj = e->step_est_uj = c_uj;
		} else {
			counter_step(e, c_uj, now_ns);
		}
	}
	e->polled = true;
	e->counter_mj = mj;
	e->poll_ns = now_ns;
	e->poll_ig_uj = ig_now;
}

void jl_est_window(struct jl_gpu_est *e, uint64_t uw, uint64_t end_ns)
{
	if (e->ig.primed && end_ns > e->ig.last_ns)
		jl_integrator_add(&e->ig, uw, e->ig.last_ns); /* flat over the window */
	jl_integrator_add(&e->ig, uw, end_ns);
	record(e);
}

void jl_est_windows_done(struct jl_gpu_est *e)
{
	if (e->n_pending)
		settle_steps(e);
}

void jl_est_power(struct jl_gpu_est *e, uint64_t uw, uint64_t t_ns)
{
	jl_integrator_add(&e->ig, uw, t_ns);
}

/* Error bound of estimate est (a counter GPU with power): see docs/nvml.md. */
static uint64_t bound(const struct jl_gpu_est *e, uint64_t est)
{
	uint64_t diff = e->diff_uj < 0 ? (uint64_t)-e->diff_uj : (uint64_t)e->diff_uj;
	uint64_t since = est > e->step_est_uj ? est - e->step_est_uj : e->step_est_uj - est;
	return diff + e->phase_unc_uj + since / INTEGRATION_ERROR_DIV;
}

uint64_t jl_est_read(struct jl_gpu_est *e, uint64_t now_ns, uint64_t *unc)
{
	/* Power since the last sample, at the last sample's rate. */
	uint64_t ig_now = e->ig.uj, stale_uj = 0, unseen_uj = 0;
	if (e->power != JL_EST_POWER_NONE && e->ig.primed && now_ns > e->ig.last_ns) {
		uint64_t age = now_ns - e->ig.last_ns;
		uint64_t span = age < EXTRAPOLATE_MAX_NS ? age : EXTRAPOLATE_MAX_NS;
		ig_now += energy_of(e->ig.last_uw, span);
		stale_uj = energy_of(e->ig.last_uw, age - span);
		/*
		 * History: samples up to now are still to come, and the power in
		 * between can be anything up to the limit: say so.
		 */
		if (e->power == JL_EST_POWER_HISTORY) {
			uint64_t top = e->limit_uw > e->ig.last_uw ? e->limit_uw : e->ig.last_uw;
			unseen_uj = energy_of(top, span);
		}
	}
	uint64_t est, u;
	if (!e->has_counter) {
		est = ig_now;
		u = ig_now / INTEGRATION_ERROR_DIV;
	} else if (e->power == JL_EST_POWER_NONE) {
		est = e->est_uj;
		u = e->phase_unc_uj;
	} else {
		est = estimate_at(e, ig_now);
		u = bound(e, est);
	}
	/* Never go back (rounding of a rebase, extrapolation): readings are monotonic. */
	if (est < e->reported_uj) {
		u += e->reported_uj - est;
		est = e->reported_uj;
	}
	e->reported_uj = est;
	*unc = u + stale_uj + unseen_uj;
	return est;
}

enum jl_history_lookup jl_est_at(const struct jl_gpu_est *e, uint64_t t_ns, uint64_t *est,
				 uint64_t *unc)
{
	struct jl_history_point p;
	enum jl_history_lookup found = e->hist ? jl_history_at(e->hist, t_ns, &p)
					       : JL_HISTORY_EARLIER;
	if (found != JL_HISTORY_FOUND)
		return found;
	*est = p.est_uj;
	*unc = (e->has_counter ? bound(e, p.est_uj) : p.est_uj / INTEGRATION_ERROR_DIV) +
	       jl_history_spread(e->hist, t_ns);
	return found;
}
