/* SPDX-License-Identifier: MIT */
/*
 * The daemon source: sensors read through joulesd's sealed page
 * (daemon/proto.h). A reading is a few loads under the page's seqlock,
 * extrapolated from the daemon's last read to now with its recent power;
 * the extrapolated part is its uncertainty and the reading is provisional
 * until joules_settle() interpolates it between the daemon's reads.
 *
 * Which source wins (JOULES_POLICY_AUTO): the daemon, for every domain it
 * serves that this process cannot read directly, or whose direct counter
 * wraps (the daemon polls it often enough to see every wrap, so regions of
 * any length stay exact); direct sources keep the others (GPUs through
 * NVML need no privilege). JOULES_POLICY_DAEMON: the daemon for every
 * domain it serves, and joules_open fails when it cannot be reached.
 * JOULES_POLICY_DIRECT: the daemon is not asked. Nor is the default
 * daemon for a context over another sysfs tree than /sys (see same_machine).
 *
 * A page older than STALE_INTERVALS update intervals (or marked stopped)
 * means the daemon is gone: readings fail with JOULES_ERR_LOST saying so,
 * and the source reconnects (at most every RETRY_NS). A restarted daemon
 * has a new generation: every sensor's `resets` goes up by one there, so a
 * region across the gap is refused with JOULES_ERR_RESET, and its energy
 * continues from the last value given, never going back.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../backend.h"
#include "conn.h"

#define STALE_INTERVALS 50          /* 0.5 s at the default 10 ms */
#define STALE_MIN_NS 200000000ull   /* never less than this */
#define RETRY_NS 1000000000ull      /* reconnect attempts, at most this often */
/*
 * The writer holds the seqlock for microseconds, unless it is preempted
 * mid-update (a loaded machine): after SEQLOCK_SPINS tries a reader yields
 * the CPU between tries, and gives up only after SEQLOCK_PATIENCE_NS.
 */
#define SEQLOCK_SPINS 100
#define SEQLOCK_PATIENCE_NS 100000000ull
#define SETTLE_GIVE_UP_NS 1000000000ull

const struct jl_backend jl_backend_daemon;

struct daemon_state {
	char path[108];
	struct jl_daemon_conn conn;
	uint32_t generations; /* daemon starts seen after the first */
	uint64_t next_retry_ns;
	char why[JL_MSG_LEN]; /* why the daemon is not serving now */
	/*
	 * One clock read per snapshot: a snapshot reads sensors in index
	 * order, so a sensor whose index is not above the last one read
	 * starts a new snapshot (and a new `now`); the others share it.
	 */
	size_t last_index;
	uint64_t snapshot_ns;
};

struct daemon_sensor {
	struct daemon_state *d;
	uint32_t index;       /* in the daemon's list; UINT32_MAX when it has none */
	char id[JOULES_ID_LEN]; /* the daemon's id of it: found again after a restart */
	uint32_t generations; /* d->generations when index was last mapped */
	uint32_t restarts;    /* daemon restarts this sensor has been read across */
	bool primed;
	uint64_t offset;   /* added to the daemon's energy: continuity across restarts */
	uint64_t last_raw; /* the last value given */
};

static const char *socket_path(void)
{
	const char *p = getenv("JOULES_SOCKET");
	return p && *p ? p : JLD_DEFAULT_SOCKET;
}

/*
 * The default daemon reads the real /sys: a context over another tree (a
 * recorded or fake one) does not mix its sensors with the machine's,
 * unless the caller names a daemon ($JOULES_SOCKET) or asks for one.
 */
static bool same_machine(const joules_ctx *ctx)
{
	const char *p = getenv("JOULES_SOCKET");
	return (p && *p) || ctx->policy == JOULES_POLICY_DAEMON ||
	       strcmp(ctx->sysfs_root, "/sys") == 0;
}

static int find_meta(const struct jl_daemon_conn *c, const char *id)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (strncmp(c->meta[i].id, id, sizeof c->meta[i].id) == 0)
			return (int)i;
	return -1;
}

/*
 * The cost the domain merge (lib/domain.c) weighs against direct readers:
 * a wrapping counter is best read here (a few loads, and every wrap seen
 * by the daemon); any other domain only when no direct reader can read it
 * (GPUs: NVML needs no privilege and settles its own readings). With
 * JOULES_POLICY_DAEMON the daemon reads every domain it serves.
 */
#define DAEMON_COST_NS 100u
#define DAEMON_FALLBACK_COST_NS 1000000000u

static uint32_t cost_of(const joules_ctx *ctx, const struct jld_sensor *m)
{
	if (ctx->policy == JOULES_POLICY_DAEMON)
		return 1;
	return m->range_uj ? DAEMON_COST_NS : DAEMON_FALLBACK_COST_NS;
}

static struct jl_domain domain_of(const struct jld_sensor *m)
{
	struct jl_domain dom = jl_domain_none(m->kind);
	dom.package = m->dom_package;
	dom.die = m->dom_die;
	dom.cpu = m->dom_cpu;
	dom.instance = m->dom_instance;
	dom.alone = m->dom_alone != 0;
	snprintf(dom.device, sizeof dom.device, "%.63s", m->dom_device);
	snprintf(dom.part, sizeof dom.part, "%.31s", m->dom_part);
	snprintf(dom.within, sizeof dom.within, "%.31s", m->dom_within);
	return dom;
}

/*
 * Through the page a sensor moves no more often than the daemon updates
 * it (page_ns): that is its refresh here, not the counter's own.
 */
static void fill_from_meta(struct jl_sensor *s, const struct jld_sensor *m, uint64_t page_ns)
{
	uint64_t page_us = page_ns / 1000u;
	snprintf(s->pub.source, sizeof s->pub.source, "%.15s", m->source);
	s->pub.resolution_uj = m->resolution_uj;
	s->pub.refresh_us = m->refresh_us > page_us ? m->refresh_us
						    : (uint32_t)(page_us < UINT32_MAX ? page_us : UINT32_MAX);
	s->pub.flags = JOULES_SENSOR_READABLE | JOULES_SENSOR_VIA_DAEMON |
		       (m->flags & JOULES_SENSOR_INTEGRATED);
	/* Extended by the daemon: a 64-bit count that never wraps here. */
	jl_counter_init(&s->counter, 0, 1, 1, 0);
}

/* A candidate for the domain of daemon record i. */
static int offer(joules_ctx *ctx, struct daemon_state *d, uint32_t i)
{
	const struct jld_sensor *m = &d->conn.meta[i];
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN];
	snprintf(id, sizeof id, "%.63s", m->id);
	snprintf(name, sizeof name, "%.63s", m->name);
	struct jl_domain dom = domain_of(m);
	struct daemon_sensor *ds = calloc(1, sizeof *ds);
	if (!ds)
		return JOULES_ERR_NOMEM;
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_daemon, &dom, id, name);
	if (!s) {
		free(ds);
		return JOULES_ERR_NOMEM;
	}
	*ds = (struct daemon_sensor){.d = d, .index = i};
	memcpy(ds->id, id, sizeof ds->id);
	s->data = ds;
	s->cost_ns = cost_of(ctx, m);
	fill_from_meta(s, m, d->conn.interval_ns);
	return 0;
}

/*
 * No daemon: the candidates this user cannot read directly say how to get
 * them without root, after their own reason (when the whole fits; the
 * source's note always says it). The one place a source touches others'
 * candidates: only their reason, only for a permission refusal.
 */
static void explain_fix(joules_ctx *ctx, const char *why)
{
	for (size_t k = 0; k < ctx->n_sensors; k++) {
		struct jl_sensor *s = &ctx->sensors[k];
		if (s->unreadable != JOULES_ERR_PERMISSION)
			continue;
		char reason[2 * JOULES_REASON_LEN];
		int len = snprintf(reason, sizeof reason, "%s; or, without root, through joulesd: %s",
				   s->pub.reason, why);
		if (len < 0 || (size_t)len >= sizeof s->pub.reason)
			continue;
		memcpy(s->pub.reason, reason, (size_t)len + 1);
		snprintf(s->error, sizeof s->error, "%s", s->pub.reason);
	}
}

static int daemon_enumerate(joules_ctx *ctx, void *priv)
{
	struct daemon_state *d = priv;
	if (ctx->policy == JOULES_POLICY_DIRECT) {
		jl_note(ctx, "not asked: the direct policy was chosen");
		return 0;
	}
	if (!same_machine(ctx)) {
		jl_note(ctx, "not asked: this context reads %s, not the /sys the daemon at %s reads "
			"(set JOULES_SOCKET to use a daemon of that tree)", ctx->sysfs_root,
			JLD_DEFAULT_SOCKET);
		return 0;
	}
	snprintf(d->path, sizeof d->path, "%s", socket_path());
	if (jl_daemon_connect(d->path, &d->conn, d->why, sizeof d->why) != JL_DAEMON_OK) {
		jl_note(ctx, "%s", d->why);
		explain_fix(ctx, d->why);
		if (ctx->policy == JOULES_POLICY_DAEMON)
			return jl_fail(ctx, JOULES_ERR_PERMISSION, "%s", d->why);
		return 0;
	}
	for (uint32_t i = 0; i < d->conn.n; i++) {
		int r = offer(ctx, d, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t stale_after(const struct daemon_state *d)
{
	uint64_t ns = d->conn.interval_ns * STALE_INTERVALS;
	return ns > STALE_MIN_NS ? ns : STALE_MIN_NS;
}

/*
 * The page's header, or why the daemon is not serving. Reconnects when it
 * went away (a new generation after a restart).
 */
static bool page_live(struct daemon_state *d, uint64_t now)
{
	const struct jld_page_header *h = d->conn.page;
	if (h) {
		uint32_t state = jld_load32(&h->state);
		uint64_t update = jld_load64(&h->update_ns);
		if (state == JLD_PAGE_LIVE && update + stale_after(d) >= now)
			return true;
		if (state != JLD_PAGE_LIVE)
			snprintf(d->why, sizeof d->why, "joulesd (%s) stopped", d->path);
		else
			snprintf(d->why, sizeof d->why,
				 "joulesd (%s) stopped updating: its page is %.1f s old", d->path,
				 (double)(now - update) / 1e9);
	}
	if (now < d->next_retry_ns)
		return false;
	d->next_retry_ns = now + RETRY_NS;
	struct jl_daemon_conn fresh;
	char why[JL_MSG_LEN];
	if (jl_daemon_connect(d->path, &fresh, why, sizeof why) != JL_DAEMON_OK)
		return false;
	if (fresh.generation == d->conn.generation) {
		jl_daemon_disconnect(&fresh); /* the same daemon, still stalled */
		return false;
	}
	jl_daemon_disconnect(&d->conn);
	d->conn = fresh;
	d->generations++;
	return true;
}

/* After a restart: the sensor's place in the new daemon's list. */
static bool remap(struct daemon_sensor *ds, const char *id)
{
	if (ds->generations == ds->d->generations)
		return ds->index != UINT32_MAX;
	int i = find_meta(&ds->d->conn, id);
	ds->index = i < 0 ? UINT32_MAX : (uint32_t)i;
	ds->generations = ds->d->generations;
	if (ds->primed)
		ds->restarts++;
	ds->primed = false; /* the offset is set again from the next reading */
	return i >= 0;
}

/* Between two tries of a seqlock read: false when it is time to give up. */
static bool seqlock_wait(int tries, uint64_t *since)
{
	if (tries < SEQLOCK_SPINS)
		return true;
	uint64_t now = jl_now_ns();
	if (!*since)
		*since = now;
	sched_yield(); /* let the writer, preempted mid-update, finish */
	return now - *since < SEQLOCK_PATIENCE_NS;
}

struct snap {
	struct jld_slot slot;
	uint64_t power_uw;
};

/* 1: read; 0: nothing published yet; -1: the writer never let go. */
static int load_newest(const struct jld_page_header *h, uint32_t index, struct snap *out)
{
	const struct jld_page_sensor *ps = &jld_page_sensors_ro(h)[index];
	uint64_t since = 0;
	for (int t = 0; seqlock_wait(t, &since); t++) {
		uint64_t seq = jld_read_begin(h);
		uint32_t head = jld_load32(&ps->head) % JLD_RING;
		uint32_t count = jld_load32(&ps->count);
		jld_slot_load(&out->slot, &ps->ring[head]);
		out->power_uw = jld_load64(&ps->power_uw);
		if (jld_read_ok(h, seq))
			return count > 0;
	}
	return -1;
}

/* The instant this reading stands for: the snapshot's (see daemon_state). */
static uint64_t snapshot_now(joules_ctx *ctx, struct daemon_state *d, const struct jl_sensor *s)
{
	size_t index = (size_t)(s - ctx->sensors);
	if (!d->snapshot_ns || index <= d->last_index)
		d->snapshot_ns = jl_now_ns();
	d->last_index = index;
	return d->snapshot_ns;
}

static int daemon_read(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out)
{
	struct daemon_sensor *ds = s->data;
	struct daemon_state *d = ds->d;
	uint64_t now = snapshot_now(ctx, d, s);
	if (!page_live(d, now))
		return jl_sensor_fail(s, JOULES_ERR_LOST,
				      "%s; start it again (systemctl start joulesd): readings "
				      "resume then, and a region across the gap reports a reset",
				      d->why);
	if (!remap(ds, ds->id))
		return jl_sensor_fail(s, JOULES_ERR_LOST,
				      "%s: the restarted joulesd no longer serves this sensor",
				      s->pub.id);
	struct snap sn;
	int got = load_newest(d->conn.page, ds->index, &sn);
	if (got <= 0)
		return jl_sensor_fail(s, JOULES_ERR_IO,
				      got == 0 ? "%s: joulesd's page had no reading yet"
					       : "%s: joulesd stayed in the middle of an update of its "
						 "page for 0.1 s (the machine is overloaded); read again",
				      s->pub.id);
	if (sn.slot.status)
		return jl_sensor_fail(s, sn.slot.status, "%s: joulesd's own read failed: %s",
				      s->pub.id, joules_strerror(sn.slot.status));
	if (!ds->primed) {
		ds->offset = ds->last_raw > sn.slot.energy_uj ? ds->last_raw - sn.slot.energy_uj : 0;
		ds->primed = true;
	}
	uint64_t age = now > sn.slot.time_ns ? now - sn.slot.time_ns : 0;
	/* 64-bit arithmetic whenever it cannot overflow (4 kW, 4 s): a 128-bit division costs. */
	uint64_t extra = sn.power_uw < (1ull << 32) && age < (1ull << 32)
				 ? sn.power_uw * age / 1000000000u
				 : (uint64_t)((unsigned __int128)sn.power_uw * age / 1000000000u);
	uint64_t exact = sn.slot.energy_uj + ds->offset;
	uint64_t raw = exact + extra;
	/*
	 * Never backwards: an earlier extrapolation may have overshot. The
	 * overshoot is then part of the uncertainty, and settling replaces
	 * the value with one interpolated between the daemon's reads.
	 */
	if (raw < ds->last_raw)
		raw = ds->last_raw;
	ds->last_raw = raw;
	s->counter.resets = sn.slot.resets + ds->restarts;
	out->raw = raw;
	out->time_ns = now; /* the instant extrapolated to: one clock read per sensor */
	uint64_t unc = sn.slot.uncertainty_uj + (raw - exact);
	out->uncertainty_uj = unc > UINT32_MAX ? UINT32_MAX : (uint32_t)unc;
	out->flags = sn.slot.flags & JOULES_READING_PROVISIONAL;
	if (raw != exact)
		out->flags |= JOULES_READING_PROVISIONAL;
	return 0;
}

/* Interpolate r between the daemon's reads around it. */
static int daemon_settle(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *r)
{
	(void)ctx;
	struct daemon_sensor *ds = s->data;
	struct daemon_state *d = ds->d;
	uint64_t now = jl_now_ns();
	bool give_up = now > r->time_ns + SETTLE_GIVE_UP_NS;
	const struct jld_page_header *h = d->conn.page;
	struct jld_slot ring[JLD_RING];
	uint32_t count = 0;
	bool ok = false;
	if (!h || ds->index == UINT32_MAX || ds->generations != d->generations ||
	    r->resets < ds->restarts) {
		/* Read from a daemon that is gone: nothing will ever come to refine it. */
		r->flags &= ~JOULES_READING_PROVISIONAL;
		return 0;
	}
	const struct jld_page_sensor *ps = &jld_page_sensors_ro(h)[ds->index];
	uint64_t since = 0;
	for (int t = 0; !ok && seqlock_wait(t, &since); t++) {
		uint64_t seq = jld_read_begin(h);
		count = jld_load32(&ps->count);
		if (count > JLD_RING)
			count = JLD_RING;
		for (uint32_t k = 0; k < JLD_RING; k++)
			jld_slot_load(&ring[k], &ps->ring[k]);
		ok = jld_read_ok(h, seq);
	}
	const struct jld_slot *a = NULL, *b = NULL;
	for (uint32_t k = 0; ok && k < JLD_RING; k++) {
		const struct jld_slot *x = &ring[k];
		if (!x->time_ns || x->status || x->resets + ds->restarts != r->resets)
			continue;
		if (x->time_ns <= r->time_ns && (!a || x->time_ns > a->time_ns))
			a = x;
		if (x->time_ns >= r->time_ns && (!b || x->time_ns < b->time_ns))
			b = x;
	}
	if (a && b && b->energy_uj >= a->energy_uj) {
		uint64_t span = b->time_ns - a->time_ns, in = r->time_ns - a->time_ns;
		uint64_t de = b->energy_uj - a->energy_uj;
		uint64_t e = a->energy_uj + (span ? (uint64_t)((unsigned __int128)de * in / span) : 0);
		uint64_t half = e - a->energy_uj > b->energy_uj - e ? e - a->energy_uj : b->energy_uj - e;
		r->energy_uj = e + ds->offset;
		r->uncertainty_uj = half > UINT32_MAX ? UINT32_MAX : (uint32_t)half;
		r->flags &= ~JOULES_READING_PROVISIONAL;
		return 0;
	}
	/* Older than the ring, or the daemon went away: final as it is. */
	if (give_up || (a && !b && !page_live(d, now)) || (!a && ok && count == JLD_RING)) {
		r->flags &= ~JOULES_READING_PROVISIONAL;
		return 0;
	}
	return 1;
}

static void daemon_release(struct jl_sensor *s)
{
	free(s->data);
}

static void daemon_shutdown(void *priv)
{
	jl_daemon_disconnect(&((struct daemon_state *)priv)->conn);
}

/* Freeing memory and unmapping the page is all there is: safe in a fork() child too. */
const struct jl_backend jl_backend_daemon = {
	.name = "daemon",
	.priv_size = sizeof(struct daemon_state),
	.enumerate = daemon_enumerate,
	.read = daemon_read,
	.settle = daemon_settle,
	.release = daemon_release,
	.shutdown = daemon_shutdown,
};
