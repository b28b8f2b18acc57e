/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA GPUs through NVML: one energy sensor per GPU, id'd by UUID.
 *
 * The energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ) is exact over
 * long spans but costs ~4 ms a call and moves only every ~100 ms; the
 * instant power field costs ~3 µs and refreshes at tens of Hz (FACTS.md).
 * So the caller's thread never calls NVML: the context's sampler thread
 * integrates instant power every 5 ms, and read() returns that integral,
 * scaled by a gain that the counter (polled every 100 ms) keeps calibrated,
 * under a mutex. The counter never makes the estimate jump: a step placed
 * 50 ms wrong would put ±P × 50 ms into any region around it (measured on
 * the H100: −70% for 0.1 s bursts when readings were re-levelled at each
 * step). docs/nvml.md gives the method, its limits and figures.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "../integrator.h"
#include "../nvml_api.h"

#define POWER_SAMPLE_US 5000u     /* instant power: ~3 µs a call */
#define AVERAGE_SAMPLE_US 20000u  /* nvmlDeviceGetPowerUsage: a 1 s average anyway */
#define COUNTER_ONLY_SAMPLE_US 100000u
#define COUNTER_POLL_NS 100000000ull /* the counter moves every ~100 ms */
/* Relative error allowed to integrated instant power (FACTS.md: +2..5% at 0.2 s). */
#define INTEGRATION_ERROR_DIV 20u /* 5% */
/* Counter steps kept to calibrate the gain: ~12 s at one step per 100 ms. */
#define STEPS 128
/* Calibrate only over at least this long: a step's time is known to ±50 ms. */
#define CALIBRATE_MIN_NS 2000000000ull
/* Extrapolate the last power sample over at most this long. */
#define EXTRAPOLATE_MAX_NS 1000000000ull

const struct jl_backend jl_backend_nvml;

enum power_source { POWER_NONE, POWER_INSTANT, POWER_AVERAGE };

struct gpu_data {
	pthread_mutex_t lock;
	const struct jl_nvml *nv; /* the function table, read-only after enumeration */
	nvmlDevice_t handle;
	unsigned index;
	enum power_source power;
	bool has_counter;

	/* Below: written by the sampler thread, read by read(), under lock. */
	struct jl_integrator ig;  /* power integrated since the context opened */
	uint64_t counter_mj;      /* last counter value seen */
	uint64_t next_poll_ns;
	uint64_t poll_ns, poll_ig_uj; /* time and ig.uj of the last counter poll */
	/*
	 * The estimate: est_uj where ig.uj was est_ig_uj, then gain × the power
	 * integrated since. diff_uj: the counter minus the estimate at the last
	 * step; phase_unc_uj: the energy of half the poll gap around that step.
	 */
	uint64_t est_uj, est_ig_uj, phase_unc_uj;
	int64_t diff_uj;
	double gain;
	struct step { uint64_t c_uj, ig_uj, t_ns; } steps[STEPS];
	unsigned n_steps, next_step;
	uint64_t reported_uj;     /* last value returned: readings never go back */
	bool polled;
	bool lost;
	int power_err, counter_err; /* enum joules_error of the last failed call, or 0 */
	char msg[JL_MSG_LEN];
};

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
	if (rc != NVML_SUCCESS)
		return rc;
	switch (fv.valueType) {
	case NVML_VALUE_TYPE_DOUBLE: *uw = fv.value.dVal > 0 ? (uint64_t)(fv.value.dVal * 1e3) : 0; break;
	case NVML_VALUE_TYPE_UNSIGNED_LONG: *uw = (uint64_t)fv.value.ulVal * 1000u; break;
	case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: *uw = fv.value.ullVal * 1000u; break;
	case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
		*uw = fv.value.sllVal > 0 ? (uint64_t)fv.value.sllVal * 1000u : 0;
		break;
	case NVML_VALUE_TYPE_SIGNED_INT:
		*uw = fv.value.siVal > 0 ? (uint64_t)fv.value.siVal * 1000u : 0;
		break;
	default: *uw = (uint64_t)fv.value.uiVal * 1000u; break;
	}
	return NVML_SUCCESS;
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

/* The estimate at integrator value ig_uj. */
static uint64_t estimate_at(const struct gpu_data *d, uint64_t ig_uj)
{
	double since = ig_uj > d->est_ig_uj ? (double)(ig_uj - d->est_ig_uj) : 0.0;
	return d->est_uj + (uint64_t)(d->gain * since);
}

/* Restart the estimate from counter value c_uj, where the integral is ig_uj. */
static void restart(struct gpu_data *d, uint64_t c_uj, uint64_t ig_uj)
{
	d->est_uj = d->reported_uj = c_uj;
	d->est_ig_uj = ig_uj;
	d->diff_uj = 0;
	d->n_steps = d->next_step = 0;
}

/*
 * The counter stepped to c_uj somewhere between the previous poll and this
 * one: take it as the energy at the midpoint. The gain is the counter's
 * energy over the power integral across the kept steps (seconds apart, so
 * the ±50 ms of each step's time hardly matters), plus a pull that brings
 * the estimate back to the counter over the next such span: the estimate
 * follows the counter in the long run and never jumps.
 */
static void calibrate(struct gpu_data *d, uint64_t c_uj, uint64_t ig_now, uint64_t now_ns)
{
	uint64_t ig_mid = d->poll_ig_uj + (ig_now - d->poll_ig_uj) / 2u;
	d->diff_uj = (int64_t)(c_uj - estimate_at(d, ig_mid));
	d->est_uj = estimate_at(d, ig_now); /* rebase: the old gain up to now */
	d->est_ig_uj = ig_now;
	d->phase_unc_uj = (ig_now - d->poll_ig_uj) / 2u;
	struct step *oldest = &d->steps[d->n_steps < STEPS ? 0 : d->next_step];
	if (d->n_steps && now_ns - oldest->t_ns >= CALIBRATE_MIN_NS && ig_mid > oldest->ig_uj) {
		double span = (double)(ig_mid - oldest->ig_uj);
		double g = (double)(c_uj - oldest->c_uj) / span + (double)d->diff_uj / span;
		if (g > 0.5 && g < 2.0) /* else the power readings are not this counter's */
			d->gain = g;
	}
	d->steps[d->next_step] = (struct step){c_uj, ig_mid, now_ns};
	d->next_step = (d->next_step + 1) % STEPS;
	if (d->n_steps < STEPS)
		d->n_steps++;
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
			d->est_uj = c_uj;
		} else {
			calibrate(d, c_uj, ig_now, now_ns);
		}
	}
	d->polled = true;
	d->counter_mj = mj;
	d->poll_ns = now_ns;
	d->poll_ig_uj = ig_now;
}

static void nvml_sample(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns)
{
	(void)ctx;
	struct gpu_data *d = s->data;
	if (d->lost) /* only the sampler writes it, so no lock is needed to look */
		return;
	if (d->power != POWER_NONE) {
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
	uint64_t ig_now = d->ig.uj, stale_uj = 0;
	if (d->power != POWER_NONE && d->ig.primed && now > d->ig.last_ns) {
		uint64_t age = now - d->ig.last_ns;
		uint64_t span = age < EXTRAPOLATE_MAX_NS ? age : EXTRAPOLATE_MAX_NS;
		ig_now += (uint64_t)((unsigned __int128)d->ig.last_uw * span / 1000000000u);
		stale_uj = (uint64_t)((unsigned __int128)d->ig.last_uw * (age - span) / 1000000000u);
	}
	uint64_t est, unc;
	if (!d->has_counter) {
		est = ig_now;
		unc = ig_now / INTEGRATION_ERROR_DIV;
	} else if (d->power == POWER_NONE) {
		est = d->est_uj;
		unc = d->phase_unc_uj;
	} else {
		/* How far the counter was at its last step, and the power since. */
		est = estimate_at(d, ig_now);
		uint64_t since = est - d->est_uj;
		uint64_t diff = d->diff_uj < 0 ? (uint64_t)-d->diff_uj : (uint64_t)d->diff_uj;
		unc = diff + d->phase_unc_uj + since / INTEGRATION_ERROR_DIV;
	}
	/* Never go back (rounding of a rebase): readings are monotonic. */
	if (est < d->reported_uj) {
		unc += d->reported_uj - est;
		est = d->reported_uj;
	}
	d->reported_uj = est;
	pthread_mutex_unlock(&d->lock);
	out->raw = est;
	out->uncertainty_uj = clamp_u32(unc + stale_uj);
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
	d->gain = 1.0;
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

static void nvml_release(struct jl_sensor *s)
{
	struct gpu_data *d = s->data;
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void nvml_shutdown(void *state)
{
	jl_nvml_unload(state);
}

const struct jl_backend jl_backend_nvml = {
	.name = "nvml",
	.enumerate = nvml_enumerate,
	.read = nvml_read,
	.sample = nvml_sample,
	.release = nvml_release,
	.shutdown = nvml_shutdown,
};

struct jl_nvml *jl_nvml_state(const struct joules_ctx *ctx)
{
	for (size_t b = 0; jl_backends[b]; b++)
		if (jl_backends[b] == &jl_backend_nvml)
			return ctx->backend_state[b];
	return NULL;
}
