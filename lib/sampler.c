/* SPDX-License-Identifier: MIT */
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

struct jl_sampler {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	uint64_t *due_ns; /* next sample time, per sensor */
};

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
				 .tv_nsec = (long)(ns % 1000000000u)};
}

/* Sample what is due; return when the next sample is due. */
static uint64_t sample_due(joules_ctx *ctx, struct jl_sampler *sp)
{
	uint64_t now = jl_now_ns(), next = UINT64_MAX;
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct jl_sensor *s = &ctx->sensors[i];
		if (!s->sample_us)
			continue;
		if (sp->due_ns[i] <= now) {
			s->backend->sample(ctx, s, now);
			uint64_t step = (uint64_t)s->sample_us * 1000u;
			sp->due_ns[i] += step;
			if (sp->due_ns[i] <= now) /* fell behind: skip, don't burst */
				sp->due_ns[i] = now + step;
		}
		if (sp->due_ns[i] < next)
			next = sp->due_ns[i];
	}
	return next;
}

static void *sampler_main(void *arg)
{
	joules_ctx *ctx = arg;
	struct jl_sampler *sp = ctx->sampler;
	pthread_mutex_lock(&sp->lock);
	while (!sp->stop) {
		pthread_mutex_unlock(&sp->lock);
		struct timespec at = to_timespec(sample_due(ctx, sp));
		pthread_mutex_lock(&sp->lock);
		while (!sp->stop && pthread_cond_timedwait(&sp->wake, &sp->lock, &at) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

int jl_sampler_start(joules_ctx *ctx)
{
	bool needed = false;
	for (size_t i = 0; i < ctx->n_sensors; i++)
		needed |= ctx->sensors[i].sample_us > 0;
	if (!needed)
		return 0;
	struct jl_sampler *sp = calloc(1, sizeof *sp);
	if (!sp)
		return JOULES_ERR_NOMEM;
	sp->due_ns = calloc(ctx->n_sensors, sizeof *sp->due_ns);
	pthread_condattr_t attr;
	if (!sp->due_ns || pthread_condattr_init(&attr)) {
		free(sp->due_ns);
		free(sp);
		return JOULES_ERR_NOMEM;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&sp->lock, NULL);
	ctx->sampler = sp;
	int e = pthread_create(&sp->thread, NULL, sampler_main, ctx);
	if (e) {
		ctx->sampler = NULL;
		pthread_cond_destroy(&sp->wake);
		pthread_mutex_destroy(&sp->lock);
		free(sp->due_ns);
		free(sp);
		return jl_fail(ctx, JOULES_ERR_NOMEM, "pthread_create of the sampler thread: %s",
			       strerror(e));
	}
	return 0;
}

void jl_sampler_stop(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stop = true;
	pthread_cond_signal(&sp->wake);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->thread, NULL);
	pthread_cond_destroy(&sp->wake);
	pthread_mutex_destroy(&sp->lock);
	free(sp->due_ns);
	free(sp);
	ctx->sampler = NULL;
}

void jl_sampler_forget(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	free(sp->due_ns);
	free(sp);
	ctx->sampler = NULL;
}
