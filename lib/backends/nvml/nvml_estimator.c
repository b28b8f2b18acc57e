/* SPDX-License-Identifier: MIT */
/* The GPU energy estimate: see nvml_estimator.h and docs/nvml.md. */
#include "nvml_estimator.h"

#include <math.h>
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
/*
 * The gain's error (jl_est_scale_ppm, docs/nvml.md "Uncertainty"): before
 * any calibration, the samples' own error against the counter; after, the
 * pull, a share of the ratio's interval and a floor for what varies
 * between calibrations (the samples' bias moving with the load).
 */
#define SCALE_UNCALIBRATED_PPM 20000u
#define SCALE_RATIO_SHARE 0.5
#define SCALE_FLOOR_PPM 1000u
/*
 * The pull returns the estimate to the counter over this many of the
 * fit's spans (~12 s each): the level matters only in the long run, and
 * every region measured meanwhile carries the pull as error.
 */
#define PULL_SPANS 4.0
/*
 * What the 20 ms samples and the counter disagree by over a span, beyond
 * the gain (docs/nvml.md "Uncertainty", measured on the H100 2026-12-07:
 * 0.1 s 1.3 J rms, 1 s 2.5 J, 8 s 4.9 J at up to 700 W): a part of the
 * span's peak power × NOISE_EDGE_S and a random walk of the mean power ×
 * NOISE_WALK_S per √s; the bound is twice their root sum of squares. An
 * edge's spread (jl_history_spread) counts 1 / EDGE_SHARE_DIV: with edges
 * taken as steps it is an outer limit, not the error seen.
 */
#define NOISE_EDGE_S 0.002
#define NOISE_WALK_S 0.0032
#define EDGE_SHARE_DIV 2u
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
	e->leveled = false;
	e->n_steps = e->next_step = e->n_pending = 0;
	if (e->hist) {
		jl_history_clear(e->hist);
		record(e);
	}
}

/*
 * The counter against the power integral over the kept steps, by weighted
 * least squares (each step weighted by 1 / its placement energy², so
 * steps at a load edge, placed worst, count least): c = at + slope × (ig -
 * ig of the oldest step). One step's difference to the estimate is noise
 * of ± its placement energy (~P × 50 ms, tens of J at load); the fit over
 * up to 128 steps averages it out. Returns false with fewer than 3 steps
 * or no spread of the integral.
 */
struct fit {
	double slope, slope_se, at_last; /* the fit's counter at the newest step */
};

/* The k-th oldest kept step, and its weight in the fit. */
static const struct jl_est_step *kept(const struct jl_gpu_est *e, unsigned k)
{
	unsigned first = e->n_steps < JL_EST_STEPS ? 0 : e->next_step;
	return &e->steps[(first + k) % JL_EST_STEPS];
}

static double weight(const struct jl_est_step *st)
{
	double ph = (double)st->phase_uj + 1e6; /* + 1 J: never 0 */
	return 1.0 / (ph * ph);
}

static bool fit_steps(const struct jl_gpu_est *e, struct fit *f)
{
	if (e->n_steps < 3)
		return false;
	const struct jl_est_step *o = kept(e, 0);
	double sw = 0, sx = 0, sy = 0;
	for (unsigned k = 0; k < e->n_steps; k++) {
		const struct jl_est_step *st = kept(e, k);
		sw += weight(st);
		sx += weight(st) * (double)(st->ig_uj - o->ig_uj);
		sy += weight(st) * (double)(int64_t)(st->c_uj - o->c_uj);
	}
	double mx = sx / sw, my = sy / sw, sxx = 0, sxy = 0;
	for (unsigned k = 0; k < e->n_steps; k++) {
		const struct jl_est_step *st = kept(e, k);
		double dx = (double)(st->ig_uj - o->ig_uj) - mx;
		sxx += weight(st) * dx * dx;
		sxy += weight(st) * dx * ((double)(int64_t)(st->c_uj - o->c_uj) - my);
	}
	if (sxx <= 0)
		return false;
	f->slope = sxy / sxx;
	double ssr = 0;
	for (unsigned k = 0; k < e->n_steps; k++) {
		const struct jl_est_step *st = kept(e, k);
		double x = (double)(st->ig_uj - o->ig_uj), y = (double)(int64_t)(st->c_uj - o->c_uj);
		double r = y - (my + f->slope * (x - mx));
		ssr += weight(st) * r * r;
	}
	f->slope_se = sqrt(ssr / (e->n_steps - 2) / sxx);
	f->at_last = my + f->slope * ((double)(kept(e, e->n_steps - 1)->ig_uj - o->ig_uj) - mx);
	return true;
}

/*
 * The counter was c_uj where the power integral was ig_mid and the
 * estimate est_mid, placed to ± phase_uj: keep the step, rebase the
 * estimate at the newest integral with the old gain (it never jumps), and
 * once the steps span CALIBRATE_MIN_NS set the gain to the fitted ratio
 * (counter per unit of power integral) plus a pull of the change of (the
 * fit's counter - the estimate, at the newest step) since the first fit,
 * over PULL_SPANS times the integral the steps span, at most PULL_MAX: the
 * estimate follows the counter in the long run, and the pull carries the
 * fit's smoothed difference, not one step's noise.
 */
static void calibrate(struct jl_gpu_est *e, uint64_t c_uj, uint64_t ig_mid, uint64_t est_mid,
		      uint64_t phase_uj, uint64_t t_ns)
{
	e->diff_uj = (int64_t)(c_uj - est_mid);
	e->step_est_uj = est_mid;
	e->est_uj = estimate_at(e, e->ig.uj);
	e->est_ig_uj = e->ig.uj;
	e->phase_unc_uj = phase_uj;
	e->steps[e->next_step] = (struct jl_est_step){c_uj, ig_mid, t_ns, phase_uj};
	e->next_step = (e->next_step + 1) % JL_EST_STEPS;
	if (e->n_steps < JL_EST_STEPS)
		e->n_steps++;
	const struct jl_est_step *oldest = kept(e, 0);
	struct fit f;
	if (t_ns - oldest->t_ns < CALIBRATE_MIN_NS || ig_mid <= oldest->ig_uj || !fit_steps(e, &f))
		return;
	if (f.slope <= 0.5 || f.slope >= 2.0) /* the power readings are not this counter's */
		return;
	double span = (double)(ig_mid - oldest->ig_uj);
	/* The fit's counter at this step, less the estimate there. */
	double d = (double)(int64_t)(oldest->c_uj - c_uj) + f.at_last + (double)(int64_t)e->diff_uj;
	/*
	 * The difference when first fitted is where the estimate started (the
	 * counter's phase then): levels matter to no difference of readings, so
	 * the pull keeps the estimate there, not at the counter itself.
	 */
	if (!e->leveled)
		e->level_uj = d;
	e->leveled = true;
	double pull = (d - e->level_uj) / (span * PULL_SPANS);
	pull = pull > PULL_MAX ? PULL_MAX : pull < -PULL_MAX ? -PULL_MAX : pull;
	e->ratio = f.slope;
	e->ratio_u = f.slope_se;
	e->gain = f.slope + pull;
	e->calibrated = true;
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
		/* The value is up to one counter period old: half of one on average. */
		restart(e, c_uj + energy_of(e->ig.last_uw, JL_EST_COUNTER_PERIOD_NS / 2u), ig_now);
		e->phase_unc_uj = energy_of(e->ig.last_uw, JL_EST_COUNTER_PERIOD_NS / 2u);
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

void jl_est_resume(struct jl_gpu_est *e, uint64_t mj, uint64_t now_ns, uint64_t uw)
{
	uint64_t half = JL_EST_COUNTER_PERIOD_NS / 2u, c_uj = mj * 1000u;
	uint64_t at = now_ns > half ? now_ns - half : 0;
	if (e->ig.primed && at < e->ig.last_ns)
		at = e->ig.last_ns;
	e->ig.primed = true;
	e->ig.last_ns = at;
	e->ig.last_uw = uw;
	uint64_t held = 0; /* how far "never back" held the estimate above the counter's */
	if (!e->polled || mj < e->counter_mj) {
		restart(e, c_uj, e->ig.uj);
	} else {
		uint64_t est = e->diff_uj <= 0 ? c_uj + (uint64_t)-e->diff_uj
			     : c_uj > (uint64_t)e->diff_uj ? c_uj - (uint64_t)e->diff_uj : 0;
		held = est < e->reported_uj ? e->reported_uj - est : 0;
		e->est_uj = e->step_est_uj = est + held;
		e->est_ig_uj = e->ig.uj;
		e->n_steps = e->next_step = e->n_pending = 0;
		record(e);
	}
	e->phase_unc_uj = energy_of(uw, half) + 1000u + held;
	e->polled = true;
	e->counter_mj = mj;
	e->poll_ns = now_ns;
	e->poll_ig_uj = e->ig.uj;
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
	uint64_t est, u = 0;
	if (!e->has_counter) {
		est = ig_now; /* its error is a scale: jl_est_scale_ppm() */
	} else if (e->power == JL_EST_POWER_NONE) {
		est = e->est_uj;
		u = e->phase_unc_uj;
	} else {
		est = estimate_at(e, ig_now);
		/* History: settled later, its error a scale (jl_est_scale_ppm) and the edges. */
		if (e->power != JL_EST_POWER_HISTORY)
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
	*unc = jl_history_spread(e->hist, t_ns) / EDGE_SHARE_DIV;
	return found;
}

uint64_t jl_est_span_bound(const struct jl_gpu_est *e, uint64_t t0_ns, uint64_t t1_ns,
			   uint64_t energy_uj)
{
	double scale = (double)energy_uj * jl_est_scale_ppm(e) / 1e6;
	if (e->power != JL_EST_POWER_HISTORY || !e->has_counter || t1_ns <= t0_ns)
		return (uint64_t)(scale + 0.5);
	double secs = (double)(t1_ns - t0_ns) / 1e9, mean_w = (double)energy_uj / 1e6 / secs;
	uint64_t peak_uw = e->hist ? jl_history_peak_uw(e->hist, t0_ns, t1_ns) : 0;
	double peak_w = peak_uw ? (double)peak_uw / 1e6 : mean_w;
	double c = peak_w * NOISE_EDGE_S, r = mean_w * NOISE_WALK_S;
	return (uint64_t)(scale + 2e6 * sqrt(c * c + r * r * secs) + 0.5);
}

uint32_t jl_est_scale_ppm(const struct jl_gpu_est *e)
{
	if (!e->has_counter)
		return e->power == JL_EST_POWER_NONE ? 0 : 1000000u / INTEGRATION_ERROR_DIV;
	if (e->power != JL_EST_POWER_HISTORY)
		return 0; /* bound() holds it */
	if (!e->calibrated)
		return SCALE_UNCALIBRATED_PPM;
	double pull = e->gain > e->ratio ? e->gain - e->ratio : e->ratio - e->gain;
	double ppm = (pull + e->ratio_u * SCALE_RATIO_SHARE) * 1e6 + SCALE_FLOOR_PPM;
	return ppm > 1e6 ? 1000000u : (uint32_t)ppm;
}
