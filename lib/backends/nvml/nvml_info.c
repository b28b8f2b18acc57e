/* SPDX-License-Identifier: MIT */
/*
 * The NVML backend's GPU operations (joules_gpu_*): each NVIDIA GPU's
 * identity and state now, for `joules gpu`.
 * Off the measurement path: it calls NVML on the caller's thread, under the
 * process-wide call lock (nvml_fork.h). A field the GPU does not offer is
 * marked invalid, never reported as 0.
 */
#include <stdio.h>
#include <string.h>

#include "../../backend.h"
#include "nvml_api.h"
#include "nvml_fork.h"

static int nvml_gpu_count(const void *priv)
{
	const struct jl_nvml *nv = priv;
	return nv->status ? nv->status : (int)nv->n_gpus;
}

static const char *nvml_gpu_error(const void *priv)
{
	const struct jl_nvml *nv = priv;
	return nv->message;
}

/* Copy at most dst_len - 1 bytes and terminate. */
static void copy(char *dst, size_t dst_len, const char *src)
{
	snprintf(dst, dst_len, "%s", src);
}

static void fill_state(const struct jl_nvml_fns *fn, nvmlDevice_t h, struct joules_gpu_info *o,
		       nvmlReturn_t *lost)
{
	nvmlMemory_t mem;
	nvmlUtilization_t util;
	unsigned mw;
	unsigned long long mj;
	nvmlReturn_t rc;
#define TRY(call, bit, ...)                          \
	do {                                         \
		rc = (call) ? (call)(h, __VA_ARGS__) \
			    : NVML_ERROR_FUNCTION_NOT_FOUND; \
		if (rc == NVML_SUCCESS)              \
			o->valid |= (bit);           \
		else if (rc == NVML_ERROR_GPU_IS_LOST) \
			*lost = rc;                  \
	} while (0)
	TRY(fn->DeviceGetMemoryInfo, JOULES_GPU_HAS_MEMORY, &mem);
	if (o->valid & JOULES_GPU_HAS_MEMORY) {
		o->memory_total_bytes = mem.total;
		o->memory_used_bytes = mem.used;
		o->memory_free_bytes = mem.free;
	}
	TRY(fn->DeviceGetUtilizationRates, JOULES_GPU_HAS_UTILIZATION, &util);
	if (o->valid & JOULES_GPU_HAS_UTILIZATION) {
		o->gpu_util_percent = util.gpu;
		o->memory_util_percent = util.memory;
	}
	TRY(fn->DeviceGetPowerUsage, JOULES_GPU_HAS_POWER, &mw);
	if (o->valid & JOULES_GPU_HAS_POWER)
		o->power_mw = mw;
	TRY(fn->DeviceGetEnforcedPowerLimit, JOULES_GPU_HAS_POWER_LIMIT, &mw);
	if (o->valid & JOULES_GPU_HAS_POWER_LIMIT)
		o->power_limit_mw = mw;
	TRY(fn->DeviceGetTotalEnergyConsumption, JOULES_GPU_HAS_ENERGY, &mj);
	if (o->valid & JOULES_GPU_HAS_ENERGY)
		o->energy_mj = mj;
#undef TRY
	nvmlFieldValue_t fv = {.fieldId = NVML_FI_DEV_POWER_INSTANT};
	if (fn->DeviceGetFieldValues && fn->DeviceGetFieldValues(h, 1, &fv) == NVML_SUCCESS &&
	    fv.nvmlReturn == NVML_SUCCESS) {
		o->valid |= JOULES_GPU_HAS_POWER_INSTANT;
		o->power_instant_mw = fv.valueType == NVML_VALUE_TYPE_UNSIGNED_LONG_LONG
					      ? (uint32_t)fv.value.ullVal
					      : fv.value.uiVal;
	}
}

static int nvml_gpu_info(joules_ctx *ctx, void *priv, size_t index, struct joules_gpu_info *out)
{
	const struct jl_nvml *nv = priv;
	if (nv->status || index >= nv->n_gpus)
		return jl_fail(ctx, JOULES_ERR_NO_SENSOR, "no NVIDIA GPU %zu (%s)", index,
			       nv->message[0] ? nv->message : "joules_gpu_count() tells how many");
	const struct jl_nvml_gpu *g = &nv->gpus[index];
	uint32_t size = out->size;
	memset(out, 0, sizeof *out);
	out->size = size;
	out->index = (uint32_t)index;
	out->sensor = jl_nvml_sensor(ctx, (unsigned)index);
	copy(out->name, sizeof out->name, g->name);
	copy(out->uuid, sizeof out->uuid, g->uuid);
	copy(out->pci_bus_id, sizeof out->pci_bus_id, g->bus_id);
	copy(out->driver_version, sizeof out->driver_version, nv->driver_version);
	copy(out->nvml_version, sizeof out->nvml_version, nv->nvml_version);
	char what[64];
	snprintf(what, sizeof what, "GPU %zu", index);
	if (!g->handle) {
		char msg[JL_MSG_LEN];
		jl_nvml_explain(nv, g->handle_rc, what, msg, sizeof msg);
		return jl_fail(ctx, jl_nvml_error(g->handle_rc), "%s", msg);
	}
	nvmlReturn_t lost = NVML_SUCCESS;
	jl_nvml_enter();
	fill_state(&nv->fn, g->handle, out, &lost);
	jl_nvml_leave();
	if (lost != NVML_SUCCESS) {
		char msg[JL_MSG_LEN];
		jl_nvml_explain(nv, lost, what, msg, sizeof msg);
		return jl_fail(ctx, JOULES_ERR_LOST, "%s", msg);
	}
	return 0;
}

const struct jl_gpu_ops jl_nvml_gpu_ops = {
	.count = nvml_gpu_count,
	.error = nvml_gpu_error,
	.info = nvml_gpu_info,
};
