/* SPDX-License-Identifier: MIT */
/*
 * Loading NVML: dlopen the library, resolve every entry point into one
 * table (versioned names newest first), initialise it, and learn each GPU's
 * identity. Every way this can fail gets its own message; a machine without
 * the library is a normal state. Every NVML call runs under the
 * process-wide call lock (nvml_fork.h), and none is made in a process
 * forked while a call was in flight.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../internal.h"
#include "nvml_api.h"
#include "nvml_fork.h"

#define NVML_DEFAULT_LIBRARY "libnvidia-ml.so.1"

int jl_nvml_error(nvmlReturn_t rc)
{
	switch (rc) {
	case NVML_SUCCESS: return 0;
	case NVML_ERROR_NO_PERMISSION: return JOULES_ERR_PERMISSION;
	case NVML_ERROR_NOT_SUPPORTED:
	case NVML_ERROR_DRIVER_NOT_LOADED:
	case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
	case NVML_ERROR_FUNCTION_NOT_FOUND:
	case NVML_ERROR_LIBRARY_NOT_FOUND: return JOULES_ERR_UNSUPPORTED;
	case NVML_ERROR_GPU_IS_LOST: return JOULES_ERR_LOST;
	case NVML_ERROR_INVALID_ARGUMENT: return JOULES_ERR_INVALID;
	}
	return JOULES_ERR_IO;
}

void jl_nvml_explain(const struct jl_nvml *nv, nvmlReturn_t rc, const char *what, char *buf,
		     size_t len)
{
	const char *nvtext = NULL;
	if (nv && nv->fn.ErrorString) {
		jl_nvml_enter();
		nvtext = nv->fn.ErrorString(rc);
		jl_nvml_leave();
	}
	if (!nvtext)
		nvtext = "?";
	const char *how;
	switch (rc) {
	case NVML_ERROR_NO_PERMISSION:
		how = "permission denied (NVML_ERROR_NO_PERMISSION); this user may not open "
		      "/dev/nvidia*: run as root or add the user to the group owning those devices";
		break;
	case NVML_ERROR_NOT_SUPPORTED:
		how = "not supported by this GPU or driver (NVML_ERROR_NOT_SUPPORTED); the energy "
		      "counter needs a Volta or newer GPU";
		break;
	case NVML_ERROR_DRIVER_NOT_LOADED:
		how = "the NVIDIA kernel driver is not loaded (NVML_ERROR_DRIVER_NOT_LOADED): "
		      "load it (modprobe nvidia), or pass the GPUs into this container";
		break;
	case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
		how = "driver/library version mismatch (NVML_ERROR_LIB_RM_VERSION_MISMATCH): "
		      "libnvidia-ml does not match the loaded kernel driver, usually after a "
		      "driver upgrade: reboot, or reload the nvidia kernel modules";
		break;
	case NVML_ERROR_GPU_IS_LOST:
		how = "the GPU is lost (NVML_ERROR_GPU_IS_LOST): it fell off the bus or stopped "
		      "responding; see the Xid errors in dmesg; a GPU reset or a reboot brings it back";
		break;
	case NVML_ERROR_UNINITIALIZED:
		how = "NVML is not initialised (NVML_ERROR_UNINITIALIZED)";
		break;
	default:
		how = NULL;
	}
	if (how)
		snprintf(buf, len, "%s: %s", what, how);
	else
		snprintf(buf, len, "%s: NVML error %d (%s)", what, rc, nvtext);
}

/* The first of the names that the library exports. */
static void *resolve(void *dl, const char *const *names)
{
	for (; *names; names++) {
		void *p = dlsym(dl, *names);
		if (p)
			return p;
	}
	return NULL;
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

struct entry {
	const char *const *names; /* newest first */
	size_t offset;            /* in struct jl_nvml_fns */
	bool required;
};

#define FN(field) offsetof(struct jl_nvml_fns, field)
static const struct entry entries[] = {
	{NAMES("nvmlInit_v2", "nvmlInit"), FN(Init), true},
	{NAMES("nvmlShutdown"), FN(Shutdown), true},
	{NAMES("nvmlErrorString"), FN(ErrorString), true},
	{NAMES("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"), FN(DeviceGetCount), true},
	{NAMES("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"),
	 FN(DeviceGetHandleByIndex), true},
	{NAMES("nvmlDeviceGetName"), FN(DeviceGetName), true},
	{NAMES("nvmlDeviceGetUUID"), FN(DeviceGetUUID), true},
	{NAMES("nvmlSystemGetDriverVersion"), FN(SystemGetDriverVersion), false},
	{NAMES("nvmlSystemGetNVMLVersion"), FN(SystemGetNVMLVersion), false},
	{NAMES("nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"), FN(DeviceGetPciInfo), false},
	{NAMES("nvmlDeviceGetTotalEnergyConsumption"), FN(DeviceGetTotalEnergyConsumption), false},
	{NAMES("nvmlDeviceGetPowerUsage"), FN(DeviceGetPowerUsage), false},
	{NAMES("nvmlDeviceGetEnforcedPowerLimit"), FN(DeviceGetEnforcedPowerLimit), false},
	{NAMES("nvmlDeviceGetMemoryInfo"), FN(DeviceGetMemoryInfo), false},
	{NAMES("nvmlDeviceGetUtilizationRates"), FN(DeviceGetUtilizationRates), false},
	{NAMES("nvmlDeviceGetFieldValues"), FN(DeviceGetFieldValues), false},
	{NAMES("nvmlDeviceGetSamples"), FN(DeviceGetSamples), false},
};

static int fail(struct jl_nvml *nv, int err, const char *fmt, const char *a, const char *b)
{
	nv->status = err;
	snprintf(nv->message, sizeof nv->message, fmt, a, b);
	return err;
}

static int resolve_all(struct jl_nvml *nv)
{
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		void *p = resolve(nv->dl, entries[i].names);
		if (!p && entries[i].required)
			return fail(nv, JOULES_ERR_UNSUPPORTED,
				    "%s: symbol %s is missing (NVML_ERROR_FUNCTION_NOT_FOUND): the "
				    "library is not NVML or is too old; install the NVIDIA driver's "
				    "own libnvidia-ml.so.1",
				    nv->library, entries[i].names[0]);
		memcpy((char *)&nv->fn + entries[i].offset, &p, sizeof p);
	}
	return 0;
}

static void learn_gpu(struct jl_nvml *nv, unsigned i)
{
	struct jl_nvml_gpu *g = &nv->gpus[i];
	g->handle_rc = nv->fn.DeviceGetHandleByIndex(i, &g->handle);
	if (g->handle_rc != NVML_SUCCESS) {
		g->handle = NULL;
		return;
	}
	if (nv->fn.DeviceGetName(g->handle, g->name, sizeof g->name) != NVML_SUCCESS)
		g->name[0] = '\0';
	if (nv->fn.DeviceGetUUID(g->handle, g->uuid, sizeof g->uuid) != NVML_SUCCESS)
		g->uuid[0] = '\0';
	nvmlPciInfo_t pci;
	if (nv->fn.DeviceGetPciInfo && nv->fn.DeviceGetPciInfo(g->handle, &pci) == NVML_SUCCESS)
		snprintf(g->bus_id, sizeof g->bus_id, "%.31s", pci.busId);
	g->name[sizeof g->name - 1] = g->uuid[sizeof g->uuid - 1] = '\0';
}

/* nvmlInit, then what the system and each GPU are; the caller holds the call lock. */
static nvmlReturn_t init_and_learn(struct jl_nvml *nv, const char **call)
{
	*call = "nvmlInit";
	nvmlReturn_t rc = nv->fn.Init();
	if (rc != NVML_SUCCESS)
		return rc;
	nv->initialised = true;
	if (!nv->fn.SystemGetDriverVersion ||
	    nv->fn.SystemGetDriverVersion(nv->driver_version, sizeof nv->driver_version))
		nv->driver_version[0] = '\0';
	if (!nv->fn.SystemGetNVMLVersion ||
	    nv->fn.SystemGetNVMLVersion(nv->nvml_version, sizeof nv->nvml_version))
		nv->nvml_version[0] = '\0';
	unsigned count = 0;
	*call = "nvmlDeviceGetCount";
	rc = nv->fn.DeviceGetCount(&count);
	if (rc != NVML_SUCCESS)
		return rc;
	nv->n_gpus = count < JL_NVML_MAX_GPUS ? count : JL_NVML_MAX_GPUS;
	for (unsigned i = 0; i < nv->n_gpus; i++)
		learn_gpu(nv, i);
	return NVML_SUCCESS;
}

void jl_nvml_load(struct jl_nvml *nv, const char *file)
{
	if (!file || !*file)
		file = NVML_DEFAULT_LIBRARY;
	snprintf(nv->library, sizeof nv->library, "%s", file);
	if (!jl_nvml_fork_usable(nv->message, sizeof nv->message)) {
		nv->status = JOULES_ERR_FORKED;
		return;
	}
	/* Its constructors may take NVML's locks too: loading is under the call lock. */
	jl_nvml_enter();
	nv->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!nv->dl) {
		jl_nvml_leave();
		/* Not an error: this machine has no NVIDIA GPU or driver. */
		const char *why = dlerror();
		fail(nv, 0, "no NVIDIA driver found (%s: %s)", file, why ? why : "cannot load");
		return;
	}
	const char *call = NULL;
	nvmlReturn_t rc = resolve_all(nv) ? NVML_SUCCESS : init_and_learn(nv, &call);
	jl_nvml_leave();
	if (rc != NVML_SUCCESS) {
		nv->status = jl_nvml_error(rc);
		jl_nvml_explain(nv, rc, call, nv->message, sizeof nv->message);
	}
}

void jl_nvml_unload(struct jl_nvml *nv)
{
	if (!nv)
		return;
	jl_nvml_enter();
	if (nv->initialised)
		nv->fn.Shutdown();
	if (nv->dl)
		dlclose(nv->dl);
	jl_nvml_leave();
}
