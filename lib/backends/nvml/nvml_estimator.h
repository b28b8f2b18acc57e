/* SPDX-License-Identifier: MIT */
/*
 * A GPU's energy estimate from two imperfect sources (docs/nvml.md): the
 * driver's energy counter, exact over long spans but moving in ~100 ms
 * steps whose times are known only to half a poll gap, and power samples,
 * prompt but with a scale error. The estimate integrates the power, scaled
 * by a gain that the counter keeps calibrated, and never jumps.
 *
 * Pure arithmetic on the samples it is given, with their times: no NVML,
 * no clock, no locking (the caller holds the GPU's lock). Fed by the NVML
 * backend's sampler thread; tested on synthetic streams (tests/test_nvml_estimator.c).
 */
#ifndef JOULES_NVML_ESTIMATOR_H
#define JOULES_NVML_ESTIMATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "../../history.h"
#include "../../integrator.h"

/* Counter steps kept to calibrate the gain: ~12 s at one step per 100 ms. */
#define JL_EST_STEPS 128
/*
 * The energy counter moves once per ~100 ms (measured: docs/nvml.md): a
 * value read at t was produced within (t - this, t].
 */
#define JL_EST_COUNTER_PERIOD_NS 100000000ull
/* Counter steps waiting for the power samples that cover them. */
#define JL_EST_PENDING 16

/* Where the power comes from. */
enum jl_est_power {
	JL_EST_POWER_NONE,    /* no power: the counter alone */
	JL_EST_POWER_HISTORY, /* windows: each sample the mean power since the one before */
	JL_EST_POWER_INSTANT, /* points, integrated as trapezoids */
	JL_EST_POWER_AVERAGE, /* a trailing average, integrated as points */
};

struct jl_est_step {
	uint64_t c_uj, ig_uj, t_ns, phase_uj; /* phase_uj: the energy of half its poll gap */
};

struct jl_est_pending {
	uint64_t c_uj, t_ns, half_ns;
};

struct jl_gpu_est {
	enum jl_est_power power;
	bool has_counter;
	uint64_t limit_uw;        /* power limit, for the uncertainty of unseen samples; 0 */
	struct jl_integrator ig;  /* power integrated so far */
	struct jl_history *hist;  /* POWER_HISTORY: the estimate at each sample (the caller's) */
	uint64_t counter_mj;      /* last counter value seen */
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
	struct jl_est_step steps[JL_EST_STEPS];
	unsigned n_steps, next_step;
	struct jl_est_pending pending[JL_EST_PENDING];
	unsigned n_pending;
	uint64_t reported_uj; /* last value read: readings never go back */
	bool calibrated;      /* the counter has calibrated the ratio at least once */
	double ratio_u;       /* the fitted ratio's standard error at the last calibration */
	double level_uj;      /* the fit's counter - the estimate, when first fitted */
	bool leveled;         /* level_uj is set (since the last restart) */
	bool polled;
};

/* A fresh estimate (gain 1). `hist`: the ring for POWER_HISTORY, else NULL. */
void jl_est_init(struct jl_gpu_est *e, enum jl_est_power power, bool has_counter,
		 uint64_t limit_uw, struct jl_history *hist);

/* A history sample: mean power `uw` over the window ending at end_ns. */
void jl_est_window(struct jl_gpu_est *e, uint64_t uw, uint64_t end_ns);
/* After a batch of windows: calibrate with the counter steps they now cover. */
void jl_est_windows_done(struct jl_gpu_est *e);
/* An instant (or average) power reading at t_ns. */
void jl_est_power(struct jl_gpu_est *e, uint64_t uw, uint64_t t_ns);
/* The counter read `mj` at now_ns; a drop is a driver reset (restarts the estimate). */
void jl_est_counter(struct jl_gpu_est *e, uint64_t mj, uint64_t now_ns);

/*
 * The power integral has a hole: the sampler slept (nothing was measured)
 * longer than the driver keeps its samples. Resume at the counter `mj`,
 * read at now_ns: its value was produced within the last counter period
 * (JL_EST_COUNTER_PERIOD_NS), so it stands for the middle of that, ± half
 * of it. The estimate there is the counter less the difference kept from
 * the last step, so it moves by the counter's energy over the hole and
 * never below the last value read; power integrates again from there, at
 * `uw` (the newest power known) until the next window or reading. The
 * steps kept for the ratio span the hole without its integral: dropped
 * (the ratio and gain stay). Its cost: the energy of that half period at
 * `uw`, plus the counter's 1 mJ, in the bound until the next step. A
 * counter lower than before is a driver reset: restarted as jl_est_counter does.
 */
void jl_est_resume(struct jl_gpu_est *e, uint64_t mj, uint64_t now_ns, uint64_t uw);

/*
 * The estimate at now_ns (µJ), extrapolating the last power over at most
 * 1 s, never below the last value read; *unc its error bound.
 */
uint64_t jl_est_read(struct jl_gpu_est *e, uint64_t now_ns, uint64_t *unc);

/*
 * The relative error of a difference of two estimates beyond their own
 * uncertainties (the gain's), ppm: see docs/nvml.md, "Uncertainty".
 */
uint32_t jl_est_scale_ppm(const struct jl_gpu_est *e);
/*
 * How far a difference of two final estimates, energy_uj over
 * [t0_ns, t1_ns], may be off beyond its two ends' own uncertainties (the
 * gain's scale, the samples' disagreement with the counter), µJ.
 */
uint64_t jl_est_span_bound(const struct jl_gpu_est *e, uint64_t t0_ns, uint64_t t1_ns,
			   uint64_t energy_uj);
/*
 * The estimate at t_ns from the history (POWER_HISTORY), with its bound:
 * JL_HISTORY_FOUND, or LATER (not covered yet) / EARLIER (too old).
 */
enum jl_history_lookup jl_est_at(const struct jl_gpu_est *e, uint64_t t_ns, uint64_t *est,
				 uint64_t *unc);

#endif
