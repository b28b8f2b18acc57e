/* SPDX-License-Identifier: MIT */
/*
 * A fake libnvidia-ml.so.1 that joules loads through its real dlopen path
 * (JOULES_NVML_LIBRARY). Its GPUs are set by a config file named by
 * $FAKE_NVML_CONFIG, re-read whenever the file is replaced, so a test can
 * change behaviour mid-run. One line per setting, GPU index first:
 *
 *   gpus N                  number of GPUs (default 1, at most FAKE_MAX)
 *   name I text...          uuid I text   busid I text
 *   power_mw I P            instant and average power; the energy counter
 *                           advances at this rate with real time
 *   step_ms I S             the counter moves every S ms (default 100)
 *   sample_ms I S           nvmlDeviceGetSamples: one power sample per S ms
 *                           (default 20), the mean over its window, stamped
 *                           (CLOCK_REALTIME µs) at the window's end
 *   samples_lag_ms I L      a sample is returned only L ms after its stamp
 *   keep_samples I N        the history holds the newest N samples (default
 *                           and at most 128, ~2.5 s at 20 ms, as the driver)
 *   samples_pct I P         samples read P% of the true power (default 100),
 *                           as a driver's may be off: the counter is right
 *   energy_mj I E           counter value when the GPU first counts
 *   reset I G               a new G restarts the counter from 0 (driver reset)
 *   lost I                  every call on GPU I returns NVML_ERROR_GPU_IS_LOST
 *   fail FUNC I CODE        FUNC (exported name, unversioned) returns CODE
 *                           for GPU I, or for every GPU / no GPU when I is -1
 *   mem I TOTAL USED        util I GPU MEM      limit_mw I L
 *   cost_us FUNC US         every call of FUNC (exported name, unversioned)
 *                           spins for US µs of this thread's CPU time, inside
 *                           the call, as the driver's ioctls cost (the
 *                           H200's: energy counter ~3200, samples ~290), so
 *                           a benchmark measures call rates × cost
 *
 * fork(), as the real NVML does it (driver 580, tools/fork_check.c): every
 * call holds one library-wide mutex (call_lock) from entry to return, and
 * the fake does nothing about it at fork: a child forked while another
 * thread is inside a call inherits it locked by a thread the child does
 * not have, and every NVML call of the child, its nvmlInit first, hangs.
 * The session does not carry into a child either, which must call
 * nvmlInit again (the strict reading of NVML): the child starts
 * uninitialised. Only the test bookkeeping below is reset in the child.
 * For tests: fake_nvml_calls() counts the calls made in this process since
 * it started or forked, fake_nvml_calls_of(FUNC) those of one function
 * (unversioned name); fake_nvml_pause(1) makes the next
 * nvmlDeviceGetSamples wait inside the call (call_lock held, as in a slow
 * or hung call) until fake_nvml_pause(0), and fake_nvml_wait_paused()
 * returns once a call waits there (the caller's own locks are then held
 * for as long as the test says). These hooks take only the bookkeeping
 * lock, so they answer while a call waits.
 *
 * Built four ways (meson.build): the full library; one without
 * nvmlDeviceGetTotalEnergyConsumption (FAKE_NO_ENERGY); one with only the
 * old unversioned names (FAKE_OLD_NAMES); one without the required
 * nvmlDeviceGetUUID (FAKE_NO_UUID).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nvml_api.h"

#define FAKE_API __attribute__((visibility("default")))
#define FAKE_MAX 16
#define FAKE_FAILS 32
#define FAKE_SAMPLES 128 /* the driver keeps ~2.4 s of 20 ms samples */
#define FAKE_FUNCS 48    /* functions counted, and priced */

struct nvmlDevice_st {
	char name[96], uuid[96], busid[32];
	uint64_t power_mw, step_ms, limit_mw, mem_total, mem_used;
	unsigned util_gpu, util_mem;
	long reset_gen;
	int lost;
	/* The counter: energy_uj truth at energy_ns; shown_mj is what NVML shows. */
	int counting;
	uint64_t energy_uj, energy_ns, step_base_ns, shown_mj;
	/* Power samples: the last window's end and the energy there; a ring. */
	uint64_t sample_ms, lag_ms, sample_base_ns, sample_base_uj, samples_pct;
	unsigned keep; /* samples the history holds */
	struct { unsigned long long ts_us; unsigned mw; } samples[FAKE_SAMPLES];
	unsigned n_samples, next_sample;
};

struct fail {
	char func[64];
	int gpu, code;
};

/* NVML's own: held through every call, never reset at fork. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
/* The fake's state and the test hooks' bookkeeping, inside call_lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvmlDevice_st gpus[FAKE_MAX];
static struct fail fails[FAKE_FAILS];
static unsigned n_gpus, n_fails;
/* Per function: calls made (kept across configs) and the CPU each costs (from the config). */
static struct {
	char func[64];
	unsigned long calls;
	unsigned cost_us;
} funcs[FAKE_FUNCS];
static unsigned n_funcs;
static int init_count;
static unsigned long calls;
/* fake_nvml_pause(): pause_on asks, paused says a call waits; `changed` wakes both. */
static int pause_on, paused;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct stat seen; /* the config file last read */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * CLOCK_REALTIME less CLOCK_MONOTONIC, read back to back: a monotonic
 * moment's wall-clock stamp. (`now` here may be a moment in the past, when
 * a config's change is placed at its file's mtime: never take the offset
 * from it.)
 */
static uint64_t real_offset(void)
{
	uint64_t mono = now_ns();
	return clock_ns(CLOCK_REALTIME) - mono;
}

/* Close every sample window that ended by `now` (energy_uj is at `now`). */
static void take_samples(struct nvmlDevice_st *g, uint64_t now)
{
	uint64_t win = (g->sample_ms ? g->sample_ms : 1) * 1000000u;
	uint64_t real_off = real_offset();
	while (g->sample_base_ns + win <= now) {
		uint64_t t = g->sample_base_ns + win;
		uint64_t e = g->energy_uj - g->power_mw * (now - t) / 1000000u;
		g->samples[g->next_sample].ts_us = (t + real_off) / 1000u;
		g->samples[g->next_sample].mw =
			(unsigned)((e - g->sample_base_uj) * 1000000u / win * g->samples_pct / 100u);
		g->next_sample = (g->next_sample + 1) % FAKE_SAMPLES;
		if (g->n_samples < FAKE_SAMPLES)
			g->n_samples++;
		g->sample_base_ns = t;
		g->sample_base_uj = e;
	}
}

/* Advance GPU g's true energy to `now` at its current power. */
static void advance(struct nvmlDevice_st *g, uint64_t now)
{
	if (!g->counting) {
		g->counting = 1;
		g->energy_ns = g->step_base_ns = g->sample_base_ns = now;
		g->shown_mj = g->energy_uj / 1000u;
		g->sample_base_uj = g->energy_uj;
		/* Like the driver, start with a history: half the ring, at this power. */
		uint64_t win = (g->sample_ms ? g->sample_ms : 1) * 1000000u;
		uint64_t real = now + real_offset();
		for (unsigned k = FAKE_SAMPLES / 2; k > 0; k--) {
			g->samples[g->n_samples].ts_us = (real - (uint64_t)k * win) / 1000u;
			g->samples[g->n_samples++].mw = (unsigned)(g->power_mw * g->samples_pct / 100u);
		}
		g->next_sample = g->n_samples;
		return;
	}
	g->energy_uj += g->power_mw * (now - g->energy_ns) / 1000000u;
	g->energy_ns = now;
	uint64_t step_ns = (g->step_ms ? g->step_ms : 1) * 1000000u;
	uint64_t steps = (now - g->step_base_ns) / step_ns;
	if (steps) {
		/* The value at the last step boundary, as the driver would show it. */
		uint64_t boundary = g->step_base_ns + steps * step_ns;
		g->step_base_ns = boundary;
		g->shown_mj = (g->energy_uj - g->power_mw * (now - boundary) / 1000000u) / 1000u;
	}
	take_samples(g, now);
}

static void defaults(unsigned i, struct nvmlDevice_st *g)
{
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "NVIDIA Fake GPU %u", i);
	snprintf(g->uuid, sizeof g->uuid, "GPU-fa4e0000-0000-4000-8000-%012u", i);
	snprintf(g->busid, sizeof g->busid, "00000000:%02X:00.0", 0x17 + i);
	g->power_mw = 100000;
	g->step_ms = 100;
	g->sample_ms = 20;
	g->samples_pct = 100;
	g->limit_mw = 700000;
	g->mem_total = 80ull << 30;
	g->mem_used = 1ull << 30;
	g->util_gpu = 50;
	g->util_mem = 20;
	g->keep = FAKE_SAMPLES;
}

/* FUNC's slot (added when new), or FAKE_FUNCS when the table is full. */
static unsigned func_slot(const char *func)
{
	for (unsigned k = 0; k < n_funcs; k++)
		if (!strcmp(funcs[k].func, func))
			return k;
	if (n_funcs == FAKE_FUNCS)
		return FAKE_FUNCS;
	snprintf(funcs[n_funcs].func, sizeof funcs[0].func, "%s", func);
	return n_funcs++;
}

/* A call of FUNC: counted, and its CPU cost spent (this thread's CPU time). */
static void count_call(const char *func)
{
	calls++;
	unsigned k = func_slot(func);
	if (k == FAKE_FUNCS)
		return;
	funcs[k].calls++;
	if (!funcs[k].cost_us)
		return;
	uint64_t end = clock_ns(CLOCK_THREAD_CPUTIME_ID) + funcs[k].cost_us * 1000ull;
	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		;
}

static void apply(struct nvmlDevice_st *g, const char *key, const char *rest)
{
	char *end;
	if (!strcmp(key, "name"))
		snprintf(g->name, sizeof g->name, "%s", rest);
	else if (!strcmp(key, "uuid"))
		snprintf(g->uuid, sizeof g->uuid, "%s", rest);
	else if (!strcmp(key, "busid"))
		snprintf(g->busid, sizeof g->busid, "%s", rest);
	else if (!strcmp(key, "power_mw"))
		g->power_mw = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "step_ms"))
		g->step_ms = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "sample_ms"))
		g->sample_ms = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "samples_lag_ms"))
		g->lag_ms = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "keep_samples"))
		g->keep = (unsigned)strtoul(rest, NULL, 10);
	else if (!strcmp(key, "samples_pct"))
		g->samples_pct = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "energy_mj") && !g->counting)
		g->energy_uj = strtoull(rest, NULL, 10) * 1000u;
	else if (!strcmp(key, "reset"))
		g->reset_gen = strtol(rest, NULL, 10);
	else if (!strcmp(key, "lost"))
		g->lost = 1;
	else if (!strcmp(key, "limit_mw"))
		g->limit_mw = strtoull(rest, NULL, 10);
	else if (!strcmp(key, "util")) {
		g->util_gpu = (unsigned)strtoul(rest, &end, 10);
		g->util_mem = (unsigned)strtoul(end, NULL, 10);
	} else if (!strcmp(key, "mem")) {
		g->mem_total = strtoull(rest, &end, 10);
		g->mem_used = strtoull(end, NULL, 10);
	}
}

/* Parse the file (NULL: none) into fresh settings, keeping counters running. */
static void parse(FILE *f, uint64_t now)
{
	struct nvmlDevice_st old[FAKE_MAX];
	memcpy(old, gpus, sizeof old);
	for (unsigned i = 0; i < FAKE_MAX; i++)
		defaults(i, &gpus[i]);
	n_gpus = 1;
	n_fails = 0;
	for (unsigned k = 0; k < n_funcs; k++)
		funcs[k].cost_us = 0;
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char key[32], func[64];
		int i, code, used = 0;
		unsigned us;
		if (sscanf(line, "gpus %d", &i) == 1) {
			n_gpus = i < 0 ? 0 : i > FAKE_MAX ? FAKE_MAX : (unsigned)i;
		} else if (sscanf(line, "cost_us %63s %u", func, &us) == 2) {
			unsigned k = func_slot(func);
			if (k < FAKE_FUNCS)
				funcs[k].cost_us = us;
		} else if (sscanf(line, "fail %63s %d %d", func, &i, &code) == 3) {
			if (n_fails < FAKE_FAILS) {
				fails[n_fails] = (struct fail){.gpu = i, .code = code};
				snprintf(fails[n_fails++].func, sizeof fails[0].func, "%s", func);
			}
		} else if (sscanf(line, "%31s %d %n", key, &i, &used) == 2 && i >= 0 && i < FAKE_MAX) {
			apply(&gpus[i], key, line + used);
		}
	}
	for (unsigned i = 0; i < FAKE_MAX; i++) {
		struct nvmlDevice_st *g = &gpus[i];
		if (!old[i].counting)
			continue;
		g->counting = 1;
		g->energy_uj = old[i].energy_uj;
		g->energy_ns = old[i].energy_ns;
		g->step_base_ns = old[i].step_base_ns;
		g->shown_mj = old[i].shown_mj;
		g->sample_base_ns = old[i].sample_base_ns;
		g->sample_base_uj = old[i].sample_base_uj;
		memcpy(g->samples, old[i].samples, sizeof g->samples);
		g->n_samples = old[i].n_samples;
		g->next_sample = old[i].next_sample;
		if (g->reset_gen != old[i].reset_gen) {
			g->energy_uj = g->shown_mj = g->sample_base_uj = 0;
			g->energy_ns = g->step_base_ns = g->sample_base_ns = now;
		}
	}
}

/* Bring every counting GPU up to `t` (none goes back). */
static void advance_all(uint64_t t)
{
	for (unsigned i = 0; i < FAKE_MAX; i++)
		if (gpus[i].counting && t >= gpus[i].energy_ns)
			advance(&gpus[i], t);
}

/*
 * Re-read the config if it was replaced; bring every counter up to now.
 * Counters run at the old power up to the moment the file was written (its
 * mtime), not to when a call first sees it: a caller that calls rarely
 * (joules samples GPUs only while measuring) still sees power change when
 * the test changed it.
 */
static void refresh(void)
{
	uint64_t now = now_ns();
	const char *path = getenv("FAKE_NVML_CONFIG");
	struct stat st;
	static int loaded;
	if (!path || stat(path, &st) < 0) {
		advance_all(now);
		if (!loaded) {
			parse(NULL, now);
			loaded = 1;
		}
		return;
	}
	if (loaded && st.st_ino == seen.st_ino && st.st_size == seen.st_size &&
	    st.st_mtim.tv_sec == seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec) {
		advance_all(now);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		advance_all(now);
		return;
	}
	uint64_t real = clock_ns(CLOCK_REALTIME);
	uint64_t written = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	uint64_t at = written >= real ? now : real - written > now ? 0 : now - (real - written);
	advance_all(at);
	for (unsigned i = 0; i < FAKE_MAX; i++) /* a GPU already past `at` changes now */
		if (gpus[i].counting && gpus[i].energy_ns > at)
			at = gpus[i].energy_ns;
	parse(f, at);
	fclose(f);
	seen = st;
	loaded = 1;
	advance_all(now);
}

/* The configured failure of FUNC on GPU gpu (-1: no GPU), or 0. */
static int failure(const char *func, int gpu)
{
	for (unsigned i = 0; i < n_fails; i++)
		if (!strcmp(fails[i].func, func) && (fails[i].gpu == -1 || fails[i].gpu == gpu))
			return fails[i].code;
	return 0;
}

static void lock_both(void)
{
	pthread_mutex_lock(&call_lock);
	pthread_mutex_lock(&lock);
}

static void unlock_both(void)
{
	pthread_mutex_unlock(&lock);
	pthread_mutex_unlock(&call_lock);
}

/* Every call: the locks, a fresh config, and the failure to return. */
#define ENTER(func, g)                                                             \
	lock_both();                                                               \
	refresh();                                                                 \
	count_call(func);                                                          \
	int rc_ = !init_count ? NVML_ERROR_UNINITIALIZED                           \
		: (g) && (g)->lost ? NVML_ERROR_GPU_IS_LOST                        \
		: failure(func, (g) ? (int)((g) - gpus) : -1);                     \
	if (rc_) {                                                                 \
		unlock_both();                                                     \
		return rc_;                                                        \
	}
#define LEAVE()        \
	unlock_both(); \
	return NVML_SUCCESS

static nvmlReturn_t do_init(void)
{
	lock_both();
	refresh();
	count_call("nvmlInit");
	int rc = failure("nvmlInit", -1);
	if (!rc)
		init_count++;
	unlock_both();
	return rc;
}

FAKE_API nvmlReturn_t nvmlShutdown(void)
{
	lock_both();
	count_call("nvmlShutdown");
	int rc = init_count ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
	if (init_count)
		init_count--;
	unlock_both();
	return rc;
}

/* For tests: how many nvmlInit calls are not yet shut down. */
FAKE_API int fake_nvml_init_count(void)
{
	return init_count;
}

/* For tests: NVML calls made in this process since it started or forked. */
FAKE_API unsigned long fake_nvml_calls(void)
{
	pthread_mutex_lock(&lock);
	unsigned long n = calls;
	pthread_mutex_unlock(&lock);
	return n;
}

/* For tests: calls of FUNC (unversioned name) made in this process since it started or forked. */
FAKE_API unsigned long fake_nvml_calls_of(const char *func)
{
	pthread_mutex_lock(&lock);
	unsigned long n = 0;
	for (unsigned k = 0; k < n_funcs; k++)
		if (!strcmp(funcs[k].func, func))
			n = funcs[k].calls;
	pthread_mutex_unlock(&lock);
	return n;
}

/* For tests: hold the next nvmlDeviceGetSamples call (on = 1) or let it go. */
FAKE_API void fake_nvml_pause(int on)
{
	pthread_mutex_lock(&lock);
	pause_on = on;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

/* For tests: return once an nvmlDeviceGetSamples call waits in the pause. */
FAKE_API void fake_nvml_wait_paused(void)
{
	pthread_mutex_lock(&lock);
	while (!paused)
		pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
}

/*
 * The child: no session, no paused call (that thread stayed in the parent),
 * and the hooks' lock and condition afresh. call_lock is left as it was.
 */
static void fork_child(void)
{
	static const pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
	static const pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
	lock = fresh_lock;
	changed = fresh_cond;
	init_count = 0;
	calls = 0;
	for (unsigned k = 0; k < n_funcs; k++)
		funcs[k].calls = 0;
	pause_on = paused = 0;
}

__attribute__((constructor)) static void register_fork_handlers(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

FAKE_API const char *nvmlErrorString(nvmlReturn_t rc)
{
	switch (rc) {
	case NVML_SUCCESS: return "Success";
	case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
	case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
	case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
	case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
	case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
	}
	return "Unknown Error";
}

FAKE_API nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned len)
{
	ENTER("nvmlSystemGetDriverVersion", (struct nvmlDevice_st *)NULL);
	snprintf(buf, len, "580.159.04");
	LEAVE();
}

FAKE_API nvmlReturn_t nvmlSystemGetNVMLVersion(char *buf, unsigned len)
{
	ENTER("nvmlSystemGetNVMLVersion", (struct nvmlDevice_st *)NULL);
	snprintf(buf, len, "13.580.159.04");
	LEAVE();
}

static nvmlReturn_t get_count(unsigned *n)
{
	ENTER("nvmlDeviceGetCount", (struct nvmlDevice_st *)NULL);
	*n = n_gpus;
	LEAVE();
}

static nvmlReturn_t get_handle(unsigned i, nvmlDevice_t *h)
{
	ENTER("nvmlDeviceGetHandleByIndex", i < FAKE_MAX ? &gpus[i] : NULL);
	if (i >= n_gpus) {
		unlock_both();
		return NVML_ERROR_INVALID_ARGUMENT;
	}
	*h = &gpus[i];
	LEAVE();
}

static nvmlReturn_t get_pci(nvmlDevice_t g, nvmlPciInfo_t *p)
{
	ENTER("nvmlDeviceGetPciInfo", g);
	memset(p, 0, sizeof *p);
	snprintf(p->busId, sizeof p->busId, "%s", g->busid);
	snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "%.15s", g->busid + 4);
	LEAVE();
}

#ifdef FAKE_OLD_NAMES
FAKE_API nvmlReturn_t nvmlInit(void) { return do_init(); }
FAKE_API nvmlReturn_t nvmlDeviceGetCount(unsigned *n) { return get_count(n); }
FAKE_API nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned i, nvmlDevice_t *h)
{
	return get_handle(i, h);
}
FAKE_API nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t g, nvmlPciInfo_t *p)
{
	return get_pci(g, p);
}
#else
FAKE_API nvmlReturn_t nvmlInit_v2(void) { return do_init(); }
FAKE_API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n) { return get_count(n); }
FAKE_API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *h)
{
	return get_handle(i, h);
}
FAKE_API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t g, nvmlPciInfo_t *p)
{
	return get_pci(g, p);
}
#endif

FAKE_API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t g, char *buf, unsigned len)
{
	ENTER("nvmlDeviceGetName", g);
	snprintf(buf, len, "%s", g->name);
	LEAVE();
}

#ifndef FAKE_NO_UUID
FAKE_API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t g, char *buf, unsigned len)
{
	ENTER("nvmlDeviceGetUUID", g);
	snprintf(buf, len, "%s", g->uuid);
	LEAVE();
}
#endif

#ifndef FAKE_NO_ENERGY
FAKE_API nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t g, unsigned long long *mj)
{
	ENTER("nvmlDeviceGetTotalEnergyConsumption", g);
	advance(g, now_ns());
	*mj = g->shown_mj;
	LEAVE();
}
#endif

FAKE_API nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t g, unsigned *mw)
{
	ENTER("nvmlDeviceGetPowerUsage", g);
	*mw = (unsigned)g->power_mw;
	LEAVE();
}

FAKE_API nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t g, unsigned *mw)
{
	ENTER("nvmlDeviceGetEnforcedPowerLimit", g);
	*mw = (unsigned)g->limit_mw;
	LEAVE();
}

FAKE_API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t g, nvmlMemory_t *m)
{
	ENTER("nvmlDeviceGetMemoryInfo", g);
	m->total = g->mem_total;
	m->used = g->mem_used;
	m->free = g->mem_total - g->mem_used;
	LEAVE();
}

FAKE_API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t g, nvmlUtilization_t *u)
{
	ENTER("nvmlDeviceGetUtilizationRates", g);
	u->gpu = g->util_gpu;
	u->memory = g->util_mem;
	LEAVE();
}

/* Only the instant power field; others are NOT_SUPPORTED per value. */
FAKE_API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t g, int n, nvmlFieldValue_t *v)
{
	ENTER("nvmlDeviceGetFieldValues", g);
	for (int k = 0; k < n; k++) {
		v[k].valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
		v[k].nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
		if (v[k].fieldId == NVML_FI_DEV_POWER_INSTANT) {
			v[k].nvmlReturn = NVML_SUCCESS;
			v[k].value.uiVal = (unsigned)g->power_mw;
		}
	}
	LEAVE();
}

/* Total power samples newer than `last` (µs) and older than the lag. */
FAKE_API nvmlReturn_t nvmlDeviceGetSamples(nvmlDevice_t g, int type, unsigned long long last,
					   nvmlValueType_t *vtype, unsigned *count,
					   nvmlSample_t *out)
{
	ENTER("nvmlDeviceGetSamples", g);
	uint64_t now = now_ns();
	advance(g, now);
	if (type != NVML_TOTAL_POWER_SAMPLES) {
		unlock_both();
		return NVML_ERROR_NOT_SUPPORTED;
	}
	unsigned long long newest = (clock_ns(CLOCK_REALTIME) - g->lag_ms * 1000000u) / 1000u;
	unsigned k = 0, keep = g->keep < FAKE_SAMPLES ? g->keep : FAKE_SAMPLES;
	unsigned have = g->n_samples < keep ? g->n_samples : keep;
	for (unsigned j = 0; j < have; j++) {
		unsigned idx = (g->next_sample + FAKE_SAMPLES - have + j) % FAKE_SAMPLES;
		if (g->samples[idx].ts_us <= last || g->samples[idx].ts_us > newest)
			continue;
		if (out && k < *count) {
			out[k].timeStamp = g->samples[idx].ts_us;
			out[k].sampleValue.uiVal = g->samples[idx].mw;
		}
		k++;
	}
	*vtype = NVML_VALUE_TYPE_UNSIGNED_INT;
	if (out && k > *count)
		k = *count;
	*count = k;
	/*
	 * fake_nvml_pause(): wait here, inside the call; pthread_cond_wait lets
	 * the hooks' lock go meanwhile, call_lock stays held.
	 */
	while (pause_on) {
		paused = 1;
		pthread_cond_broadcast(&changed);
		pthread_cond_wait(&changed, &lock);
	}
	paused = 0;
	unlock_both();
	return k ? NVML_SUCCESS : NVML_ERROR_NOT_FOUND;
}
