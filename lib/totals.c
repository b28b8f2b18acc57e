/* SPDX-License-Identifier: MIT */
/*
 * Totals by kind that never count a domain twice.
 *
 * Each kind belongs to one total: cpu (packages, and their cores and
 * uncore), dram, gpu, platform (psys); "other" to none. Sensors nest
 * (joules_sensor.parent): a core sits inside its package, a package and
 * DRAM inside psys. A sensor adds to its total only when no selected
 * sensor above it (parent, grandparent, ...) belongs to the same total:
 * cores and uncore are already in their package, so cpu is the sum of the
 * packages; a package inside psys still adds to cpu, since psys is another
 * total. When a caller selects cores without their package, the cores are
 * all the cpu total has, and they make it. Walking every ancestor, not
 * just the parent, keeps this right for deeper trees (a GPU's memory rail
 * inside its board inside a platform sensor).
 */
#include <stdio.h>

#include "internal.h"

static const char *const total_names[JOULES_TOTALS] = {"cpu", "dram", "gpu", "platform"};

JOULES_API const char *joules_total_name(int total)
{
	return total >= 0 && total < JOULES_TOTALS ? total_names[total] : "none";
}

JOULES_API int joules_kind_total(int kind)
{
	switch (kind) {
	case JOULES_KIND_CPU_PACKAGE:
	case JOULES_KIND_CPU_CORE:
	case JOULES_KIND_UNCORE:
		return JOULES_TOTAL_CPU;
	case JOULES_KIND_DRAM:
		return JOULES_TOTAL_DRAM;
	case JOULES_KIND_GPU:
		return JOULES_TOTAL_GPU;
	case JOULES_KIND_PLATFORM:
		return JOULES_TOTAL_PLATFORM;
	}
	return -1;
}

JOULES_API int joules_total_of(const joules_ctx *ctx, const uint8_t *selected, size_t index)
{
	if (!ctx || index >= ctx->n_sensors)
		return JOULES_ERR_INVALID;
	if (selected && !selected[index])
		return -1;
	const struct joules_sensor *s = &ctx->sensors[index].pub;
	int t = joules_kind_total(s->kind);
	/* At most n steps: a malformed tree with a cycle cannot loop forever. */
	for (size_t steps = 0; t >= 0 && s->parent >= 0 && steps < ctx->n_sensors; steps++) {
		size_t p = (size_t)s->parent;
		if (p >= ctx->n_sensors)
			break;
		s = &ctx->sensors[p].pub;
		if ((!selected || selected[p]) && joules_kind_total(s->kind) == t)
			return -1;
	}
	return t;
}

/* Total t cannot be given because of sensor i. */
static void missing(const joules_ctx *ctx, struct joules_region_total *t, size_t i,
		    const struct joules_region_sensor *r)
{
	if (t->missing >= 0)
		return;
	t->missing = (int)i;
	t->error = r->error ? r->error : JOULES_ERR_IO;
	snprintf(t->reason, sizeof t->reason, "%s: %s", ctx->sensors[i].pub.id,
		 r->reason[0] ? r->reason : joules_strerror(t->error));
}

JOULES_API int joules_region_totals(const joules_ctx *ctx, const uint8_t *selected,
				    const struct joules_region_sensor *per_sensor, size_t n,
				    struct joules_region_total *out)
{
	if (!ctx || !out || (n && !per_sensor) || n < ctx->n_sensors)
		return JOULES_ERR_INVALID;
	bool idle[JOULES_TOTALS];
	for (int t = 0; t < JOULES_TOTALS; t++) {
		out[t] = (struct joules_region_total){.missing = -1};
		idle[t] = true;
	}
	for (size_t i = 0; i < ctx->n_sensors; i++) {
		int t = joules_total_of(ctx, selected, i);
		if (t < 0)
			continue;
		const struct joules_region_sensor *r = &per_sensor[i];
		struct joules_region_total *tot = &out[t];
		tot->sensors++;
		tot->flags |= r->flags & JOULES_REGION_PROVISIONAL;
		bool whole = (r->flags & JOULES_REGION_HAS_ENERGY) &&
			     (r->state == JOULES_REGION_OK || r->state == JOULES_REGION_GAP);
		if (!whole) {
			missing(ctx, tot, i, r);
			continue;
		}
		tot->energy_uj += r->energy_uj;
		tot->uncertainty_uj += r->uncertainty_uj;
		idle[t] &= (r->flags & JOULES_REGION_HAS_IDLE) != 0;
		tot->above_idle_uj += r->above_idle_uj;
		tot->above_idle_uncertainty_uj += r->above_idle_uncertainty_uj;
	}
	for (int t = 0; t < JOULES_TOTALS; t++) {
		struct joules_region_total *tot = &out[t];
		if (!tot->sensors) {
			tot->error = JOULES_ERR_NO_SENSOR;
			snprintf(tot->reason, sizeof tot->reason,
				 "no %s sensor was found or selected", total_names[t]);
		}
		if (tot->error) {
			tot->energy_uj = tot->uncertainty_uj = tot->above_idle_uncertainty_uj = 0;
			tot->above_idle_uj = 0;
			continue;
		}
		tot->flags |= JOULES_REGION_HAS_ENERGY;
		if (idle[t]) {
			tot->flags |= JOULES_REGION_HAS_IDLE;
		} else {
			tot->above_idle_uj = 0;
			tot->above_idle_uncertainty_uj = 0;
		}
	}
	return 0;
}
