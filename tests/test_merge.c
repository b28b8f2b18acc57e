/* SPDX-License-Identifier: MIT */
/*
 * The reader choice of lib/domain.c, rule by rule, on candidates of two
 * sources given in both orders: the order of the sources decides nothing.
 * The sources are real backend structs with no operations (nothing is read
 * here); the candidates go through jl_sensor_add() as a backend's would.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "domain.h"
#include "harness.h"

static const struct jl_backend alpha = {.name = "alpha"};
static const struct jl_backend beta = {.name = "beta"};
static const struct jl_backend gamma_source = {.name = "powercap-gamma"};

struct cand {
	const struct jl_backend *b;
	bool readable, integrated;
	uint32_t cost_ns;
};

/* One domain (package 0) seen by the candidates, in this order: the reader's source. */
static const char *reader(const struct cand *c, size_t n, char *also, size_t also_len)
{
	joules_ctx *ctx = calloc(1, sizeof *ctx);
	ctx->sources = calloc(3, sizeof *ctx->sources);
	ctx->n_sources = 3;
	ctx->sources[0].backend = &alpha;
	ctx->sources[1].backend = &beta;
	ctx->sources[2].backend = &gamma_source;
	struct jl_domain dom = jl_domain_none(JOULES_KIND_CPU_PACKAGE);
	dom.package = 0;
	for (size_t i = 0; i < n; i++) {
		struct jl_sensor *s = jl_sensor_add(ctx, c[i].b, &dom, NULL, NULL);
		s->cost_ns = c[i].cost_ns;
		if (c[i].integrated)
			s->pub.flags |= JOULES_SENSOR_INTEGRATED;
		if (!c[i].readable) {
			jl_sensor_unreadable(s, JOULES_ERR_PERMISSION, "%s: no", c[i].b->name);
			jl_sensor_fix(s, "ask %s", c[i].b->name);
		}
	}
	CHECK_EQ_INT(jl_domains_merge(ctx), 0);
	CHECK_EQ_U64(ctx->n_sensors, 1);
	CHECK(strcmp(ctx->sensors[0].pub.id, "rapl:package-0") == 0);
	CHECK(strcmp(ctx->sensors[0].pub.device, "socket 0") == 0);
	static char name[16];
	snprintf(name, sizeof name, "%s", ctx->sensors[0].backend->name);
	snprintf(also, also_len, "%s|%s", ctx->sensors[0].pub.also, ctx->sensors[0].pub.reason);
	joules_close(ctx);
	return name;
}

/* The reader of {x, y} and of {y, x} is `want`; also names the other. */
static void both_orders(struct cand x, struct cand y, const char *want, const char *want_also)
{
	char also[600];
	struct cand xy[] = {x, y}, yx[] = {y, x};
	CHECK(strcmp(reader(xy, 2, also, sizeof also), want) == 0);
	CHECK_STR_HAS(also, want_also);
	CHECK(strcmp(reader(yx, 2, also, sizeof also), want) == 0);
	CHECK_STR_HAS(also, want_also);
}

static void test_readable_first(void)
{
	both_orders((struct cand){&alpha, false, false, 1}, (struct cand){&beta, true, true, 9},
		    "beta", "alpha (unreadable)|");
}

static void test_counter_over_integrated(void)
{
	both_orders((struct cand){&alpha, true, true, 1}, (struct cand){&beta, true, false, 9},
		    "beta", "alpha|");
}

static void test_cheaper_read(void)
{
	both_orders((struct cand){&alpha, true, false, 5}, (struct cand){&beta, true, false, 4},
		    "beta", "alpha|");
}

static void test_tie_by_source_name(void)
{
	both_orders((struct cand){&alpha, true, false, 4}, (struct cand){&beta, true, false, 4},
		    "alpha", "beta|");
}

/* Nobody can read it: the reader's reason, then the other's fix. */
static void test_unreadable_gets_the_others_fix(void)
{
	both_orders((struct cand){&alpha, false, false, 4}, (struct cand){&beta, false, false, 5},
		    "alpha", "beta (unreadable)|alpha: no; or let beta read it: ask beta");
}

/* Two candidates of one source for one domain (intel-rapl and intel-rapl-mmio): no also. */
static void test_same_source_twice(void)
{
	char also[600];
	struct cand c[] = {{&alpha, true, false, 4}, {&alpha, true, false, 4}};
	CHECK(strcmp(reader(c, 2, also, sizeof also), "alpha") == 0);
	CHECK(strcmp(also, "|") == 0);
}

/* More sources than `also` holds: whole names, then "...". */
static void test_also_cut_between_sources(void)
{
	char also[600];
	struct cand c[] = {{&alpha, true, false, 1}, {&beta, false, false, 2},
			   {&gamma_source, false, false, 3}};
	CHECK(strcmp(reader(c, 3, also, sizeof also), "alpha") == 0);
	CHECK(strcmp(also, "beta (unreadable), ...|") == 0);
}

int main(void)
{
	static const struct test tests[] = {
		TEST(test_readable_first),
		TEST(test_counter_over_integrated),
		TEST(test_cheaper_read),
		TEST(test_tie_by_source_name),
		TEST(test_unreadable_gets_the_others_fix),
		TEST(test_same_source_twice),
		TEST(test_also_cut_between_sources),
	};
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
