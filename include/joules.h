/* SPDX-License-Identifier: MIT */
/*
 * libjoules: every energy sensor of this machine, read as cumulative
 * 64-bit energy counters.
 *
 * A region's energy is the difference of two snapshots:
 *
 *     joules_ctx *ctx;
 *     if (joules_open(&ctx, NULL) < 0) ...
 *     size_t n = joules_sensor_count(ctx);
 *     struct joules_reading *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
 *     joules_read(ctx, a, n);
 *     work();
 *     joules_read(ctx, b, n);
 *     while (joules_settle(ctx, a, n) + joules_settle(ctx, b, n) > 0)
 *             usleep(5000);   (GPU readings are final ~20-60 ms later)
 *     uint64_t uj;
 *     if (joules_delta(&a[i], &b[i], &uj) == 0) ... uj µJ used by sensor i
 *
 * Conventions, all of them stable:
 * - Functions that can fail return 0 (or a count) on success and a negative
 *   `enum joules_error` on failure. joules_strerror() names the code;
 *   joules_last_error() gives the specific message of the last failure of
 *   a context: the file or call, the reason and the fix.
 * - Handles are opaque; no struct is passed by value; no varargs. The only
 *   public structs are fixed-size records read through pointers, so that
 *   ctypes can wrap everything and a daemon can put them in a shared page.
 * - The library never prints and never assumes the caller is root.
 * - A context is not thread-safe: use one per thread, or lock around it.
 * - fork(): a context belongs to the process that opened it. In a fork()
 *   child (a DataLoader worker, a multiprocessing or Gunicorn worker) the
 *   inherited context is refused, not re-armed: joules_read(),
 *   joules_settle() and joules_gpu_info() fail with JOULES_ERR_FORKED and
 *   joules_last_error() says to open a new context in the child, which
 *   works there (its own sampler thread and its own nvmlInit: NVML's
 *   state is not usable across fork). Functions that only describe the
 *   context (sensors, sources, messages, GPU count) still answer from the
 *   child's copy.
 *   joules_close() of an inherited context in the child never blocks: it
 *   frees the child's copy and closes its file descriptors, and joins no
 *   thread, takes no lock and calls no NVML function. The parent's
 *   context is not affected by anything the child does.
 */
#ifndef JOULES_H
#define JOULES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define JOULES_API __attribute__((visibility("default")))
#else
#define JOULES_API
#endif

#define JOULES_VERSION_MAJOR 0
#define JOULES_VERSION_MINOR 1
#define JOULES_VERSION_PATCH 0

/* Error codes. Their numbers never change; new ones are only appended. */
enum joules_error {
	JOULES_OK = 0,
	JOULES_ERR_INVALID = -1,      /* bad argument from the caller */
	JOULES_ERR_NOMEM = -2,        /* out of memory */
	JOULES_ERR_IO = -3,           /* a read failed (I/O error, file vanished) */
	JOULES_ERR_PERMISSION = -4,   /* the caller may not read this sensor */
	JOULES_ERR_PARSE = -5,        /* a file held something that is not a number */
	JOULES_ERR_UNSUPPORTED = -6,  /* the hardware or driver does not offer it */
	JOULES_ERR_LOST = -7,         /* the device went away */
	JOULES_ERR_RESET = -8,        /* the counter was reset between two readings */
	JOULES_ERR_NOT_COUNTING = -9, /* the counter exists but never advances */
	JOULES_ERR_NO_SENSOR = -10,   /* no such sensor */
	JOULES_ERR_FORKED = -11,      /* the context was opened by the parent of this fork() child */
};

/* What a sensor measures. Numbers never change; new kinds are appended. */
enum joules_kind {
	JOULES_KIND_OTHER = 0,
	JOULES_KIND_CPU_PACKAGE = 1,
	JOULES_KIND_CPU_CORE = 2,
	JOULES_KIND_UNCORE = 3,
	JOULES_KIND_DRAM = 4,
	JOULES_KIND_PLATFORM = 5, /* psys: the whole platform, packages included */
	JOULES_KIND_GPU = 6,
};

/* joules_sensor.flags */
#define JOULES_SENSOR_READABLE 0x1u   /* readings succeed for this caller */
#define JOULES_SENSOR_INTEGRATED 0x2u /* energy integrated from power samples */

#define JOULES_ID_LEN 64
#define JOULES_NAME_LEN 64
#define JOULES_SOURCE_LEN 16
#define JOULES_DEVICE_LEN 64
#define JOULES_REASON_LEN 512

/*
 * What a sensor is. Owned by the context, valid until joules_close().
 * Fields may be appended in later versions; never allocate or copy arrays
 * of this struct yourself.
 */
struct joules_sensor {
	char id[JOULES_ID_LEN];         /* stable, named after the domain: "rapl:package-0" */
	char name[JOULES_NAME_LEN];     /* human: "package-0" */
	char source[JOULES_SOURCE_LEN]; /* backend: "powercap" */
	char device[JOULES_DEVICE_LEN]; /* "socket 0", "0000:17:00.0", or "" */
	/* Empty when readable; else why not and how to fix it. */
	char reason[JOULES_REASON_LEN];
	int32_t kind;   /* enum joules_kind */
	int32_t parent; /* index of the sensor containing this one, or -1 */
	uint32_t flags; /* JOULES_SENSOR_* */
	/* Resolution of the counter in µJ, 0 when unknown. */
	uint32_t resolution_uj;
	/* The hardware counter wraps after this many µJ; 0: it never wraps. */
	uint64_t range_uj;
	/* Power bound used to tell a wrap from a reset, µW. */
	uint64_t max_power_uw;
	/*
	 * Shortest time in which the counter can wrap (range over the power
	 * bound), ns; 0: it never wraps. Read at least this often, or a wrap
	 * can go unseen.
	 */
	uint64_t wrap_period_ns;
	/* How often the hardware updates the counter, µs; 0 when unknown. */
	uint32_t refresh_us;
	uint32_t reserved;
	/*
	 * Other sources that expose this same domain, which joules did not
	 * use so as not to count it twice: "perf", "powercap (unreadable)",
	 * or "" when none.
	 */
	char also[JOULES_SOURCE_LEN * 2];
};

/* joules_reading.flags */
#define JOULES_READING_WRAPPED 0x1u /* the hardware counter wrapped since the last reading */
/*
 * Not final yet: the data covering this instant arrives later (NVIDIA GPUs:
 * the driver's power samples, ~20-60 ms later). energy_uj is extrapolated
 * and uncertainty_uj says how far it may be off; joules_settle() refines it.
 */
#define JOULES_READING_PROVISIONAL 0x2u

/*
 * One sensor's counter at one instant. A snapshot is an array of these,
 * one per sensor, in sensor order. Fixed size (32 bytes); its layout never
 * changes.
 */
struct joules_reading {
	uint64_t energy_uj;      /* cumulative energy, extended to 64 bits */
	uint64_t time_ns;        /* CLOCK_MONOTONIC when it was read */
	uint32_t uncertainty_uj; /* half-width of the error of energy_uj */
	uint32_t resets;         /* counter resets seen so far */
	int32_t status;          /* 0, or a negative enum joules_error */
	uint32_t flags;          /* JOULES_READING_* */
};

typedef struct joules_ctx joules_ctx;

/* Library version, "MAJOR.MINOR.PATCH". */
JOULES_API const char *joules_version(void);

/* Generic text for an error code ("permission denied"). Never NULL. */
JOULES_API const char *joules_strerror(int err);

/* Name of a kind ("cpu-package", "gpu"). Never NULL. */
JOULES_API const char *joules_kind_name(int kind);

/*
 * Open a context and enumerate every sensor of every backend. `sysfs_root`
 * replaces "/sys" for every sysfs access; NULL means $JOULES_SYSFS_ROOT if
 * set, else "/sys". Sensors that this caller cannot read are still listed
 * (see joules_sensor.reason). Finding no sensor at all is not an error.
 * On failure *ret is NULL and the code is returned.
 */
JOULES_API int joules_open(joules_ctx **ret, const char *sysfs_root);

/*
 * Close a context and everything it holds. NULL is allowed. In a fork()
 * child of the process that opened it, only the child's copy is freed,
 * without blocking (see fork() above).
 */
JOULES_API void joules_close(joules_ctx *ctx);

/* The message of the last failure in this context, or "" if none. */
JOULES_API const char *joules_last_error(const joules_ctx *ctx);

JOULES_API size_t joules_sensor_count(const joules_ctx *ctx);

/* Sensor `index`, or NULL when out of range. */
JOULES_API const struct joules_sensor *joules_sensor(const joules_ctx *ctx, size_t index);

/* Index of the sensor with this id, or JOULES_ERR_NO_SENSOR. */
JOULES_API int joules_sensor_find(const joules_ctx *ctx, const char *id);

/*
 * Read every sensor into out[0..n-1] (n at most joules_sensor_count()).
 * Does not allocate and keeps files open. Each reading has its own status:
 * one failing sensor never stops the others. Returns the number of
 * readings written, or a negative error for a bad call
 * (JOULES_ERR_FORKED in a fork() child: open a new context there).
 * The message for a failed sensor is joules_sensor_error().
 */
JOULES_API int joules_read(joules_ctx *ctx, struct joules_reading *out, size_t n);

/*
 * The sources (backends) joules tried, whether or not they found sensors:
 * name ("powercap", "nvml"...) and a note saying why a source found nothing
 * and how to fix that ("" when it found sensors or has nothing to say).
 * NULL when out of range.
 */
JOULES_API size_t joules_source_count(const joules_ctx *ctx);
JOULES_API const char *joules_source_name(const joules_ctx *ctx, size_t index);
JOULES_API const char *joules_source_note(const joules_ctx *ctx, size_t index);

/* Message of the last failed read of sensor `index`, or "" if none. */
JOULES_API const char *joules_sensor_error(const joules_ctx *ctx, size_t index);

/*
 * Energy between two readings of one sensor, in µJ. Fails with the
 * reading's own status if either failed, with JOULES_ERR_RESET if the
 * counter was reset in between (the energy is then not known exactly),
 * and with JOULES_ERR_INVALID if `later` is older than `earlier`.
 */
JOULES_API int joules_delta(const struct joules_reading *earlier,
			    const struct joules_reading *later, uint64_t *energy_uj);

/*
 * Refine a snapshot taken by joules_read() (out[0..n-1], same order) once
 * the data covering its instant has arrived: every JOULES_READING_PROVISIONAL
 * reading whose data is there gets its final energy_uj and uncertainty_uj,
 * and loses the flag; others are left as they are. Returns how many
 * readings are still provisional (0: all final; call again a few ms later),
 * or a negative error for a bad call (JOULES_ERR_FORKED in a fork() child).
 * Never calls NVML, never blocks.
 * Settle both readings of a region before joules_delta(); a reading older
 * than the history kept (~40 s), or whose data never came within 1 s, is
 * made final as it is. A short GPU region measured without settling reads
 * low: the last ~20-60 ms of it are extrapolated.
 */
JOULES_API int joules_settle(joules_ctx *ctx, struct joules_reading *out, size_t n);

/* joules_gpu_info.valid: which fields hold a value (others are unsupported). */
#define JOULES_GPU_HAS_MEMORY 0x1u      /* memory_{total,used,free}_bytes */
#define JOULES_GPU_HAS_UTILIZATION 0x2u /* gpu_util_percent, memory_util_percent */
#define JOULES_GPU_HAS_POWER 0x4u       /* power_mw */
#define JOULES_GPU_HAS_POWER_LIMIT 0x8u /* power_limit_mw */
#define JOULES_GPU_HAS_POWER_INSTANT 0x10u /* power_instant_mw */
#define JOULES_GPU_HAS_ENERGY 0x20u     /* energy_mj */

/*
 * A GPU's identity and state now (NVIDIA GPUs through NVML). The caller sets
 * `size` to sizeof(struct joules_gpu_info); fields may only be appended.
 */
struct joules_gpu_info {
	uint32_t size;
	uint32_t valid;  /* JOULES_GPU_HAS_* */
	uint32_t index;  /* NVML's index */
	int32_t sensor;  /* index of this GPU's energy sensor, or -1 */
	char name[96];
	char uuid[96];
	char pci_bus_id[32];
	char driver_version[80];
	char nvml_version[80];
	uint64_t memory_total_bytes;
	uint64_t memory_used_bytes;
	uint64_t memory_free_bytes;
	uint64_t energy_mj;        /* the driver's energy counter, mJ since it loaded */
	uint32_t gpu_util_percent; /* over the driver's last sample period */
	uint32_t memory_util_percent;
	uint32_t power_mw;         /* nvmlDeviceGetPowerUsage: a 1 s average on Ampere+ */
	uint32_t power_instant_mw;
	uint32_t power_limit_mw;   /* enforced limit */
	uint32_t reserved;
};

/*
 * Number of NVIDIA GPUs. 0 when there is no NVIDIA driver (a normal state;
 * joules_gpu_error() says so); a negative error when NVML is there but
 * cannot be used (joules_gpu_error() says why and how to fix it).
 */
JOULES_API int joules_gpu_count(const joules_ctx *ctx);

/*
 * Why there are no GPUs, or "" when NVML loaded and found some. Never NULL.
 */
JOULES_API const char *joules_gpu_error(const joules_ctx *ctx);

/*
 * Fill *out for GPU `index` (out->size must be set). Calls NVML on this
 * thread (milliseconds), so keep it off measured regions. A field the GPU
 * does not offer is left out of out->valid. Fails with JOULES_ERR_LOST for
 * a lost GPU (identity fields still filled), with JOULES_ERR_FORKED in a
 * fork() child, with the message in joules_last_error().
 */
JOULES_API int joules_gpu_info(joules_ctx *ctx, size_t index, struct joules_gpu_info *out);

#ifdef __cplusplus
}
#endif

#endif
