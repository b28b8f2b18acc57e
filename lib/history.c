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
	const struct jl_history_point *a = nth(h, lo - 1);
	uint64_t num = t_ns - a->t_ns, den = b->t_ns - a->t_ns;
	*out = (struct jl_history_point){t_ns, lerp(a->ig_uj, b->ig_uj, num, den),
					 lerp(a->est_uj, b->est_uj, num, den)};
	return JL_HISTORY_FOUND;
}
