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
	bool kick;  /* look at the sensors again now (a hurry, a wake, a hold) */
	bool awake; /* the on-demand sensors are sampled; false: they sleep */
	unsigned holds;           /* regions running, a region sampler's tick */
	uint64_t linger_until_ns; /* the last read + JL_SAMPLER_LINGER_NS */
	uint64_t *due_ns;  /* next sample time, per sensor */
	uint64_t *last_ns; /* last sample time, per sensor */
};

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
				 .tv_nsec = (long)(ns % 1000000000u)};
}

/*
 * Sample what is due (sp->lock held, let go around each sample); return
 * when the next sample is due, UINT64_MAX when none is (all asleep).
 */
static uint64_t sample_due(joules_ctx *ctx, struct jl_sampler *sp, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct jl_sensor *s = &ctx->sensors[i];
		if (!s->sample_us || (s->sample_on_demand && !sp->awake))
			continue;
		if (sp->due_ns[i] <= now) {
			uint64_t step = (uint64_t)s->sample_us * 1000u;
			sp->due_ns[i] += step;
			if (sp->due_ns[i] <= now) /* fell behind: skip, don't burst */
				sp->due_ns[i] = now + step;
			sp->last_ns[i] = now;
			/*
			 * Unlocked: a wake never runs beside this, since it wakes
			 * only sensors that sleep, and these are skipped above.
			 */
			pthread_mutex_unlock(&sp->lock);
			s->backend->sample(ctx, s, now);
			pthread_mutex_lock(&sp->lock);
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
		sp->kick = false;
		uint64_t now = jl_now_ns();
		if (!sp->holds && now >= sp->linger_until_ns)
			sp->awake = false; /* nothing measured: the on-demand sensors sleep */
		uint64_t next = sample_due(ctx, sp, now);
		if (sp->awake && !sp->holds && sp->linger_until_ns < next)
			next = sp->linger_until_ns; /* to put them to sleep then */
		if (next == UINT64_MAX) {
			while (!sp->stop && !sp->kick)
				pthread_cond_wait(&sp->wake, &sp->lock);
			continue;
		}
		struct timespec at = to_timespec(next);
		while (!sp->stop && !sp->kick &&
		       pthread_cond_timedwait(&sp->wake, &sp->lock, &at) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

/* Wake the sleeping on-demand sensors, on this thread (sp->lock held). */
static void wake_locked(joules_ctx *ctx, struct jl_sampler *sp, uint64_t now)
{
	if (sp->awake)
		return;
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		struct jl_sensor *s = &ctx->sensors[i];
		if (!s->sample_us || !s->sample_on_demand)
			continue;
		s->backend->wake(ctx, s, now);
		sp->due_ns[i] = now + (uint64_t)s->sample_us * 1000u;
		sp->last_ns[i] = now;
	}
	sp->awake = true;
	sp->kick = true;
	pthread_cond_signal(&sp->wake);
}

void jl_sampler_touch(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	uint64_t now = jl_now_ns();
	pthread_mutex_lock(&sp->lock);
	sp->linger_until_ns = now + JL_SAMPLER_LINGER_NS;
	wake_locked(ctx, sp, now);
	pthread_mutex_unlock(&sp->lock);
}

void jl_sampler_hold(joules_ctx *ctx, int delta)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	if (delta < 0 && sp->holds < (unsigned)-delta)
		sp->holds = 0;
	else
		sp->holds += (unsigned)delta;
	if (sp->holds)
		wake_locked(ctx, sp, jl_now_ns());
	sp->kick = true;
	pthread_cond_signal(&sp->wake);
	pthread_mutex_unlock(&sp->lock);
}

bool jl_sampler_follow_begin(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return true; /* no thread: nothing sleeps */
	pthread_mutex_lock(&sp->lock);
	bool awake = sp->awake;
	if (awake)
		sp->holds++;
	pthread_mutex_unlock(&sp->lock);
	return awake;
}

void jl_sampler_follow_end(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	/* No kick: awake, the thread wakes for its next sample and sleeps them then. */
	if (sp->holds)
		sp->holds--;
	pthread_mutex_unlock(&sp->lock);
}

bool jl_sampler_on_demand(const struct jl_sensor *s)
{
	return s->sample_us && s->sample_on_demand;
}

void jl_sampler_hurry(joules_ctx *ctx, size_t i, uint64_t t_ns)
{
	struct jl_sampler *sp = ctx->sampler;
	const struct jl_sensor *s = &ctx->sensors[i];
	if (!sp || !s->sample_us || !s->settle_delay_us)
		return;
	pthread_mutex_lock(&sp->lock);
	uint64_t at = t_ns + (uint64_t)s->settle_delay_us * 1000u;
	if (at < sp->last_ns[i] + JL_SAMPLER_HURRY_GAP_NS)
		at = sp->last_ns[i] + JL_SAMPLER_HURRY_GAP_NS;
	/* Asleep, nothing waits for it: the samples came while it lingered. */
	if ((sp->awake || !s->sample_on_demand) && at < sp->due_ns[i]) {
		sp->due_ns[i] = at;
		sp->kick = true;
		pthread_cond_signal(&sp->wake);
	}
	pthread_mutex_unlock(&sp->lock);
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
	sp->last_ns = calloc(ctx->n_sensors, sizeof *sp->last_ns);
	pthread_condattr_t attr;
	if (!sp->due_ns || !sp->last_ns || pthread_condattr_init(&attr)) {
		free(sp->due_ns);
		free(sp->last_ns);
		free(sp);
		return JOULES_ERR_NOMEM;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&sp->lock, NULL);
	/* joules_open() primed the sensors: they linger as after a read. */
	sp->awake = true;
	sp->linger_until_ns = jl_now_ns() + JL_SAMPLER_LINGER_NS;
	ctx->sampler = sp;
	int e = pthread_create(&sp->thread, NULL, sampler_main, ctx);
	if (e) {
		ctx->sampler = NULL;
		pthread_cond_destroy(&sp->wake);
		pthread_mutex_destroy(&sp->lock);
		free(sp->due_ns);
		free(sp->last_ns);
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
	free(sp->last_ns);
	free(sp);
	ctx->sampler = NULL;
}

void jl_sampler_forget(joules_ctx *ctx)
{
	struct jl_sampler *sp = ctx->sampler;
	if (!sp)
		return;
	free(sp->due_ns);
	free(sp->last_ns);
	free(sp);
	ctx->sampler = NULL;
}
