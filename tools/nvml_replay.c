/* SPDX-License-Identifier: MIT */
/*
 * Replays a GPU's raw NVML traces (tools/nvml_trace: the driver's power
 * samples and the energy counter, as recorded on the GPU machine) through
 * libjoules' own estimator (lib/backends/nvml/nvml_estimator.c), polling
 * the counter every POLL_MS as the sampler would, and prints for each
 * region asked for (a line "T0_NS T1_NS", in order of T1) its settled
 * energy and its bound as a region gets them (the ends' uncertainties and
 * jl_est_span_bound). So the estimate, its edge model and its uncertainty
 * can be studied on any machine from one recording (tools/edges_analyze.py):
 *
 *   nvml_replay SAMPLES.csv COUNTER.csv POLL_MS [flat] < regions > out.csv
 *
 * `flat` takes the power as flat over each sample window, edges included
 * (the estimate before edges were taken as steps), for comparison.
 * Output: t0_ns,t1_ns,found,energy_uj,bound_uj,gain (found: 1 when both
 * ends were covered). Asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "nvml_estimator.h"

struct sample {
	long long fetched, real, ts_us, mw;
};
struct poll {
	long long mono_b, mj;
};

/* A trace, past its header line; exits when it cannot be opened. */
static FILE *open_trace(const char *path)
{
	FILE *f = fopen(path, "r");
	char header[256];
	if (!f || !fgets(header, sizeof header, f)) {
		perror(path);
		exit(1);
	}
	return f;
}

static size_t load_samples(const char *path, struct sample **out)
{
	FILE *f = open_trace(path);
	char line[256];
	size_t n = 0, cap = 1024;
	struct sample *s = malloc(cap * sizeof *s);
	while (fgets(line, sizeof line, f)) {
		if (n == cap)
			s = realloc(s, (cap *= 2) * sizeof *s);
		if (sscanf(line, "%lld,%lld,%lld,%lld", &s[n].fetched, &s[n].real, &s[n].ts_us,
			   &s[n].mw) == 4)
			n++;
	}
	fclose(f);
	*out = s;
	return n;
}

static size_t load_polls(const char *path, struct poll **out)
{
	FILE *f = open_trace(path);
	char line[256];
	size_t n = 0, cap = 1024;
	struct poll *p = malloc(cap * sizeof *p);
	while (fgets(line, sizeof line, f)) {
		long long a, b, r, rc, mj;
		if (sscanf(line, "%lld,%lld,%lld,%lld,%lld", &a, &b, &r, &rc, &mj) != 5 || rc)
			continue;
		if (n == cap)
			p = realloc(p, (cap *= 2) * sizeof *p);
		p[n++] = (struct poll){b, mj};
	}
	fclose(f);
	*out = p;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "flat"))) {
		fprintf(stderr, "usage: nvml_replay SAMPLES.csv COUNTER.csv POLL_MS [flat]"
				" < regions (lines \"T0_NS T1_NS\")\n");
		return 2;
	}
	struct sample *s;
	struct poll *p;
	size_t ns = load_samples(argv[1], &s), np = load_polls(argv[2], &p);
	long long poll_ns = atoll(argv[3]) * 1000000ll;
	size_t nq = 0, cap = 1024;
	long long(*q)[2] = malloc(cap * sizeof *q);
	while (scanf("%lld %lld", &q[nq][0], &q[nq][1]) == 2)
		if (++nq == cap)
			q = realloc(q, (cap *= 2) * sizeof *q);

	static struct jl_gpu_est e;
	static struct jl_history h;
	jl_est_init(&e, JL_EST_POWER_HISTORY, true, 700000000u, &h);
	h.steps = argc == 4;
	size_t i = 0, j = 0, k = 0;
	long long next_poll = 0;
	unsigned long long seen = 0;
	bool first = true;
	puts("t0_ns,t1_ns,found,energy_uj,bound_uj,gain");
	while (k < nq) {
		long long ts = i < ns ? s[i].fetched : -1, tp = j < np ? p[j].mono_b : -1;
		/* Answer the regions whose end is well covered by what came so far. */
		long long now = ts < 0 ? tp : tp < 0 ? ts : ts < tp ? ts : tp;
		if (now < 0 || q[k][1] + 1500000000ll <= now) {
			uint64_t e0 = 0, e1 = 0, u0 = 0, u1 = 0, bound = 0;
			bool found = jl_est_at(&e, (uint64_t)q[k][0], &e0, &u0) == JL_HISTORY_FOUND &&
				     jl_est_at(&e, (uint64_t)q[k][1], &e1, &u1) == JL_HISTORY_FOUND;
			if (found)
				bound = u0 + u1 +
					jl_est_span_bound(&e, (uint64_t)q[k][0], (uint64_t)q[k][1], e1 - e0);
			printf("%lld,%lld,%d,%llu,%llu,%.6f\n", q[k][0], q[k][1], found,
			       (unsigned long long)(e1 - e0), (unsigned long long)bound, e.gain);
			k++;
			continue;
		}
		if (ts >= 0 && (tp < 0 || ts <= tp)) {
			/* One fetch: every sample of that call, as fetch_samples() does. */
			size_t end = i;
			while (end < ns && s[end].fetched == s[i].fetched)
				end++;
			for (; i < end; i++) {
				unsigned long long us = (unsigned long long)s[i].ts_us;
				if (us <= seen || (first && i + 1 < end))
					continue;
				seen = us;
				long long off = s[i].real - s[i].fetched;
				jl_est_window(&e, (uint64_t)s[i].mw * 1000u,
					      (uint64_t)((long long)us * 1000 - off));
			}
			first = false;
			jl_est_windows_done(&e);
		} else {
			if (p[j].mono_b >= next_poll) {
				jl_est_counter(&e, (uint64_t)p[j].mj, (uint64_t)p[j].mono_b);
				next_poll = p[j].mono_b + poll_ns;
			}
			j++;
		}
	}
	free(s);
	free(p);
	free(q);
	return 0;
}
