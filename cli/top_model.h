/* SPDX-License-Identifier: MIT */
/*
 * What `joules top` shows, without a terminal: per sensor its current power,
 * a ring of recent power (the sparkline), the energy since start and its
 * state; totals by kind that never count a domain twice (the library's
 * rule, joules_total_of()); the order of the
 * rows. Fed with snapshots from joules_read(); touches no file or terminal.
 *
 * Power and energy come from final readings only. A provisional reading (a
 * GPU's last ~20-60 ms, not yet covered by the driver's samples) waits in
 * `pending` until the caller has settled it with joules_settle(): GPU rows
 * are then a tick late, as in `joules run`, and never show extrapolation.
 *
 * A sensor that fails keeps the energy it measured before; when it reads
 * again it restarts from that reading (a gap can hide a wrap or a reset, so
 * the energy of the gap is not guessed) and its state says so.
 */
#ifndef JOULES_CLI_TOP_MODEL_H
#define JOULES_CLI_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joules.h"

/* The group of sensors whose kind is in no total (joules_kind_total() < 0). */
#define TOP_GROUP_OTHER (-1)

/* Recent power kept per sensor: more than the widest sparkline. */
#define TOP_RING 256

enum top_state {
	TOP_UNREADABLE, /* this user cannot read it (joules_sensor.reason) */
	TOP_WAITING,    /* readable, no power known yet */
	TOP_OK,
	TOP_FAILED,     /* the last reading failed (top_sensor.error) */
};

/* Why energy_j misses part of the time since start. */
enum top_gap { TOP_GAP_NONE, TOP_GAP_OUTAGE, TOP_GAP_RESET };

struct top_sensor {
	enum top_state state;
	int error;         /* TOP_FAILED: the failed reading's status */
	enum top_gap gap;  /* the last gap since start, or NONE */
	bool have_power;
	double power_w;    /* between the last two final readings */
	double energy_j;   /* since start, gaps left out */
	/* Recent power, oldest first from ring_next; NaN where there was none. */
	float ring[TOP_RING];
	unsigned ring_len, ring_next;
	bool have_last;
	bool broken;    /* failed since `last` */
	bool uncounted; /* reset while a reading waited: its energy is from before */
	struct joules_reading last; /* the last final good reading */
};

/* One total (enum joules_total) over the sensors counted in it. */
struct top_total {
	unsigned sensors;       /* counted in it; 0: nothing measures it here */
	unsigned missing_power; /* of those, without a current power */
	unsigned incomplete;    /* of those, failed, unreadable or with a gap */
	double power_w, energy_j;
};

enum top_sort { TOP_SORT_KIND, TOP_SORT_POWER, TOP_SORT_ENERGY, TOP_SORT_NAME, TOP_N_SORTS };

/* "kind", "power", "energy", "name". */
extern const char *const top_sort_names[TOP_N_SORTS];

struct top_model {
	const joules_ctx *ctx;
	size_t n;
	struct top_sensor *s;
	/*
	 * Provisional readings waiting to settle, one slot per sensor (an
	 * array joules_settle() takes as is); slots not waiting are zero.
	 */
	struct joules_reading *pending;
	bool *waiting;
	struct top_total totals[JOULES_TOTALS];
};

/* 0, or JOULES_ERR_NOMEM. */
int top_model_init(struct top_model *m, const joules_ctx *ctx);
void top_model_free(struct top_model *m);

/* Take the pending readings that are final now (call after joules_settle). */
void top_model_take_settled(struct top_model *m);
/*
 * A new snapshot (n readings, sensor order): final readings count now,
 * provisional ones wait in `pending` (a newer one is dropped while an older
 * one still waits: its energy is counted by the next reading taken).
 */
void top_model_add(struct top_model *m, const struct joules_reading *snap);
/*
 * Energy since start back to 0 and gaps forgotten; power and ring kept.
 * Call it just after adding a snapshot taken now: energy then counts from
 * that snapshot (a reading still waiting to settle adds no energy).
 */
void top_model_reset(struct top_model *m);

/*
 * The rows to show: sensors grouped by total (cpu, dram, gpu, platform,
 * then those in none), each group in `sort` order (kind: by kind then as
 * found; power and energy: highest first; name), ties as found. Writes m->n
 * indices to rows.
 */
void top_model_order(const struct top_model *m, enum top_sort sort, size_t *rows);
/* The group (total) a sensor is shown in, TOP_GROUP_OTHER for "other". */
int top_model_group(const struct top_model *m, size_t i);

/* The state in a few words: "ok", "waiting", "recovered", "counter reset", "failed: lost". */
void top_model_status(const struct top_model *m, size_t i, char *buf, size_t len);
/* A total's state: "ok", "waiting", "1 of 3 incomplete", "not measured". */
void top_model_total_status(const struct top_total *t, char *buf, size_t len);

/* The last `count` ring entries into out (oldest first); NaN before the first. */
void top_model_recent(const struct top_model *m, size_t i, float *out, unsigned count);

#endif
