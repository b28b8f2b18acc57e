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
 *   fork() waits until no thread of this process is inside an NVML call
 *   made by the library (at most 2 s, $JOULES_NVML_FORK_WAIT_MS), so that
 *   the child's own context can call nvmlInit; when a call outlives that
 *   bound (a hung GPU), contexts opened in the child have no NVIDIA GPU
 *   and joules_gpu_count() gives JOULES_ERR_FORKED with the reason.
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
#define JOULES_VERSION_MINOR 2
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
/* Read through joulesd's shared page, not directly (`source` names the daemon's source). */
#define JOULES_SENSOR_VIA_DAEMON 0x4u

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
	/*
	 * Unreadable: why not and how to fix it. Readable: "", or a caveat of
	 * its readings (powercap: max_energy_range_uj unreadable, so a drop
	 * cannot be told as a wrap or a reset).
	 */
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
	 * "perf, hwmon" (comma-separated; "..." ends a list that does not
	 * fit), or "" when none. The reader is chosen by the domain model
	 * (docs/design.md): readable first, then a counter over integrated
	 * power, then the cheaper read.
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
 * Samples of an integrated sensor failed since the previous reading (a
 * driver busy for a moment: EBUSY, EAGAIN, ENODATA, one EIO; NVML not
 * ready or timed out): the next good sample spanned the gap, its power
 * integrated across it, and uncertainty_uj grows by half the gap's energy
 * at the larger of the powers on either side (the truth lies between
 * nothing and that). Counters need no flag: a failed read
 * leaves them exact, the next good one spans it.
 */
#define JOULES_READING_GAP 0x4u
/*
 * The read failed (status says why) after earlier good readings: energy_uj
 * still holds the sensor's energy up to its last good reading, so a sensor
 * gone for good (file removed, GPU lost) keeps what it measured; time_ns is
 * when this read failed. joules_delta() still refuses the reading: take the
 * last good reading as the end of a partial region.
 */
#define JOULES_READING_PARTIAL 0x8u

/*
 * One sensor's counter at one instant. A snapshot is an array of these,
 * one per sensor, in sensor order. Fixed size (32 bytes); its layout never
 * changes.
 */
struct joules_reading {
	uint64_t energy_uj;      /* cumulative energy, extended to 64 bits */
	uint64_t time_ns;        /* CLOCK_MONOTONIC when it was read */
	/*
	 * Half-width of the error this reading brings into a difference with
	 * another reading of the sensor (its counter's resolution and refresh,
	 * where a GPU's load edge falls in a power sample, what is not sampled
	 * yet). A difference can err by more: an estimated sensor's scale and
	 * noise over the span (a GPU's; docs/nvml.md, "Uncertainty"), which
	 * the region API adds (joules_region_sensor.uncertainty_uj).
	 */
	uint32_t uncertainty_uj;
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
 * On failure *ret is NULL and the code is returned. The same as
 * joules_open_with() with only opts.sysfs_root set.
 */
JOULES_API int joules_open(joules_ctx **ret, const char *sysfs_root);

/* Where a context's readings come from (joules_open_opts.policy). */
enum joules_source_policy {
	/*
	 * Each domain from its best reader: joulesd for a domain this process
	 * cannot read or whose direct counter wraps (the daemon sees every
	 * wrap), a direct source otherwise (GPUs: NVML needs no privilege).
	 */
	JOULES_POLICY_AUTO = 0,
	JOULES_POLICY_DIRECT = 1, /* read the hardware from this process only */
	/*
	 * joulesd for every domain it serves; the open fails when it cannot
	 * be reached. Its socket: $JOULES_SOCKET, else /run/joules/joules.sock.
	 */
	JOULES_POLICY_DAEMON = 2,
};

/*
 * Options of joules_open_with(), in the manner of libbpf: the caller zeroes
 * the struct, sets `size` to sizeof(struct joules_open_opts) and fills what
 * it needs. Fields are only ever appended; a library older than the caller
 * accepts a bigger struct as long as the fields it does not know are 0.
 */
struct joules_open_opts {
	size_t size;              /* sizeof(struct joules_open_opts) */
	const char *sysfs_root;   /* NULL: $JOULES_SYSFS_ROOT if set, else "/sys" */
	const char *nvml_library; /* NULL: $JOULES_NVML_LIBRARY if set, else "libnvidia-ml.so.1" */
	/*
	 * Comma-separated names of the sources to use ("powercap,nvml"); NULL
	 * or "": all. An unknown name fails the open with JOULES_ERR_INVALID.
	 * joules_source_name() lists the sources of a context.
	 */
	const char *sources;
	int32_t policy;           /* enum joules_source_policy */
	int32_t reserved;         /* 0 */
	/*
	 * Optional: a buffer of error_len bytes that receives the message of a
	 * failed open (the context, and its joules_last_error(), are gone by
	 * then); "" on success.
	 */
	char *error;
	size_t error_len;
};

/*
 * Open a context with options (NULL: as joules_open(ret, NULL)). Fails with
 * JOULES_ERR_INVALID for a `size` smaller than the first version of the
 * struct, or bigger with nonzero bytes past the fields this library knows,
 * for an unknown source name or policy; with JOULES_POLICY_DAEMON, with the
 * daemon's error (JOULES_ERR_PERMISSION: not running, or this user not in
 * its group) when it cannot be reached. On failure *ret is NULL, the code is returned and
 * opts->error (when given) holds the message.
 */
JOULES_API int joules_open_with(joules_ctx **ret, const struct joules_open_opts *opts);

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

/*
 * Message of the last failed read of sensor `index`, of the last reset of
 * its counter (the values, and why it was taken as a reset), or of the
 * failure behind the last JOULES_READING_GAP; "" if none.
 */
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
 * cannot be used (joules_gpu_error() says why and how to fix it), among
 * them JOULES_ERR_FORKED in a process forked while an NVML call was in
 * flight for longer than fork() waits (see fork() above).
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

/*
 * ---- Regions (JOULES_0.2) ----
 *
 * A region is the energy of a span of code, per sensor and in totals by
 * kind, settled and with its uncertainty: no snapshot arithmetic by hand.
 *
 *     joules_ctx *ctx;
 *     joules_open(&ctx, NULL);
 *     joules_sampler_start(ctx, JOULES_SAMPLER_DEFAULT_US, 0); (peaks, wraps)
 *     int id;
 *     joules_region_begin(ctx, "train", &id);
 *     work();
 *     struct joules_region_result res;
 *     size_t n = joules_sensor_count(ctx);
 *     struct joules_region_sensor *per = calloc(n, sizeof *per);
 *     joules_region_end(ctx, id, 1000, &res, per, n);
 *     res.totals[JOULES_TOTAL_GPU].energy_uj ... µJ of every GPU, ± uncertainty_uj
 *
 * Regions may nest and overlap (each has its own id); a paused region
 * leaves out the energy and the time until it is resumed. Regions, the
 * sampler and joules_read()/joules_settle() may be used together: the
 * sampler thread and the caller's thread take one lock of the context.
 * In a fork() child every call below that measures, samples or locks fails
 * with JOULES_ERR_FORKED (joules_sampler_stop does nothing there).
 */

/* The totals by kind, indices of joules_region_result.totals. */
enum joules_total {
	JOULES_TOTAL_CPU = 0,      /* CPU packages (their cores and uncore are inside them) */
	JOULES_TOTAL_DRAM = 1,     /* DRAM */
	JOULES_TOTAL_GPU = 2,      /* GPUs */
	JOULES_TOTAL_PLATFORM = 3, /* psys: the whole platform, packages included */
};
#define JOULES_TOTALS 4

/* "cpu", "dram", "gpu", "platform"; "none" for any other number. Never NULL. */
JOULES_API const char *joules_total_name(int total);

/* The total a kind belongs to (enum joules_total), or -1 (JOULES_KIND_OTHER). */
JOULES_API int joules_kind_total(int kind);

/*
 * The total that sensor `index` adds to, or -1 when none: the total of its
 * kind (cpu for packages, cores and uncore; dram; gpu; platform), unless a
 * sensor above it (parent, grandparent... joules_sensor.parent) that is
 * selected belongs to the same total, whose energy already contains it: a
 * core inside its package adds nothing to cpu, a package inside psys still
 * adds to cpu (psys is another total). `selected` is NULL (every sensor) or
 * joules_sensor_count() bytes, nonzero for a selected sensor; an unselected
 * sensor adds to nothing. JOULES_ERR_INVALID for a bad call.
 */
JOULES_API int joules_total_of(const joules_ctx *ctx, const uint8_t *selected, size_t index);

/* joules_region_sensor.state: what the region's figures for a sensor are. */
enum joules_region_state {
	JOULES_REGION_OK = 0,         /* read at every boundary: energy_uj is the region's */
	/*
	 * Reads failed during the region but its ends were read: the energy is
	 * still the region's, unless the failed reads lasted long enough to hide
	 * a counter wrap (then JOULES_REGION_HAS_ENERGY is not set; reason says so).
	 */
	JOULES_REGION_GAP = 1,
	/* The sensor failed before the end: energy_uj covers covered_ns only. */
	JOULES_REGION_PARTIAL = 2,
	JOULES_REGION_RESET = 3,      /* the counter was reset: energy unknown */
	JOULES_REGION_UNREADABLE = 4, /* not readable at the start: error, reason say why */
};

/* joules_region_sensor.flags, joules_region_total.flags, joules_region_result.flags */
#define JOULES_REGION_HAS_ENERGY 0x1u  /* energy_uj, uncertainty_uj (and mean_w) hold values */
/*
 * Not final: the data covering an end of the region had not arrived when
 * it was returned (GPUs: ~20-60 ms); joules_region_finish() completes it.
 */
#define JOULES_REGION_PROVISIONAL 0x2u
#define JOULES_REGION_HAS_IDLE 0x4u    /* idle_w and above_idle_uj hold values */
#define JOULES_REGION_PEAK_SAMPLED 0x8u /* peak_w from sampled windows (else the mean) */
#define JOULES_REGION_WRAPPED 0x10u    /* the hardware counter wrapped (wraps times) */

/*
 * One sensor over a region, in sensor order. Fixed size (608 bytes); its
 * layout never changes (callers size arrays of it).
 */
struct joules_region_sensor {
	uint64_t energy_uj;      /* energy in the region's active time, µJ */
	/*
	 * Half-width of a bound on energy_uj's error, µJ: the ends' reading
	 * uncertainties, the counter's refresh, and an estimated sensor's
	 * error over the span. GPUs (NVML): calibrated to cover the energy
	 * counter in 95% of regions (docs/nvml.md, "Uncertainty").
	 */
	uint64_t uncertainty_uj;
	uint64_t covered_ns;     /* time the energy covers (the region's, unless partial) */
	double mean_w;           /* energy_uj / covered_ns, W */
	/*
	 * Highest mean power over the sampler's windows (at least half its
	 * interval) inside the region, and never below mean_w, W.
	 */
	double peak_w;
	double idle_w;             /* the baseline's idle power, W (JOULES_REGION_HAS_IDLE) */
	double idle_uncertainty_w; /* its half-width, W */
	/* energy_uj - idle_w × covered_ns: energy above idle, µJ; may be < 0. */
	int64_t above_idle_uj;
	uint64_t above_idle_uncertainty_uj; /* uncertainty_uj + idle_uncertainty_w × covered_ns */
	uint32_t refresh_us; /* the counter's refresh interval (joules_sensor.refresh_us) */
	uint32_t wraps;      /* hardware wraps seen (and added back) during the region */
	int32_t state;       /* enum joules_region_state */
	int32_t error;       /* 0, or the enum joules_error behind state */
	uint32_t flags;      /* JOULES_REGION_* */
	uint32_t reserved;
	char reason[JOULES_REASON_LEN]; /* when error != 0: the file or call, why, the fix */
};

/* A total by kind over a region. Fixed size (560 bytes). */
struct joules_region_total {
	uint64_t energy_uj;      /* sum of the sensors that add to it (joules_total_of) */
	uint64_t uncertainty_uj; /* sum of their uncertainties: a bound, not a deviation */
	int64_t above_idle_uj;   /* JOULES_REGION_HAS_IDLE: sum of their above_idle_uj */
	uint64_t above_idle_uncertainty_uj;
	uint32_t sensors; /* how many sensors add to it */
	uint32_t flags;   /* JOULES_REGION_HAS_ENERGY, _PROVISIONAL, _HAS_IDLE */
	/*
	 * 0 when given; else why not: JOULES_ERR_NO_SENSOR (no sensor of this
	 * kind), or the error of the sensor `missing` whose energy is not known.
	 */
	int32_t error;
	int32_t missing; /* index of that sensor, or -1 */
	char reason[JOULES_REASON_LEN];
};

/* A region's result. Fixed size (2344 bytes). */
struct joules_region_result {
	char name[JOULES_NAME_LEN];
	uint64_t begin_ns, end_ns; /* CLOCK_MONOTONIC at begin and end */
	uint64_t duration_ns;      /* active time: end - begin - paused_ns */
	uint64_t paused_ns;
	uint32_t flags;     /* JOULES_REGION_PROVISIONAL */
	uint32_t n_sensors; /* joules_sensor_count(); per-sensor entries written: min(n, this) */
	struct joules_region_total totals[JOULES_TOTALS]; /* indexed by enum joules_total */
};

/*
 * Begin a region named `name` (NULL: ""; cut to JOULES_NAME_LEN - 1 bytes)
 * now: reads every sensor. *region gets its id (>= 0), valid until the
 * region is returned final by joules_region_end() or _finish(). Allocates
 * (the region's state); JOULES_ERR_NOMEM, JOULES_ERR_INVALID.
 */
JOULES_API int joules_region_begin(joules_ctx *ctx, const char *name, int *region);

/*
 * Pause a running region / resume a paused one: energy and time in between
 * are left out. JOULES_ERR_INVALID for an unknown, ended, already paused
 * (pause) or running (resume) region.
 */
JOULES_API int joules_region_pause(joules_ctx *ctx, int region);
JOULES_API int joules_region_resume(joules_ctx *ctx, int region);

/*
 * End a region now (a paused one ends where it was paused) and fill *out
 * and per_sensor[0..n-1] (n may be 0, per_sensor NULL; totals always
 * cover every sensor). Waits up to wait_ms for the data that covers the
 * region's ends (GPUs: ~20-60 ms), sleeping, never spinning: 0 returns at
 * once. Returns 0 when the result is final (the id is then free), 1 when
 * it is provisional (JOULES_REGION_PROVISIONAL: extrapolated ends, within
 * their uncertainty): call joules_region_finish() later for the final one.
 * A sensor that failed during the region does not fail the call: its
 * state, error and reason say what happened. JOULES_ERR_INVALID.
 */
JOULES_API int joules_region_end(joules_ctx *ctx, int region, uint32_t wait_ms,
				 struct joules_region_result *out,
				 struct joules_region_sensor *per_sensor, size_t n);

/*
 * The result of a region that joules_region_end() returned provisional,
 * waiting up to wait_ms more. Same returns. From 1.1 s after the end on,
 * the result is final whatever came (readings still unsettled are taken
 * as they are, within their uncertainty).
 */
JOULES_API int joules_region_finish(joules_ctx *ctx, int region, uint32_t wait_ms,
				    struct joules_region_result *out,
				    struct joules_region_sensor *per_sensor, size_t n);

/*
 * Totals of per-sensor results (per_sensor[0..n-1], sensor order, as
 * joules_region_end() filled them; n at least joules_sensor_count()) over
 * the selected sensors only (`selected` as for joules_total_of):
 * out[JOULES_TOTALS]. What joules_region_end() does for every sensor.
 * Returns 0 or JOULES_ERR_INVALID.
 */
JOULES_API int joules_region_totals(const joules_ctx *ctx, const uint8_t *selected,
				    const struct joules_region_sensor *per_sensor, size_t n,
				    struct joules_region_total *out);

/* ---- Sampler: peaks, power traces, wraps in long regions ---- */

#define JOULES_SAMPLER_DEFAULT_US 100000u /* 100 ms */
#define JOULES_SAMPLER_MIN_US 1000u       /* 1 ms */
#define JOULES_SAMPLER_IDLE_US 1000000u   /* 1 s: while no region runs */

/*
 * Start the context's sampler: a thread that reads every sensor each
 * interval_us (at least JOULES_SAMPLER_MIN_US, and shortened to half the
 * shortest wrap period of the sensors so no wrap goes unseen), for the peak
 * power of regions (the highest mean over windows of at least half the
 * interval), a power trace per sensor of the last trace_len windows (0:
 * none), and so that counters that wrap stay exact during long regions.
 * interval_us 0 starts no thread: the caller samples with joules_sample().
 * While no region runs (none begun, or all paused or ended) nothing is
 * measured: the thread samples every JOULES_SAMPLER_IDLE_US instead (or
 * the interval when longer; never past the wrap limit), so the trace has
 * windows a second long there, and an idle context wakes once a second. A
 * region's begin or resume samples at once (the next window starts with
 * it) and the interval resumes.
 * Sensors sampled only while something measures (NVIDIA GPUs: each NVML
 * call costs 0.3-3 ms of CPU) are followed while a region runs or for 2 s
 * after a joules_read(); the sampler alone does not keep them sampled, so
 * an idle context with a sampler costs no NVML call. While they sleep their
 * traces get no window, and none spans the sleep: they resume a sample
 * after they wake.
 * Allocates once here, never per sample. Restarting replaces the settings
 * (and empties the traces). JOULES_ERR_NOMEM, JOULES_ERR_INVALID.
 */
JOULES_API int joules_sampler_start(joules_ctx *ctx, uint32_t interval_us, uint32_t trace_len);

/* Stop the sampler thread (and drop the traces); safe when none runs. */
JOULES_API void joules_sampler_stop(joules_ctx *ctx);

/* The sampler's interval in µs after the limits above; 0 when no thread runs. */
JOULES_API uint32_t joules_sampler_interval(const joules_ctx *ctx);

/* Take one sample now, as the sampler thread does each interval. 0 or an error. */
JOULES_API int joules_sample(joules_ctx *ctx);

/* joules_trace_point.flags */
#define JOULES_TRACE_WRAPPED 0x1u /* the hardware counter wrapped in the window (added back) */
/*
 * Samples of an integrated sensor failed inside the window: its energy is
 * integrated across them (JOULES_READING_GAP); joules_trace_reason() says why.
 */
#define JOULES_TRACE_GAP 0x4u
/* The counter was reset in the window: its energy is unknown (status JOULES_ERR_RESET). */
#define JOULES_TRACE_RESET 0x10u
/*
 * A settled reading came out below energy the trace had already given (a
 * GPU's estimate refined between two settles): the trace never goes back,
 * so this window's energy is lowered by the difference (to 0 at least) and
 * what is left is taken from the next windows, each flagged so. The sum of
 * a sensor's energy_uj never decreases; it may run ahead of the readings
 * by that difference, within their uncertainty_uj.
 */
#define JOULES_TRACE_CARRIED 0x20u

/*
 * One window of a sensor's power trace. Fixed size (48 bytes). A window
 * starts at the end of the last window with energy (status 0) and ends at
 * time_ns; a failed reading gives a point with its status, no energy, and
 * the window since the sensor's previous point, and the next good point
 * spans it from the last good reading, so a counter's energy is kept.
 */
struct joules_trace_point {
	/*
	 * The sample that ended the window, counted from 1 per context: the
	 * points of one sample have the same number in every sensor's trace.
	 */
	uint64_t sample;
	uint64_t time_ns;   /* end of the window, CLOCK_MONOTONIC */
	uint64_t window_ns; /* its length */
	uint64_t energy_uj; /* energy in it (0 when status is not 0) */
	double power_w;     /* energy_uj / window_ns, W */
	/*
	 * 0, or why the window has no energy: the reading's error (a failed
	 * read), or JOULES_ERR_RESET (JOULES_TRACE_RESET).
	 */
	int32_t status;
	uint32_t flags; /* JOULES_TRACE_* */
};

/*
 * Sensor `sensor`'s trace windows that end after after_ns, oldest first,
 * at most n of them, into out. Only final readings make windows, so a GPU's
 * trace trails by ~20-60 ms. Returns the count written (0 without a trace),
 * JOULES_ERR_NO_SENSOR or JOULES_ERR_INVALID.
 */
JOULES_API int joules_trace(joules_ctx *ctx, size_t sensor, uint64_t after_ns,
			    struct joules_trace_point *out, size_t n);

/*
 * The library's message behind sensor `sensor`'s trace point of sample
 * `sample` (its status, JOULES_TRACE_RESET or _GAP: the file or call, why,
 * the fix), copied into buf (len bytes, cut to fit) under the context's
 * lock, as the sampler thread took it with the reading. "" when the point
 * had none or its message is no longer kept (the last few runs of one
 * message per sensor are). 0, JOULES_ERR_NO_SENSOR or JOULES_ERR_INVALID.
 */
JOULES_API int joules_trace_reason(joules_ctx *ctx, size_t sensor, uint64_t sample, char *buf,
				   size_t len);

/*
 * The longest interval between readings that still sees every wrap of the
 * readable sensors (half the shortest wrap period), ns; 0 when none wraps.
 * joules_sampler_start() shortens its interval to it; a caller that reads
 * on its own schedule should too.
 */
JOULES_API uint64_t joules_max_interval_ns(const joules_ctx *ctx);

/* ---- Idle baseline ---- */

/* A sensor's idle power. Fixed size (32 bytes). */
struct joules_baseline {
	double power_w;       /* idle power, W */
	double uncertainty_w; /* its half-width, W */
	uint64_t duration_ns; /* measured over this long; 0 when given by the caller */
	int32_t error;        /* 0: known; else why not (the sensor's error) */
	uint32_t reserved;
};

/*
 * Measure idle power per sensor over duration_ms (sleeping on this thread,
 * so run nothing else meanwhile) and keep it: regions ended afterwards
 * report energy above idle (JOULES_REGION_HAS_IDLE). JOULES_ERR_INVALID.
 */
JOULES_API int joules_baseline_measure(joules_ctx *ctx, uint32_t duration_ms);

/*
 * Keep the idle power of a region's per-sensor result (its mean power and
 * uncertainty over its time), e.g. of a region the caller timed itself.
 * per_sensor[0..n-1], n = joules_sensor_count(). JOULES_ERR_INVALID.
 */
JOULES_API int joules_baseline_from_region(joules_ctx *ctx,
					   const struct joules_region_sensor *per_sensor, size_t n);

/*
 * Keep a baseline the caller gives (b[0..n-1], n = joules_sensor_count();
 * NULL and 0 drop it), or read the one kept (JOULES_ERR_NO_SENSOR when none).
 */
JOULES_API int joules_baseline_set(joules_ctx *ctx, const struct joules_baseline *b, size_t n);
JOULES_API int joules_baseline_get(const joules_ctx *ctx, struct joules_baseline *out, size_t n);

#ifdef __cplusplus
}
#endif

#endif
