/* SPDX-License-Identifier: MIT */
/*
 * The part of NVML that joules uses, declared by the project itself so that
 * no NVIDIA header or package is needed to build: layouts, constants and
 * prototypes follow NVIDIA's public nvml.h. The library is dlopen()ed at run
 * time into one table of function pointers (struct jl_nvml).
 */
#ifndef JOULES_NVML_API_H
#define JOULES_NVML_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct joules_ctx;

/* nvmlReturn_t values that joules tells apart (nvml.h). */
enum {
	NVML_SUCCESS = 0,
	NVML_ERROR_UNINITIALIZED = 1,
	NVML_ERROR_INVALID_ARGUMENT = 2,
	NVML_ERROR_NOT_SUPPORTED = 3,
	NVML_ERROR_NO_PERMISSION = 4,
	NVML_ERROR_NOT_FOUND = 6,
	NVML_ERROR_INSUFFICIENT_SIZE = 7,
	NVML_ERROR_DRIVER_NOT_LOADED = 9,
	NVML_ERROR_TIMEOUT = 10,
	NVML_ERROR_LIBRARY_NOT_FOUND = 12,
	NVML_ERROR_FUNCTION_NOT_FOUND = 13,
	NVML_ERROR_GPU_IS_LOST = 15,
	NVML_ERROR_RESET_REQUIRED = 16,
	NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
	NVML_ERROR_UNKNOWN = 999,
};
typedef int nvmlReturn_t;

typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE 80

/* The same layout serves nvmlDeviceGetPciInfo_v3 and _v2. */
typedef struct {
	char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
	unsigned int domain;
	unsigned int bus;
	unsigned int device;
	unsigned int pciDeviceId;
	unsigned int pciSubSystemId;
	char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;

typedef struct {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
} nvmlMemory_t;

typedef struct {
	unsigned int gpu;
	unsigned int memory;
} nvmlUtilization_t;

typedef enum {
	NVML_VALUE_TYPE_DOUBLE = 0,
	NVML_VALUE_TYPE_UNSIGNED_INT = 1,
	NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
	NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
	NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
	NVML_VALUE_TYPE_SIGNED_INT = 5,
} nvmlValueType_t;

typedef union {
	double dVal;
	int siVal;
	unsigned int uiVal;
	unsigned long ulVal;
	unsigned long long ullVal;
	signed long long sllVal;
} nvmlValue_t;

typedef struct {
	unsigned int fieldId;
	unsigned int scopeId;
	long long timestamp;   /* µs, CLOCK_REALTIME */
	long long latencyUsec;
	nvmlValueType_t valueType;
	nvmlReturn_t nvmlReturn;
	nvmlValue_t value;
} nvmlFieldValue_t;

/*
 * "Instantaneous" board power, mW. On the H100 (driver 580) it is refreshed
 * only every ~100 ms and its timestamp is the time of the query, not of the
 * measurement (docs/validation.md, 2026-11-25).
 */
#define NVML_FI_DEV_POWER_INSTANT 186

/* nvmlDeviceGetSamples: board power history, mW, one sample per ~20 ms. */
#define NVML_TOTAL_POWER_SAMPLES 0
typedef struct {
	unsigned long long timeStamp; /* µs, CLOCK_REALTIME: the end of the sample's window */
	nvmlValue_t sampleValue;
} nvmlSample_t;

/* One pointer per NVML entry point joules calls; NULL where optional and absent. */
struct jl_nvml_fns {
	nvmlReturn_t (*Init)(void);
	nvmlReturn_t (*Shutdown)(void);
	const char *(*ErrorString)(nvmlReturn_t);
	nvmlReturn_t (*SystemGetDriverVersion)(char *, unsigned int);
	nvmlReturn_t (*SystemGetNVMLVersion)(char *, unsigned int);
	nvmlReturn_t (*DeviceGetCount)(unsigned int *);
	nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*DeviceGetPciInfo)(nvmlDevice_t, nvmlPciInfo_t *);
	nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long *);
	nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
	nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t *);
	nvmlReturn_t (*DeviceGetFieldValues)(nvmlDevice_t, int, nvmlFieldValue_t *);
	nvmlReturn_t (*DeviceGetSamples)(nvmlDevice_t, int, unsigned long long, nvmlValueType_t *,
					 unsigned int *, nvmlSample_t *);
};

#define JL_NVML_MAX_GPUS 64

/* What enumeration learnt about one GPU. */
struct jl_nvml_gpu {
	nvmlDevice_t handle;   /* NULL when NVML gave no handle */
	nvmlReturn_t handle_rc;
	char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
	char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	char bus_id[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
};

/* The context-wide NVML state: the backend's private data. */
struct jl_nvml {
	void *dl;               /* dlopen() handle, NULL when absent */
	bool initialised;       /* nvmlInit succeeded: nvmlShutdown is owed */
	struct jl_nvml_fns fn;
	/* 0 when usable, or the enum joules_error of why not, with a message. */
	int status;
	char message[512];
	char library[256];      /* the file that was loaded */
	char driver_version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
	char nvml_version[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE];
	unsigned n_gpus;
	struct jl_nvml_gpu gpus[JL_NVML_MAX_GPUS];
};

/*
 * Load `library` (NULL or "": libnvidia-ml.so.1) and initialise NVML into a
 * zeroed state; its status and message say whether NVML is usable. "No
 * NVIDIA library" is status 0 with n_gpus 0 and a message.
 */
void jl_nvml_load(struct jl_nvml *nv, const char *library);
/* nvmlShutdown and dlclose; the caller frees nv. NULL is allowed. */
void jl_nvml_unload(struct jl_nvml *nv);

/* The enum joules_error for an NVML return code. */
int jl_nvml_error(nvmlReturn_t rc);
/*
 * Write "<what>: <reason>; <fix>" for an NVML return code into buf: each
 * code joules tells apart gets its own reason and fix.
 */
void jl_nvml_explain(const struct jl_nvml *nv, nvmlReturn_t rc, const char *what, char *buf,
		     size_t len);

/* The index of GPU `index`'s energy sensor in the context, or -1. */
int jl_nvml_sensor(const struct joules_ctx *ctx, unsigned index);

/* joules_gpu_*() for NVIDIA GPUs (nvml_info.c). */
extern const struct jl_gpu_ops jl_nvml_gpu_ops;

#endif
