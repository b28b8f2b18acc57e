/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA GPUs through NVML: one energy sensor per GPU, id'd by UUID.
 *
 * The energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ) is exact over
 * long spans but costs ~3-4 ms a call and moves only every ~100 ms. Power
 * comes from the driver's own history (nvmlDeviceGetSamples, total power):
 * one sample per ~20 ms, each the mean over its window, stamped by the
 * driver. Measured on the H100 (docs/validation.md, 2026-11-25) it follows
 * the counter with no lag (0 ± 5 ms) and within 0.3%, while the "instant"
 * field 186 is refreshed only every ~100 ms and stamped at query time, so
 * integrating it missed 10-85% of bursts of 0.05-0.2 s.
 *
 * So the caller's thread never calls NVML: the context's sampler thread
 * fetches new samples every 20 ms and the counter every 100 ms; read()
 * returns, under a mutex, the estimate at the last sample extrapolated to
 * now, marked JOULES_READING_PROVISIONAL; joules_settle() later replaces it
 * with the estimate at the reading's own time once samples cover it. The
 * estimate is the power integral scaled by a gain that the counter keeps
 * calibrated; the counter never makes it jump (a step placed 50 ms wrong
 * would put ±P x 50 ms into any region around it). Without the history the
 * instant field (every 5 ms) or the 1 s average is integrated, unsettled.
 * docs/nvml.md gives the method, its limits and figures.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../backend.h"
#include "../integrator.h"
#include "../nvml_api.h"
#include "../history.h"

#define HISTORY_SAMPLE_US 20000u  /* nvmlDeviceGetSamples: one new sample per ~20 ms */
#define POWER_SAMPLE_US 5000u     /* instant power: ~3 µs a call */
#define AVERAGE_SAMPLE_US 20000u  /* nvmlDeviceGetPowerUsage: a 1 s average anyway */
#define COUNTER_ONLY_SAMPLE_US 100000u
#define COUNTER_POLL_NS 100000000ull /* the counter moves every ~100 ms */
/* Relative error allowed to integrated power between counter steps. */
#define INTEGRATION_ERROR_DIV 20u /* 5% */
/* Counter steps kept to calibrate the gain: ~12 s at one step per 100 ms. */
#define STEPS 128
/* Counter steps waiting for the power samples that cover them. */
#define PENDING 16
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
/* A reading whose samples have not come after this long is final as it is. */
#define SETTLE_GIVE_UP_NS 1000000000ull
/* The driver's history holds ~2.4 s; more than this is asked for at once. */
#define MAX_SAMPLES 256

const struct jl_backend jl_backend_nvml;

enum power_source { POWER_NONE, POWER_HISTORY, POWER_INSTANT, POWER_AVERAGE };

struct step {
	uint64_t c_uj, ig_uj, t_ns, phase_uj; /* phase_uj: the energy of half its poll gap */
};

struct gpu_data {
	pthread_mutex_t lock;
	const struct jl_nvml *nv; /* the function table, read-only after enumeration */
	nvmlDevice_t handle;
	unsigned index;
	enum power_source power;
	bool has_counter;
	uint64_t limit_uw;        /* enforced power limit, 0 when unknown */
	unsigned long long seen_us; /* newest driver sample taken (its timestamp) */

	/* Below: written by the sampler thread, read by read(), under lock. */
	struct jl_integrator ig;  /* power integrated since the context opened */
	struct jl_history *hist;  /* POWER_HISTORY: the estimate at each sample */
	uint64_t counter_mj;      /* last counter value seen */
	uint64_t next_poll_ns;
	uint64_t poll_ns, poll_ig_uj; /* time and ig.uj of the last counter poll */
	/*
	 * The estimate: est_uj where ig.uj was est_ig_uj, then gain × the power
	 * integrated since. diff_uj: the counter minus the estimate at the last
	 * step, step_est_uj the estimate there; phase_unc_uj: the energy of
	 * half the poll gap around that step.
	 */
	uint64_t est_uj, est_ig_uj, phase_unc_uj, step_est_uj;
	int64_t diff_uj;
	double gain, ratio; /* gain: ratio (counter / power integral) + the pull */
	struct step steps[STEPS];
	unsigned n_steps, next_step;
	/* Counter steps not yet calibrated with: value, time, ± half the poll gap. */
	struct pending { uint64_t c_uj, t_ns, half_ns; } pending[PENDING];
	unsigned n_pending;
	uint64_t reported_uj;     /* last value returned: readings never go back */
	bool polled;
	bool lost;
	int power_err, counter_err; /* enum joules_error of the last failed call, or 0 */
	char msg[JL_MSG_LEN];
};

static uint64_t value_u64(nvmlValueType_t type, nvmlValue_t v)
{
	switch (type) {
	case NVML_VALUE_TYPE_DOUBLE: return v.dVal > 0 ? (uint64_t)v.dVal : 0;
	case NVML_VALUE_TYPE_UNSIGNED_LONG: return v.ulVal;
	case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: return v.ullVal;
	case NVML_VALUE_TYPE_SIGNED_LONG_LONG: return v.sllVal > 0 ? (uint64_t)v.sllVal : 0;
	case NVML_VALUE_TYPE_SIGNED_INT: return v.siVal > 0 ? (uint64_t)v.siVal : 0;
	default: return v.uiVal;
	}
}

/* Instant or averaged board power, µW. */
static nvmlReturn_t read_power(const struct gpu_data *d, uint64_t *uw)
{
	const struct jl_nvml_fns *fn = &d->nv->fn;
	if (d->power == POWER_AVERAGE) {
		unsigned mw;
		nvmlReturn_t rc = fn->DeviceGetPowerUsage(d->handle, &mw);
		*uw = (uint64_t)mw * 1000u;
		return rc;
	}
	nvmlFieldValue_t fv = {.fieldId = NVML_FI_DEV_POWER_INSTANT};
	nvmlReturn_t rc = fn->DeviceGetFieldValues(d->handle, 1, &fv);
	if (rc == NVML_SUCCESS)
		rc = fv.nvmlReturn;
	if (rc == NVML_SUCCESS)
		*uw = value_u64(fv.valueType, fv.value) * 1000u;
	return rc;
}

/* Note a failed call (under lock); a lost GPU stays lost. */
static void note_failure(struct gpu_data *d, nvmlReturn_t rc, const char *call, int *slot)
{
	char what[128];
	snprintf(what, sizeof what, "%s on GPU %u", call, d->index);
	jl_nvml_explain(d->nv, rc, what, d->msg, sizeof d->msg);
	if (rc == NVML_ERROR_GPU_IS_LOST)
		d->lost = true;
	*slot = jl_nvml_error(rc);
}

/* The estimate at integrator value ig_uj (not before the last rebase). */
static uint64_t estimate_at(const struct gpu_data *d, uint64_t ig_uj)
{
	double since = ig_uj > d->est_ig_uj ? (double)(ig_uj - d->est_ig_uj) : 0.0;
	return d->est_uj + (uint64_t)(d->gain * since);
}

/* The history's newest point: now, as far as the samples go. */
static void record(struct gpu_data *d)
{
	if (d->hist && d->ig.primed)
		jl_history_add(d->hist, (struct jl_history_point){d->ig.last_ns, d->ig.uj,
								   estimate_at(d, d->ig.uj)});
}

/* Restart the estimate from counter value c_uj, where the integral is ig_uj. */
static void restart(struct gpu_data *d, uint64_t c_uj, uint64_t ig_uj)
{
	d->est_uj = d->reported_uj = d->step_est_uj = c_uj;
	d->est_ig_uj = ig_uj;
	d->diff_uj = 0;
	d->n_steps = d->next_step = d->n_pending = 0;
	if (d->hist) {
		jl_history_clear(d->hist);
		record(d);
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
static void calibrate(struct gpu_data *d, uint64_t c_uj, uint64_t ig_mid, uint64_t est_mid,
		      uint64_t phase_uj, uint64_t t_ns)
{
	d->diff_uj = (int64_t)(c_uj - est_mid);
	d->step_est_uj = est_mid;
	d->est_uj = estimate_at(d, d->ig.uj);
	d->est_ig_uj = d->ig.uj;
	d->phase_unc_uj = phase_uj;
	struct step *oldest = &d->steps[d->n_steps < STEPS ? 0 : d->next_step];
	if (d->n_steps && t_ns - oldest->t_ns >= CALIBRATE_MIN_NS && ig_mid > oldest->ig_uj) {
		double span = (double)(ig_mid - oldest->ig_uj);
		double r = (double)(c_uj - oldest->c_uj) / span;
		double u = (double)(phase_uj + oldest->phase_uj) / span;
		if (r > 0.5 && r < 2.0) { /* else the power readings are not this counter's */
			if (d->ratio < r - u)
				d->ratio = r - u;
			else if (d->ratio > r + u)
				d->ratio = r + u;
			double pull = (double)d->diff_uj / span;
			pull = pull > PULL_MAX ? PULL_MAX : pull < -PULL_MAX ? -PULL_MAX : pull;
			d->gain = d->ratio + pull;
		}
	}
	d->steps[d->next_step] = (struct step){c_uj, ig_mid, t_ns, phase_uj};
	d->next_step = (d->next_step + 1) % STEPS;
	if (d->n_steps < STEPS)
		d->n_steps++;
}

/* Calibrate with the pending counter steps that the samples now cover. */
static void settle_steps(struct gpu_data *d)
{
	unsigned done = 0;
	for (; done < d->n_pending; done++) {
		struct pending *p = &d->pending[done];
		struct jl_history_point mid, lo, hi;
		if (jl_history_at(d->hist, p->t_ns + p->half_ns, &hi) == JL_HISTORY_LATER)
			break;
		if (jl_history_at(d->hist, p->t_ns, &mid) != JL_HISTORY_FOUND ||
		    jl_history_at(d->hist, p->t_ns - p->half_ns, &lo) != JL_HISTORY_FOUND)
			continue; /* older than the history: nothing to place it with */
		calibrate(d, p->c_uj, mid.ig_uj, mid.est_uj, (hi.est_uj - lo.est_uj) / 2u, p->t_ns);
	}
	memmove(d->pending, d->pending + done, (d->n_pending - done) * sizeof d->pending[0]);
	d->n_pending -= done;
}

/*
 * The counter stepped to c_uj between the previous poll and this one: its
 * time is the midpoint, ± half the gap. With sample history, wait for the
 * samples that cover it; else place it on the integral as it is now.
 */
static void counter_step(struct gpu_data *d, uint64_t c_uj, uint64_t now_ns)
{
	uint64_t half = (now_ns - d->poll_ns) / 2u;
	if (d->hist) {
		if (d->n_pending == PENDING) { /* samples stalled: drop the oldest */
			memmove(d->pending, d->pending + 1, (PENDING - 1) * sizeof d->pending[0]);
			d->n_pending--;
		}
		d->pending[d->n_pending++] = (struct pending){c_uj, now_ns - half, half};
		settle_steps(d);
		return;
	}
	uint64_t ig_mid = d->poll_ig_uj + (d->ig.uj - d->poll_ig_uj) / 2u;
	calibrate(d, c_uj, ig_mid, estimate_at(d, ig_mid), (d->ig.uj - d->poll_ig_uj) / 2u, now_ns);
}

/* A counter value read at now_ns; a drop is a driver reset. */
static void take_counter(struct gpu_data *d, uint64_t mj, uint64_t now_ns)
{
	uint64_t ig_now = d->ig.uj, c_uj = mj * 1000u;
	if (!d->polled) {
		restart(d, c_uj, ig_now);
		d->phase_unc_uj = d->ig.last_uw / 10u; /* the value can be a step (100 ms) old */
	} else if (mj < d->counter_mj) {
		/* read() reports the drop, so the core counts the reset. */
		restart(d, c_uj, ig_now);
		d->phase_unc_uj = (ig_now - d->poll_ig_uj) / 2u;
	} else if (mj != d->counter_mj) {
		if (d->power == POWER_NONE) { /* nothing to place it with: one step */
			d->phase_unc_uj = c_uj - d->est_uj;
			d->est_uj = d->step_est_uj = c_uj;
		} else {
			counter_step(d, c_uj, now_ns);
		}
	}
	d->polled = true;
	d->counter_mj = mj;
	d->poll_ns = now_ns;
	d->poll_ig_uj = ig_now;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * New driver samples since the last call. Each is the mean power over the
 * window since the one before, stamped (CLOCK_REALTIME µs) at its end: the
 * integral runs flat over each window, on the monotonic clock.
 */
static nvmlReturn_t fetch_samples(struct gpu_data *d, nvmlSample_t *buf)
{
	nvmlValueType_t type;
	unsigned n = MAX_SAMPLES;
	nvmlReturn_t rc = d->nv->fn.DeviceGetSamples(d->handle, NVML_TOTAL_POWER_SAMPLES,
						     d->seen_us, &type, &n, buf);
	if (rc == NVML_ERROR_NOT_FOUND) /* nothing newer than seen_us */
		return NVML_SUCCESS;
	if (rc != NVML_SUCCESS)
		return rc;
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
	bool first = !d->ig.primed;
	for (unsigned i = 0; i < n && i < MAX_SAMPLES; i++) {
		unsigned long long us = buf[i].timeStamp;
		/* The first call returns the whole history: start at its newest sample. */
		if (us <= d->seen_us || (first && i + 1 < n))
			continue;
		d->seen_us = us;
		uint64_t t = us * 1000u - (real - mono);
		uint64_t uw = value_u64(type, buf[i].sampleValue) * 1000u;
		if (t > mono) /* a clock step: never place power in the future */
			t = mono;
		if (d->ig.primed && t > d->ig.last_ns)
			jl_integrator_add(&d->ig, uw, d->ig.last_ns); /* flat over the window */
		jl_integrator_add(&d->ig, uw, t);
		record(d);
	}
	if (d->n_pending)
		settle_steps(d);
	return NVML_SUCCESS;
}

static void nvml_sample(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns)
{
	(void)ctx;
	struct gpu_data *d = s->data;
	if (d->lost) /* only the sampler writes it, so no lock is needed to look */
		return;
	if (d->power == POWER_HISTORY) {
		nvmlSample_t buf[MAX_SAMPLES];
		pthread_mutex_lock(&d->lock);
		nvmlReturn_t rc = fetch_samples(d, buf);
		if (rc == NVML_SUCCESS)
			d->power_err = 0;
		else
			note_failure(d, rc, "nvmlDeviceGetSamples(NVML_TOTAL_POWER_SAMPLES)",
				     &d->power_err);
		pthread_mutex_unlock(&d->lock);
	} else if (d->power != POWER_NONE) {
		uint64_t uw = 0;
		nvmlReturn_t rc = read_power(d, &uw);
		uint64_t t = jl_now_ns();
		pthread_mutex_lock(&d->lock);
		if (rc == NVML_SUCCESS) {
			jl_integrator_add(&d->ig, uw, t);
			d->power_err = 0;
		} else {
			note_failure(d, rc,
				     d->power == POWER_INSTANT
					     ? "nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT)"
					     : "nvmlDeviceGetPowerUsage",
				     &d->power_err);
		}
		pthread_mutex_unlock(&d->lock);
	}
	if (!d->has_counter || now_ns < d->next_poll_ns || d->lost)
		return;
	unsigned long long mj = 0;
	nvmlReturn_t rc = d->nv->fn.DeviceGetTotalEnergyConsumption(d->handle, &mj);
	uint64_t t = jl_now_ns();
	d->next_poll_ns = t + COUNTER_POLL_NS;
	pthread_mutex_lock(&d->lock);
	if (rc == NVML_SUCCESS) {
		take_counter(d, mj, t);
		d->counter_err = 0;
	} else {
		note_failure(d, rc, "nvmlDeviceGetTotalEnergyConsumption", &d->counter_err);
	}
	pthread_mutex_unlock(&d->lock);
}

static uint32_t clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint64_t energy_of(uint64_t uw, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)uw * ns / 1000000000u);
}

/* Error bound of estimate est (a counter GPU with power): see docs/nvml.md. */
static uint64_t bound(const struct gpu_data *d, uint64_t est)
{
	uint64_t diff = d->diff_uj < 0 ? (uint64_t)-d->diff_uj : (uint64_t)d->diff_uj;
	uint64_t since = est > d->step_est_uj ? est - d->step_est_uj : d->step_est_uj - est;
	return diff + d->phase_unc_uj + since / INTEGRATION_ERROR_DIV;
}

/* No NVML call here: what the sampler saw, carried forward to now. */
static int nvml_read(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out)
{
	(void)ctx;
	struct gpu_data *d = s->data;
	uint64_t now = jl_now_ns();
	pthread_mutex_lock(&d->lock);
	int err = d->lost ? JOULES_ERR_LOST : d->power_err ? d->power_err : d->counter_err;
	if (err) {
		jl_sensor_fail(s, err, "%s", d->msg);
		pthread_mutex_unlock(&d->lock);
		return err;
	}
	/* Power since the last sample, at the last sample's rate. */
	uint64_t ig_now = d->ig.uj, stale_uj = 0, unseen_uj = 0;
	if (d->power != POWER_NONE && d->ig.primed && now > d->ig.last_ns) {
		uint64_t age = now - d->ig.last_ns;
		uint64_t span = age < EXTRAPOLATE_MAX_NS ? age : EXTRAPOLATE_MAX_NS;
		ig_now += energy_of(d->ig.last_uw, span);
		stale_uj = energy_of(d->ig.last_uw, age - span);
		/*
		 * History: samples up to now are still to come, and the power in
		 * between can be anything up to the limit: say so.
		 */
		if (d->power == POWER_HISTORY) {
			uint64_t top = d->limit_uw > d->ig.last_uw ? d->limit_uw : d->ig.last_uw;
			unseen_uj = energy_of(top, span);
		}
	}
	uint64_t est, unc;
	if (!d->has_counter) {
		est = ig_now;
		unc = ig_now / INTEGRATION_ERROR_DIV;
	} else if (d->power == POWER_NONE) {
		est = d->est_uj;
		unc = d->phase_unc_uj;
	} else {
		est = estimate_at(d, ig_now);
		unc = bound(d, est);
	}
	/* Never go back (rounding of a rebase, extrapolation): readings are monotonic. */
	if (est < d->reported_uj) {
		unc += d->reported_uj - est;
		est = d->reported_uj;
	}
	d->reported_uj = est;
	pthread_mutex_unlock(&d->lock);
	out->raw = est;
	out->uncertainty_uj = clamp_u32(unc + stale_uj + unseen_uj);
	if (d->power == POWER_HISTORY)
		out->flags = JOULES_READING_PROVISIONAL;
	return 0;
}

/*
 * The estimate at the reading's own time, from the samples that cover it.
 * The reading's energy is the core's extended counter, which in this reset
 * epoch is the raw estimate plus a constant: keep that constant.
 */
static int nvml_settle(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *r)
{
	(void)ctx;
	struct gpu_data *d = s->data;
	const struct jl_counter *c = &s->counter;
	pthread_mutex_lock(&d->lock);
	struct jl_history_point p;
	enum jl_history_lookup found =
		d->hist && r->resets == c->resets ? jl_history_at(d->hist, r->time_ns, &p)
						  : JL_HISTORY_EARLIER;
	if (found == JL_HISTORY_LATER && jl_now_ns() - r->time_ns < SETTLE_GIVE_UP_NS) {
		pthread_mutex_unlock(&d->lock);
		return 1;
	}
	if (found == JL_HISTORY_FOUND) {
		uint64_t est = p.est_uj;
		r->uncertainty_uj = clamp_u32(d->has_counter ? bound(d, est)
							     : est / INTEGRATION_ERROR_DIV);
		r->uncertainty_uj = clamp_u32(r->uncertainty_uj +
					      (uint64_t)jl_history_spread(d->hist, r->time_ns));
		r->energy_uj = c->total_raw - c->last_raw + est;
	}
	r->flags &= ~JOULES_READING_PROVISIONAL;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* What this GPU can give: counter, power, both, or neither (then why). */
static nvmlReturn_t probe(struct gpu_data *d, char *why, size_t len)
{
	const struct jl_nvml_fns *fn = &d->nv->fn;
	char what[160];
	unsigned long long mj;
	nvmlReturn_t rc = fn->DeviceGetTotalEnergyConsumption
				  ? fn->DeviceGetTotalEnergyConsumption(d->handle, &mj)
				  : NVML_ERROR_FUNCTION_NOT_FOUND;
	if (rc != NVML_SUCCESS && rc != NVML_ERROR_NOT_SUPPORTED &&
	    rc != NVML_ERROR_FUNCTION_NOT_FOUND) {
		snprintf(what, sizeof what, "nvmlDeviceGetTotalEnergyConsumption on GPU %u", d->index);
		jl_nvml_explain(d->nv, rc, what, why, len);
		return rc;
	}
	d->has_counter = rc == NVML_SUCCESS;
	unsigned mw;
	if (fn->DeviceGetEnforcedPowerLimit &&
	    fn->DeviceGetEnforcedPowerLimit(d->handle, &mw) == NVML_SUCCESS)
		d->limit_uw = (uint64_t)mw * 1000u;
	/* The driver's sample history first; it primes the integral too. */
	if (fn->DeviceGetSamples) {
		nvmlSample_t buf[MAX_SAMPLES];
		d->power = POWER_HISTORY;
		if (fetch_samples(d, buf) == NVML_SUCCESS && d->ig.primed)
			return NVML_SUCCESS;
		d->ig = (struct jl_integrator){0};
		d->seen_us = 0;
	}
	uint64_t uw;
	d->power = POWER_INSTANT;
	if (!fn->DeviceGetFieldValues || read_power(d, &uw) != NVML_SUCCESS) {
		d->power = POWER_AVERAGE;
		if (!fn->DeviceGetPowerUsage || read_power(d, &uw) != NVML_SUCCESS)
			d->power = POWER_NONE;
	}
	if (d->has_counter || d->power != POWER_NONE)
		return NVML_SUCCESS;
	snprintf(what, sizeof what,
		 "GPU %u has neither an energy counter nor a power reading "
		 "(nvmlDeviceGetTotalEnergyConsumption, nvmlDeviceGetPowerUsage)",
		 d->index);
	jl_nvml_explain(d->nv, NVML_ERROR_NOT_SUPPORTED, what, why, len);
	return NVML_ERROR_NOT_SUPPORTED;
}

static uint32_t sample_interval(const struct gpu_data *d)
{
	switch (d->power) {
	case POWER_HISTORY: return HISTORY_SAMPLE_US;
	case POWER_INSTANT: return POWER_SAMPLE_US;
	case POWER_AVERAGE: return AVERAGE_SAMPLE_US;
	case POWER_NONE: break;
	}
	return COUNTER_ONLY_SAMPLE_US;
}

static int add_gpu(joules_ctx *ctx, struct jl_nvml *nv, unsigned i)
{
	struct jl_nvml_gpu *g = &nv->gpus[i];
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN];
	if (g->uuid[0])
		snprintf(id, sizeof id, "nvml:%.58s", g->uuid);
	else
		snprintf(id, sizeof id, "nvml:gpu%u", i);
	snprintf(name, sizeof name, "gpu%u %.50s", i, g->name[0] ? g->name : "NVIDIA GPU");
	struct gpu_data *d = calloc(1, sizeof *d);
	if (!d)
		return JOULES_ERR_NOMEM;
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_nvml, id, name, JOULES_KIND_GPU);
	if (!s) {
		free(d);
		return JOULES_ERR_NOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->gain = d->ratio = 1.0;
	d->nv = nv;
	d->handle = g->handle;
	d->index = i;
	s->data = d;
	g->sensor = (int)(ctx->n_sensors - 1);
	snprintf(s->pub.device, sizeof s->pub.device, "%s", g->bus_id);
	jl_counter_init(&s->counter, 0, 1, 1, 0);
	s->pub.resolution_uj = 1;

	char why[JOULES_REASON_LEN], what[64];
	if (!g->handle) {
		snprintf(what, sizeof what, "nvmlDeviceGetHandleByIndex(%u)", i);
		jl_nvml_explain(nv, g->handle_rc, what, why, sizeof why);
		jl_sensor_unreadable(s, jl_nvml_error(g->handle_rc), "%s", why);
		return 0;
	}
	nvmlReturn_t rc = probe(d, why, sizeof why);
	if (rc != NVML_SUCCESS) {
		jl_sensor_unreadable(s, jl_nvml_error(rc), "%s", why);
		return 0;
	}
	if (!d->has_counter)
		s->pub.flags |= JOULES_SENSOR_INTEGRATED;
	if (d->power == POWER_HISTORY) {
		d->hist = malloc(sizeof *d->hist);
		if (!d->hist)
			return JOULES_ERR_NOMEM;
		jl_history_clear(d->hist);
		record(d);
	}
	s->sample_us = sample_interval(d);
	s->pub.refresh_us = s->sample_us;
	/* Prime it here, so the first read() has a value before the sampler runs. */
	nvml_sample(ctx, s, jl_now_ns());
	return 0;
}

static int nvml_enumerate(joules_ctx *ctx, void **state)
{
	struct jl_nvml *nv = jl_nvml_load();
	if (!nv)
		return JOULES_ERR_NOMEM;
	*state = nv;
	/* No library, an unusable one, or no GPU: no sensors, and the note says why. */
	if (nv->message[0])
		jl_note(ctx, "%s", nv->message);
	else if (nv->n_gpus == 0)
		jl_note(ctx, "%s: NVML found no GPU", nv->library);
	for (unsigned i = 0; i < nv->n_gpus; i++) {
		int r = add_gpu(ctx, nv, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* In a fork() child the parent's sampler may hold d->lock: it is left as it is. */
static void nvml_release_forked(struct jl_sensor *s)
{
	struct gpu_data *d = s->data;
	if (!d)
		return;
	free(d->hist);
	free(d);
}

static void nvml_release(struct jl_sensor *s)
{
	struct gpu_data *d = s->data;
	if (d)
		pthread_mutex_destroy(&d->lock);
	nvml_release_forked(s);
}

static void nvml_shutdown(void *state)
{
	jl_nvml_unload(state);
}

static void nvml_shutdown_forked(void *state)
{
	jl_nvml_forget(state);
}

const struct jl_backend jl_backend_nvml = {
	.name = "nvml",
	.enumerate = nvml_enumerate,
	.read = nvml_read,
	.sample = nvml_sample,
	.settle = nvml_settle,
	.release = nvml_release,
	.shutdown = nvml_shutdown,
	.release_forked = nvml_release_forked,
	.shutdown_forked = nvml_shutdown_forked,
};

struct jl_nvml *jl_nvml_state(const struct joules_ctx *ctx)
{
	for (size_t b = 0; jl_backends[b]; b++)
		if (jl_backends[b] == &jl_backend_nvml)
			return ctx->backend_state[b];
	return NULL;
}
