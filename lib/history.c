/* SPDX-License-Identifier: MIT */
#include "history.h"

/* The k-th oldest point kept. */
static const struct jl_history_point *nth(const struct jl_history *h, unsigned k)
{
	return &h->pt[(h->next + JL_HISTORY_LEN - h->n + k) % JL_HISTORY_LEN];
}

void jl_history_clear(struct jl_history *h)
{
	h->next = h->n = 0;
}

void jl_history_add(struct jl_history *h, struct jl_history_point p)
{
	if (h->n && p.t_ns <= nth(h, h->n - 1)->t_ns)
		return;
	h->pt[h->next] = p;
	h->next = (h->next + 1) % JL_HISTORY_LEN;
	if (h->n < JL_HISTORY_LEN)
		h->n++;
}

bool jl_history_last(const struct jl_history *h, struct jl_history_point *p)
{
	if (!h->n)
		return false;
	*p = *nth(h, h->n - 1);
	return true;
}

static uint64_t lerp(uint64_t a, uint64_t b, uint64_t num, uint64_t den)
{
	return a + (uint64_t)((unsigned __int128)(b - a) * num / den);
}

/* The index of the first point at or after t_ns (the history covers t_ns). */
static unsigned find(const struct jl_history *h, uint64_t t_ns)
{
	unsigned lo = 0, hi = h->n - 1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (nth(h, mid)->t_ns < t_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Mean rate of the estimate over window k (from point k-1 to k), µJ per s. */
static double rate(const struct jl_history *h, unsigned k)
{
	const struct jl_history_point *a = nth(h, k - 1), *b = nth(h, k);
	return (double)(b->est_uj - a->est_uj) * 1e9 / (double)(b->t_ns - a->t_ns);
}

uint64_t jl_history_spread(const struct jl_history *h, uint64_t t_ns)
{
	if (h->n < 2 || t_ns <= nth(h, 0)->t_ns || t_ns > nth(h, h->n - 1)->t_ns)
		return 0;
	unsigned k = find(h, t_ns);
	uint64_t to_a = t_ns - nth(h, k - 1)->t_ns, to_b = nth(h, k)->t_ns - t_ns;
	double r = rate(h, k), worst = 0;
	for (unsigned j = k > 1 ? k - 1 : k; j <= k + 1 && j < h->n; j++) {
		double dr = rate(h, j) > r ? rate(h, j) - r : r - rate(h, j);
		if (dr > worst)
			worst = dr;
	}
	return (uint64_t)(worst * (double)(to_a < to_b ? to_a : to_b) / 1e9);
}

/*
 * Whether window k (from point k-1 to k) holds an edge, and if so how far
 * into the window's energy t_ns is (*f, 0..1). The history takes edges as
 * steps when the window's mean power lies strictly between its neighbours'
 * (a rise or a fall): one step from the previous window's power to the
 * next one's, placed so that the window's energy is kept (docs/nvml.md,
 * "Edges"). Otherwise the power is flat over the window.
 */
static bool step_fraction(const struct jl_history *h, unsigned k, uint64_t t_ns, double *f)
{
	const struct jl_history_point *a = nth(h, k - 1), *b = nth(h, k);
	if (!h->steps || k < 2 || k + 1 >= h->n || b->est_uj == a->est_uj)
		return false;
	double r0 = rate(h, k - 1), r1 = rate(h, k), r2 = rate(h, k + 1);
	if (!((r0 > r1 && r1 > r2) || (r0 < r1 && r1 < r2)))
		return false;
	double len = (double)(b->t_ns - a->t_ns), x = (double)(t_ns - a->t_ns);
	double e = (double)(b->est_uj - a->est_uj);     /* µJ; rates in µJ/s, times in ns */
	double edge = len * (r1 - r2) / (r0 - r2);      /* r0 before it, r2 after */
	double done = x <= edge ? r0 * x / 1e9 : e - r2 * (len - x) / 1e9;
	*f = done <= 0 ? 0 : done >= e ? 1 : done / e;
	return true;
}

uint64_t jl_history_peak_uw(const struct jl_history *h, uint64_t t0_ns, uint64_t t1_ns)
{
	if (h->n < 2 || t0_ns < nth(h, 0)->t_ns)
		return 0;
	double peak = 0;
	for (unsigned k = find(h, t0_ns); k < h->n; k++) {
		if (k > 0 && rate(h, k) > peak)
			peak = rate(h, k);
		if (nth(h, k)->t_ns >= t1_ns)
			break;
	}
	return (uint64_t)peak; /* µJ/s = µW */
}

enum jl_history_lookup jl_history_at(const struct jl_history *h, uint64_t t_ns,
				     struct jl_history_point *out)
{
	if (!h->n || t_ns < nth(h, 0)->t_ns)
		return JL_HISTORY_EARLIER;
	if (t_ns > nth(h, h->n - 1)->t_ns)
		return JL_HISTORY_LATER;
	unsigned lo = find(h, t_ns);
	const struct jl_history_point *b = nth(h, lo);
	if (b->t_ns == t_ns || lo == 0) {
		*out = *b;
		return JL_HISTORY_FOUND;
	}
	/* A step needs the next window's power: wait for it. */
	if (h->steps && lo + 1 >= h->n)
		return JL_HISTORY_LATER;
	const struct jl_history_point *a = nth(h, lo - 1);
	double f;
	if (step_fraction(h, lo, t_ns, &f)) {
		*out = (struct jl_history_point){
			t_ns, a->ig_uj + (uint64_t)(f * (double)(b->ig_uj - a->ig_uj) + 0.5),
			a->est_uj + (uint64_t)(f * (double)(b->est_uj - a->est_uj) + 0.5)};
		return JL_HISTORY_FOUND;
	}
	uint64_t num = t_ns - a->t_ns, den = b->t_ns - a->t_ns;
	*out = (struct jl_history_point){t_ns, lerp(a->ig_uj, b->ig_uj, num, den),
					 lerp(a->est_uj, b->est_uj, num, den)};
	return JL_HISTORY_FOUND;
}
