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
 * So the caller's thread never calls NVML (but to wake a GPU, below): the
 * context's sampler thread fetches the new samples every 250 ms (the driver
 * keeps ~2.4 s of them; sooner when a settle waits for them) and polls the
 * counter every second (it only calibrates a slowly moving gain), and only
 * while something is measured (lib/sampler.h): an idle context makes no
 * NVML call. The read that wakes a GPU fetches what the driver kept since
 * its last sample, on the caller's thread; after a sleep longer than that
 * history it resumes the estimate at the counter (one ~3 ms call). read()
 * returns, under a mutex, the estimate at the last sample extrapolated to
 * now, marked JOULES_READING_PROVISIONAL; joules_settle() later replaces it
 * with the estimate at the reading's own time once samples cover it. The
 * estimate is the power integral scaled by a gain that the counter keeps
 * calibrated; the counter never makes it jump (a step placed 50 ms wrong
 * would put ±P x 50 ms into any region around it). Without the history the
 * instant field (every 5 ms) or the 1 s average is integrated, unsettled.
 * docs/nvml.md gives the method, its limits and figures. This file talks
 * to NVML, each call under the process-wide call lock that keeps calls
 * away from fork() (nvml_fork.h); the estimate itself is nvml_estimator.c,
 * pure arithmetic.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../backend.h"
#include "../../gap.h"
#include "nvml_api.h"
#include "nvml_estimator.h"
#include "nvml_fork.h"

/*
 * nvmlDeviceGetSamples costs ~0.3 ms and the driver keeps ~2.4 s of its
 * 20 ms samples: fetched every 250 ms, 4 calls a second, ~0.12% of a core.
 */
#define HISTORY_FETCH_US 250000u
#define HISTORY_PERIOD_US 20000u  /* the driver's samples: what refresh_us says */
/*
 * A sample that covers a moment is returned 20-60 ms after it: a settle
 * that waits has it fetched 40 ms after, then every 20 ms
 * (JL_SAMPLER_HURRY_GAP_NS).
 */
#define HISTORY_SETTLE_DELAY_US 40000u
/*
 * The driver's samples are 8-47 ms apart (measured): a longer gap after
 * the last one taken means they were dropped from its history (a sleep).
 */
#define HISTORY_HOLE_US 100000ull
#define POWER_SAMPLE_US 5000u     /* instant power: ~3 µs a call */
#define AVERAGE_SAMPLE_US 20000u  /* nvmlDeviceGetPowerUsage: a 1 s average anyway */
#define COUNTER_ONLY_SAMPLE_US 100000u
/*
 * With power: the counter (~3 ms a call) only calibrates the gain, which
 * moves slowly: every 2 s, ~0.14% of a core. Replayed over 2086 H100
 * regions (docs/validation.md), every 2 s and every 1 s gave the same burst
 * errors and coverage (95.2% and 95.0%). Alone, it is the energy: every
 * step (~100 ms).
 */
#define COUNTER_POLL_NS 2000000000ull
#define COUNTER_ONLY_POLL_NS 100000000ull
/* A reading whose samples have not come after this long is final as it is. */
#define SETTLE_GIVE_UP_NS 1000000000ull
/* The driver's history holds ~2.4 s; more than this is asked for at once. */
#define MAX_SAMPLES 256

const struct jl_backend jl_backend_nvml;

struct gpu_data {
	pthread_mutex_t lock;
	const struct jl_nvml *nv; /* the function table, read-only after enumeration */
	nvmlDevice_t handle;
	unsigned index;
	unsigned long long seen_us; /* newest driver sample taken (its timestamp) */
	uint64_t next_poll_ns;
	/* Below: written by the sampler thread, read by read(), under lock. */
	struct jl_gpu_est est;
	struct jl_history *hist;  /* est's history (POWER_HISTORY), owned here */
	bool lost;
	int power_err, counter_err; /* enum joules_error of the last failed call, or 0 */
	struct jl_gap power_gap, counter_gap; /* calls skipped as transient failures */
	/*
	 * The last resume at the counter (history only): from resumed_ns on,
	 * readings carry its cost (a difference across it is off by up to
	 * that); 0: none yet.
	 */
	uint64_t resumed_ns, resume_unc_uj;
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
	if (d->est.power == JL_EST_POWER_AVERAGE) {
		unsigned mw = 0;
		jl_nvml_enter();
		nvmlReturn_t rc = fn->DeviceGetPowerUsage(d->handle, &mw);
		jl_nvml_leave();
		*uw = (uint64_t)mw * 1000u;
		return rc;
	}
	nvmlFieldValue_t fv = {.fieldId = NVML_FI_DEV_POWER_INSTANT};
	jl_nvml_enter();
	nvmlReturn_t rc = fn->DeviceGetFieldValues(d->handle, 1, &fv);
	jl_nvml_leave();
	if (rc == NVML_SUCCESS)
		rc = fv.nvmlReturn;
	if (rc == NVML_SUCCESS)
		*uw = value_u64(fv.valueType, fv.value) * 1000u;
	return rc;
}

/* Note a failed call (under lock); a lost GPU stays lost. */
static void note_failure(struct gpu_data *d, nvmlReturn_t rc, const char *call, int *slot)
{
	/* Not ready, timed out, unknown: skipped; the next good sample spans the gap. */
	bool transient = rc == NVML_ERROR_NOT_READY || rc == NVML_ERROR_TIMEOUT ||
			 rc == NVML_ERROR_UNKNOWN;
	if (jl_gap_fail(slot == &d->power_err ? &d->power_gap : &d->counter_gap, transient, false))
		return;
	char what[128];
	snprintf(what, sizeof what, "%s on GPU %u", call, d->index);
	jl_nvml_explain(d->nv, rc, what, d->msg, sizeof d->msg);
	if (rc == NVML_ERROR_GPU_IS_LOST)
		d->lost = true;
	*slot = jl_nvml_error(rc);
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
 * estimator takes it on the monotonic clock.
 */
static void resume(struct gpu_data *d, uint64_t uw);

static nvmlReturn_t fetch_samples(struct gpu_data *d, nvmlSample_t *buf)
{
	nvmlValueType_t type;
	unsigned n = MAX_SAMPLES;
	jl_nvml_enter();
	nvmlReturn_t rc = d->nv->fn.DeviceGetSamples(d->handle, NVML_TOTAL_POWER_SAMPLES,
						     d->seen_us, &type, &n, buf);
	jl_nvml_leave();
	if (rc == NVML_ERROR_NOT_FOUND) /* nothing newer than seen_us */
		return NVML_SUCCESS;
	if (rc != NVML_SUCCESS)
		return rc;
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
	bool first = !d->est.ig.primed;
	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	/*
	 * The samples after the last one taken are gone: resume at the counter
	 * (if it fails, the next window spans the hole, as a failed fetch's do).
	 */
	if (!first && n && d->est.has_counter && buf[0].timeStamp > d->seen_us + HISTORY_HOLE_US)
		resume(d, value_u64(type, buf[n - 1].sampleValue) * 1000u);
	for (unsigned i = 0; i < n; i++) {
		unsigned long long us = buf[i].timeStamp;
		/* The first call returns the whole history: start at its newest sample. */
		if (us <= d->seen_us || (first && i + 1 < n))
			continue;
		d->seen_us = us;
		uint64_t t = us * 1000u - (real - mono);
		if (t > mono) /* a clock step: never place power in the future */
			t = mono;
		jl_est_window(&d->est, value_u64(type, buf[i].sampleValue) * 1000u, t);
	}
	jl_est_windows_done(&d->est);
	return NVML_SUCCESS;
}

/* Read the counter (under d->lock); *mj and *t its value and when it was read. */
static nvmlReturn_t read_counter(struct gpu_data *d, unsigned long long *mj, uint64_t *t)
{
	jl_nvml_enter();
	nvmlReturn_t rc = d->nv->fn.DeviceGetTotalEnergyConsumption(d->handle, mj);
	jl_nvml_leave();
	*t = jl_now_ns();
	d->next_poll_ns = *t + (d->est.power == JL_EST_POWER_NONE ? COUNTER_ONLY_POLL_NS
								  : COUNTER_POLL_NS);
	if (rc == NVML_SUCCESS) {
		jl_gap_close(&d->counter_gap, 0, 0, 0); /* a counter spans it exactly */
		d->counter_err = 0;
	} else {
		note_failure(d, rc, "nvmlDeviceGetTotalEnergyConsumption", &d->counter_err);
	}
	return rc;
}

/* The power integral has a hole (under d->lock): resume it at the counter. */
static void resume(struct gpu_data *d, uint64_t uw)
{
	unsigned long long mj = 0;
	uint64_t t;
	if (read_counter(d, &mj, &t) != NVML_SUCCESS)
		return;
	jl_est_resume(&d->est, mj, t, uw);
	if (d->est.power == JL_EST_POWER_HISTORY) { /* the fallbacks' bound() holds it */
		d->resumed_ns = d->est.ig.last_ns;
		d->resume_unc_uj = d->est.phase_unc_uj;
	}
}

/* New power data: the driver's samples, or one power reading (the fallbacks). */
static void sample_power(struct gpu_data *d)
{
	if (d->est.power == JL_EST_POWER_HISTORY) {
		nvmlSample_t buf[MAX_SAMPLES];
		pthread_mutex_lock(&d->lock);
		nvmlReturn_t rc = fetch_samples(d, buf);
		if (rc == NVML_SUCCESS)
			d->power_err = 0;
		if (rc == NVML_SUCCESS) /* the driver's samples cover the gap */
			jl_gap_close(&d->power_gap, 0, 0, 0);
		else
			note_failure(d, rc, "nvmlDeviceGetSamples(NVML_TOTAL_POWER_SAMPLES)",
				     &d->power_err);
		pthread_mutex_unlock(&d->lock);
	} else if (d->est.power != JL_EST_POWER_NONE) {
		uint64_t uw = 0;
		nvmlReturn_t rc = read_power(d, &uw);
		uint64_t t = jl_now_ns();
		pthread_mutex_lock(&d->lock);
		if (rc == NVML_SUCCESS) {
			if (d->est.ig.primed && t > d->est.ig.last_ns)
				jl_gap_close(&d->power_gap, t - d->est.ig.last_ns, d->est.ig.last_uw, uw);
			jl_est_power(&d->est, uw, t);
			d->power_err = 0;
		} else {
			note_failure(d, rc,
				     d->est.power == JL_EST_POWER_INSTANT
					     ? "nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT)"
					     : "nvmlDeviceGetPowerUsage",
				     &d->power_err);
		}
		pthread_mutex_unlock(&d->lock);
	}
}

static void poll_counter(struct gpu_data *d)
{
	unsigned long long mj = 0;
	uint64_t t;
	pthread_mutex_lock(&d->lock);
	if (read_counter(d, &mj, &t) == NVML_SUCCESS)
		jl_est_counter(&d->est, mj, t);
	pthread_mutex_unlock(&d->lock);
}

static void nvml_sample(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns)
{
	(void)ctx;
	struct gpu_data *d = s->data;
	if (d->lost) /* only the sampler writes it, so no lock is needed to look */
		return;
	sample_power(d);
	if (d->est.has_counter && now_ns >= d->next_poll_ns && !d->lost)
		poll_counter(d);
}

/*
 * The sampler slept (sample_on_demand: GPUs with a counter) and the GPU is
 * read now. With the driver's history, fetch what it kept since the last
 * sample: all of it after a sleep shorter than that history (exact, one
 * ~0.3 ms call), else fetch_samples() sees the hole and resumes at the
 * counter. The fallbacks have no history: every sleep is a hole. The
 * counter alone is exact across any sleep: it is just read.
 */
static void nvml_wake(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns)
{
	(void)ctx;
	(void)now_ns;
	struct gpu_data *d = s->data;
	if (d->lost)
		return;
	if (d->est.power == JL_EST_POWER_INSTANT || d->est.power == JL_EST_POWER_AVERAGE) {
		uint64_t uw = 0;
		if (read_power(d, &uw) == NVML_SUCCESS) {
			pthread_mutex_lock(&d->lock);
			resume(d, uw);
			pthread_mutex_unlock(&d->lock);
		}
	}
	if (d->est.power == JL_EST_POWER_NONE)
		poll_counter(d);
	else
		sample_power(d);
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
	uint64_t now = jl_now_ns(), unc = 0;
	pthread_mutex_lock(&d->lock);
	int err = d->lost ? JOULES_ERR_LOST : d->power_err ? d->power_err : d->counter_err;
	if (err) {
		jl_sensor_fail(s, err, "%s", d->msg);
		pthread_mutex_unlock(&d->lock);
		return err;
	}
	out->raw = jl_est_read(&d->est, now, &unc);
	unc += d->power_gap.unc_uj + d->resume_unc_uj;
	bool gap = jl_gap_flag(&d->power_gap) | jl_gap_flag(&d->counter_gap);
	pthread_mutex_unlock(&d->lock);
	out->uncertainty_uj = clamp_u32(unc);
	if (d->est.power == JL_EST_POWER_HISTORY)
		out->flags = JOULES_READING_PROVISIONAL;
	if (gap)
		out->flags |= JOULES_READING_GAP;
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
	uint64_t est = 0, unc = 0;
	pthread_mutex_lock(&d->lock);
	enum jl_history_lookup found = r->resets == c->resets ? jl_est_at(&d->est, r->time_ns,
									  &est, &unc)
							      : JL_HISTORY_EARLIER;
	struct jl_history_point last;
	if (found == JL_HISTORY_LATER && d->lost && jl_history_last(d->est.hist, &last)) {
		/*
		 * Lost: no sample will cover it (the loss is seen at the next fetch,
		 * up to 250 ms on): the energy is what the samples measured, the
		 * unseen span left in its bound, not the power carried on.
		 */
		r->energy_uj = c->total_raw - c->last_raw + last.est_uj;
		found = JL_HISTORY_EARLIER;
	}
	if (found == JL_HISTORY_LATER && jl_now_ns() - r->time_ns < SETTLE_GIVE_UP_NS) {
		pthread_mutex_unlock(&d->lock);
		return 1;
	}
	if (found == JL_HISTORY_FOUND) {
		if (d->resume_unc_uj && r->time_ns >= d->resumed_ns)
			unc += d->resume_unc_uj;
		r->uncertainty_uj = clamp_u32(unc);
		r->energy_uj = c->total_raw - c->last_raw + est;
	}
	r->flags &= ~JOULES_READING_PROVISIONAL;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* A reading's own uncertainty less the last resume's cost, when it carries it. */
static uint64_t without_resume(const struct gpu_data *d, const struct joules_reading *r)
{
	if (!d->resume_unc_uj || r->time_ns < d->resumed_ns)
		return r->uncertainty_uj;
	return r->uncertainty_uj > d->resume_unc_uj ? r->uncertainty_uj - d->resume_unc_uj : 0;
}

/*
 * The error of b - a: their own, and the estimate's over the span between
 * them. The last resume's cost, which readings after it carry, counts only
 * when the span holds the resume.
 */
static uint64_t nvml_span_bound(const struct jl_sensor *s, const struct joules_reading *a,
				const struct joules_reading *b)
{
	struct gpu_data *d = s->data;
	pthread_mutex_lock(&d->lock);
	uint64_t u = jl_est_span_bound(&d->est, a->time_ns, b->time_ns, b->energy_uj - a->energy_uj);
	u += a->time_ns >= d->resumed_ns ? without_resume(d, a) + without_resume(d, b)
					 : a->uncertainty_uj + b->uncertainty_uj;
	pthread_mutex_unlock(&d->lock);
	return u;
}

/* What this GPU can give: counter, power, both, or neither (then why). */
static nvmlReturn_t probe(struct gpu_data *d, char *why, size_t len)
{
	const struct jl_nvml_fns *fn = &d->nv->fn;
	char what[160];
	unsigned long long mj;
	nvmlReturn_t rc = NVML_ERROR_FUNCTION_NOT_FOUND;
	jl_nvml_enter();
	if (fn->DeviceGetTotalEnergyConsumption)
		rc = fn->DeviceGetTotalEnergyConsumption(d->handle, &mj);
	jl_nvml_leave();
	uint64_t polled = jl_now_ns();
	if (rc != NVML_SUCCESS && rc != NVML_ERROR_NOT_SUPPORTED &&
	    rc != NVML_ERROR_FUNCTION_NOT_FOUND) {
		snprintf(what, sizeof what, "nvmlDeviceGetTotalEnergyConsumption on GPU %u", d->index);
		jl_nvml_explain(d->nv, rc, what, why, len);
		return rc;
	}
	bool has_counter = rc == NVML_SUCCESS;
	unsigned mw;
	uint64_t limit_uw = 0;
	jl_nvml_enter();
	if (fn->DeviceGetEnforcedPowerLimit &&
	    fn->DeviceGetEnforcedPowerLimit(d->handle, &mw) == NVML_SUCCESS)
		limit_uw = (uint64_t)mw * 1000u;
	jl_nvml_leave();
	/*
	 * The driver's sample history first; it primes the integral, and the
	 * counter value read above the estimate (not a second ~3 ms call).
	 */
	if (fn->DeviceGetSamples) {
		nvmlSample_t buf[MAX_SAMPLES];
		jl_est_init(&d->est, JL_EST_POWER_HISTORY, has_counter, limit_uw, d->hist);
		if (fetch_samples(d, buf) == NVML_SUCCESS && d->est.ig.primed) {
			if (has_counter) {
				jl_est_counter(&d->est, mj, polled);
				d->next_poll_ns = polled + COUNTER_POLL_NS;
			}
			return NVML_SUCCESS;
		}
		d->seen_us = 0;
	}
	uint64_t uw;
	jl_est_init(&d->est, JL_EST_POWER_INSTANT, has_counter, limit_uw, NULL);
	if (!fn->DeviceGetFieldValues || read_power(d, &uw) != NVML_SUCCESS) {
		d->est.power = JL_EST_POWER_AVERAGE;
		if (!fn->DeviceGetPowerUsage || read_power(d, &uw) != NVML_SUCCESS)
			d->est.power = JL_EST_POWER_NONE;
	}
	if (has_counter || d->est.power != JL_EST_POWER_NONE)
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
	switch (d->est.power) {
	case JL_EST_POWER_HISTORY: return HISTORY_FETCH_US;
	case JL_EST_POWER_INSTANT: return POWER_SAMPLE_US;
	case JL_EST_POWER_AVERAGE: return AVERAGE_SAMPLE_US;
	case JL_EST_POWER_NONE: break;
	}
	return COUNTER_ONLY_SAMPLE_US;
}

/* NVML's "00000000:17:00.0" as sysfs writes a PCI address: "0000:17:00.0". */
static void pci_address(const char *bus_id, char *out, size_t len)
{
	const char *p = bus_id;
	if (strlen(p) == 16 && strncmp(p, "0000", 4) == 0 && p[8] == ':')
		p += 4;
	size_t i = 0;
	for (; p[i] && i + 1 < len; i++)
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a' : p[i]);
	out[i] = '\0';
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
	/* The GPU's domain is its PCI device. */
	struct jl_domain dom = jl_domain_none(JOULES_KIND_GPU);
	pci_address(g->bus_id, dom.device, sizeof dom.device);
	dom.alone = !g->bus_id[0];
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_nvml, &dom, id, name);
	if (!s) {
		free(d);
		return JOULES_ERR_NOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->nv = nv;
	d->handle = g->handle;
	d->index = i;
	s->data = d;
	jl_counter_init(&s->counter, 0, 1, 1, 0);
	s->pub.resolution_uj = 1;

	char why[JOULES_REASON_LEN], what[64];
	if (!g->handle) {
		snprintf(what, sizeof what, "nvmlDeviceGetHandleByIndex(%u)", i);
		jl_nvml_explain(nv, g->handle_rc, what, why, sizeof why);
		jl_sensor_unreadable(s, jl_nvml_error(g->handle_rc), "%s", why);
		return 0;
	}
	if (nv->fn.DeviceGetSamples && !(d->hist = malloc(sizeof *d->hist)))
		return JOULES_ERR_NOMEM;
	nvmlReturn_t rc = probe(d, why, sizeof why);
	if (rc != NVML_SUCCESS) {
		jl_sensor_unreadable(s, jl_nvml_error(rc), "%s", why);
		return 0;
	}
	if (!d->est.has_counter)
		s->pub.flags |= JOULES_SENSOR_INTEGRATED;
	s->sample_us = sample_interval(d);
	s->pub.refresh_us = d->est.power == JL_EST_POWER_HISTORY ? HISTORY_PERIOD_US : s->sample_us;
	/* A counter bridges a sleep exactly: sampled only while measured. */
	s->sample_on_demand = d->est.has_counter;
	if (d->est.power == JL_EST_POWER_HISTORY)
		s->settle_delay_us = HISTORY_SETTLE_DELAY_US;
	/*
	 * Prime it here, so the first read() has a value before the sampler
	 * runs (probe() did for the history).
	 */
	if (d->est.power != JL_EST_POWER_HISTORY)
		nvml_sample(ctx, s, jl_now_ns());
	return 0;
}

static int nvml_enumerate(joules_ctx *ctx, void *priv)
{
	struct jl_nvml *nv = priv;
	jl_nvml_load(nv, ctx->nvml_library);
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

static void nvml_shutdown(void *priv)
{
	jl_nvml_unload(priv);
}

/*
 * In a fork() child: nothing to undo. NVML's session is the parent's (its
 * state is not usable across fork: a child calls nvmlInit for its own), and
 * another thread of the parent may have been inside NVML at the fork, so
 * neither nvmlShutdown nor dlclose (which runs the library's destructors)
 * is called; the core frees the child's copy of priv.
 */
static void nvml_shutdown_forked(void *priv)
{
	(void)priv;
}

int jl_nvml_sensor(const joules_ctx *ctx, unsigned index)
{
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		const struct jl_sensor *s = &ctx->sensors[i];
		if (s->backend == &jl_backend_nvml && ((const struct gpu_data *)s->data)->index == index)
			return (int)i;
	}
	return -1;
}

const struct jl_backend jl_backend_nvml = {
	.name = "nvml",
	.priv_size = sizeof(struct jl_nvml),
	.enumerate = nvml_enumerate,
	.read = nvml_read,
	.sample = nvml_sample,
	.wake = nvml_wake,
	.settle = nvml_settle,
	.span_bound = nvml_span_bound,
	.release = nvml_release,
	.shutdown = nvml_shutdown,
	.release_forked = nvml_release_forked,
	.shutdown_forked = nvml_shutdown_forked,
	.gpu = &jl_nvml_gpu_ops,
};
