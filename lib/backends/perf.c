/* SPDX-License-Identifier: MIT */
/*
 * CPU RAPL domains through the perf `power` PMU:
 * <root>/bus/event_source/devices/power/ with `type`, `cpumask`, the `format`
 * directory and events/energy-* (each with .scale and .unit).
 *
 * Each energy-* event is opened with perf_event_open on each CPU of the
 * cpumask (one per package, or per die); energy-psys covers the platform and
 * is opened once. The kernel keeps a 64-bit count of .scale joules per
 * count, so the counter never wraps and is converted with an exact fraction.
 *
 * Each event on each cpumask CPU is a candidate for the domain of that
 * CPU's package (or die, where cpumask names one CPU per die), found in
 * devices/system/cpu/cpuN/topology; the core merges it with other
 * sources' candidates of that domain (lib/domain.c).
 *
 * Dead counters: a perf event counts from 0 when it is opened, and RAPL
 * updates every ~1 ms, so a live counter is above 0 within milliseconds.
 * Open waits PERF_SETTLE_NS after the last event it opened; a read that
 * finds a counter that has never left 0 fails with JOULES_ERR_NOT_COUNTING
 * (never a reading of "0 J used"). The first non-zero read clears this for
 * good. Some hypervisors expose energy-psys and never advance it.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../backend.h"
#include "../sysfs.h"
#include "perf_format.h"

#define PMU_DIR "bus/event_source/devices/power"
#define PERF_MAX_CPUS 256
/* 10 RAPL update intervals: a live counter has left 0 by then. */
#define PERF_SETTLE_NS 10000000ull
/* RAPL updates its counters about every millisecond (Intel SDM). */
#define PERF_REFRESH_US 1000u
/*
 * One read(2) of the event: the kernel reads the MSR on the event's CPU, as
 * powercap's energy_uj does, plus the perf layer; not measured (no RAPL
 * PMU on the machines at hand), ranked just above powercap's pread.
 */
#define PERF_COST_NS 4000u
#define WHY_LEN 400

const struct jl_backend jl_backend_perf;

/* A sensor's state on the read path. */
struct perf_data {
	char event[48];
	unsigned cpu;
	uint64_t opened_ns;
	bool advanced; /* has read non-zero at least once */
};

/* The domains the kernel's RAPL PMU names, in the order they are listed. */
static const struct domain {
	const char *event, *base;
	int kind;
	bool per_package;
} domains[] = {
	{"energy-pkg", "package", JOULES_KIND_CPU_PACKAGE, true},
	{"energy-cores", "core", JOULES_KIND_CPU_CORE, true},
	/* PP1, which powercap names "uncore". */
	{"energy-gpu", "uncore", JOULES_KIND_UNCORE, true},
	{"energy-ram", "dram", JOULES_KIND_DRAM, true},
	{"energy-psys", "psys", JOULES_KIND_PLATFORM, false},
};
#define N_DOMAINS (sizeof domains / sizeof domains[0])

/* One events/energy-* entry: how to open it, or why it cannot be. */
struct event {
	char name[48];
	char base[40];
	int kind;
	bool per_package;
	size_t order;
	uint64_t config, uj_num, uj_den;
	int err;
	char why[WHY_LEN];
};

struct pmu {
	char dir[JL_PATH_MAX];
	uint32_t type;
	unsigned cpus[PERF_MAX_CPUS];
	size_t n_cpus;
	/* Where each cpumask CPU sits (devices/system/cpu/cpuN/topology). */
	struct place { int32_t package, die; } place[PERF_MAX_CPUS];
	/* cpumask names one CPU per die, not per package: the events count per die. */
	bool per_die;
	char paranoid[16]; /* kernel.perf_event_paranoid, for messages */
	int err;           /* the PMU as a whole is unusable */
	char why[WHY_LEN];
	uint64_t last_open_ns; /* 0: no event held open */
};

static void say(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, WHY_LEN, fmt, ap);
	va_end(ap);
}

/* Read <pmu>/<rel> into buf: its length, or an enum joules_error with *errnum. */
static int pmu_text(const struct pmu *pmu, const char *rel, char *buf, size_t len, int *errnum)
{
	char path[JL_PATH_MAX];
	*errnum = 0;
	if (snprintf(path, sizeof path, "%s/%s", pmu->dir, rel) >= (int)sizeof path)
		return JOULES_ERR_INVALID;
	return jl_read_text(path, buf, len, errnum);
}

static void load_pmu(struct pmu *pmu)
{
	char text[1024];
	uint64_t type;
	int e;
	int n = pmu_text(pmu, "type", text, sizeof text, &e);
	if (n < 0) {
		pmu->err = JOULES_ERR_UNSUPPORTED;
		say(pmu->why, "%s/type: cannot read: %s", pmu->dir, jl_sysfs_why(n, e));
	} else if (jl_parse_u64(text, &type) || type > UINT32_MAX) {
		pmu->err = JOULES_ERR_PARSE;
		say(pmu->why, "%s/type holds \"%.32s\", not a PMU type number", pmu->dir, text);
	} else {
		pmu->type = (uint32_t)type;
	}
	if (pmu->err)
		return;
	n = pmu_text(pmu, "cpumask", text, sizeof text, &e);
	if (n < 0) {
		pmu->err = JOULES_ERR_UNSUPPORTED;
		say(pmu->why, "%s/cpumask: cannot read: %s; it names the CPU of each package to "
			      "open the events on", pmu->dir, jl_sysfs_why(n, e));
	} else if (jl_perf_cpulist(text, pmu->cpus, PERF_MAX_CPUS, &pmu->n_cpus)) {
		pmu->err = JOULES_ERR_PARSE;
		say(pmu->why, "%s/cpumask holds \"%.32s\", not a CPU list like \"0,28\"", pmu->dir,
		    text);
	}
	if (jl_read_text("/proc/sys/kernel/perf_event_paranoid", pmu->paranoid,
			 sizeof pmu->paranoid, NULL) <= 0)
		snprintf(pmu->paranoid, sizeof pmu->paranoid, "unknown");
}

/* events/<name> ("event=0x02,umask=0x1") into a config, through format/. */
static void parse_config(const struct pmu *pmu, struct event *ev)
{
	char text[256], rel[128], format[128];
	int e = 0;
	int n = snprintf(rel, sizeof rel, "events/%s", ev->name);
	if (n < (int)sizeof rel)
		n = pmu_text(pmu, rel, text, sizeof text, &e);
	else
		n = JOULES_ERR_INVALID;
	if (n <= 0) {
		ev->err = JOULES_ERR_PARSE;
		say(ev->why, "%s/events/%s: %s", pmu->dir, ev->name,
		    n < 0 ? jl_sysfs_why(n, e) : "empty, no event terms");
		return;
	}
	const char *cursor = text;
	char term[32];
	uint64_t value;
	ev->config = 0;
	while ((n = jl_perf_term(&cursor, term, sizeof term, &value)) == 1) {
		snprintf(rel, sizeof rel, "format/%s", term);
		if (pmu_text(pmu, rel, format, sizeof format, &e) <= 0) {
			ev->err = JOULES_ERR_PARSE;
			say(ev->why, "%s/format/%s: missing, so the term \"%s\" of events/%s has no "
				     "place in the event's config", pmu->dir, term, term, ev->name);
			return;
		}
		int r = jl_perf_format_apply(format, value, &ev->config);
		if (r) {
			ev->err = r;
			say(ev->why, "%s/format/%s holds \"%.40s\": %s", pmu->dir, term, format,
			    r == JOULES_ERR_UNSUPPORTED ? "only config fields are supported"
							: "not a config bit range that fits the value");
			return;
		}
	}
	if (n < 0) {
		ev->err = JOULES_ERR_PARSE;
		say(ev->why, "%s/events/%s holds \"%.60s\", not event terms like \"event=0x02\"",
		    pmu->dir, ev->name, text);
	}
}

/* .scale (J per count) into an exact µJ fraction; .unit must be Joules. */
static void parse_scale(const struct pmu *pmu, struct event *ev)
{
	char text[128], rel[128];
	snprintf(rel, sizeof rel, "events/%s.unit", ev->name);
	int e;
	int n = pmu_text(pmu, rel, text, sizeof text, &e);
	if (n > 0 && strcmp(text, "Joules") != 0) {
		ev->err = JOULES_ERR_UNSUPPORTED;
		say(ev->why, "%s/events/%s.unit is \"%.32s\", not Joules", pmu->dir, ev->name, text);
		return;
	}
	snprintf(rel, sizeof rel, "events/%s.scale", ev->name);
	n = pmu_text(pmu, rel, text, sizeof text, &e);
	if (n < 0) {
		ev->err = JOULES_ERR_UNSUPPORTED;
		say(ev->why, "%s/events/%s.scale: %s; without the joules per count the counts "
			     "cannot be converted", pmu->dir, ev->name, jl_sysfs_why(n, e));
	} else if (jl_perf_scale_uj(text, &ev->uj_num, &ev->uj_den)) {
		ev->err = JOULES_ERR_PARSE;
		say(ev->why, "%s/events/%s.scale holds \"%.40s\", not a positive decimal of joules "
			     "per count", pmu->dir, ev->name, text);
	}
}

static void describe_event(const struct pmu *pmu, const char *name, struct event *ev)
{
	memset(ev, 0, sizeof *ev);
	/* event_filter() let through only names that fit. */
	snprintf(ev->name, sizeof ev->name, "%.47s", name);
	ev->order = N_DOMAINS;
	ev->kind = JOULES_KIND_OTHER;
	ev->per_package = true;
	snprintf(ev->base, sizeof ev->base, "%s", name + strlen("energy-"));
	for (size_t i = 0; i < N_DOMAINS; i++) {
		if (strcmp(name, domains[i].event) == 0) {
			ev->order = i;
			ev->kind = domains[i].kind;
			ev->per_package = domains[i].per_package;
			snprintf(ev->base, sizeof ev->base, "%s", domains[i].base);
		}
	}
	parse_config(pmu, ev);
	if (!ev->err)
		parse_scale(pmu, ev);
}

static int open_event(uint32_t type, uint64_t config, unsigned cpu)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.type = type;
	attr.size = sizeof attr;
	attr.config = config;
	return (int)syscall(SYS_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Why perf_event_open failed with `e`, and how to fix it. */
static int open_error(const struct pmu *pmu, const struct event *ev, unsigned cpu, int e,
		      char *why)
{
	char call[160];
	snprintf(call, sizeof call, "perf_event_open of %s (PMU type %u, config 0x%llx) on cpu %u",
		 ev->name, pmu->type, (unsigned long long)ev->config, cpu);
	switch (e) {
	case EACCES:
	case EPERM:
		say(why, "%s: permission denied: kernel.perf_event_paranoid is %s and system-wide "
			 "events need 0 or less, or CAP_PERFMON; fix: sysctl "
			 "kernel.perf_event_paranoid=0, or grant CAP_PERFMON (setcap cap_perfmon+ep), "
			 "or run as root (a container's seccomp filter also refuses this call)",
		    call, pmu->paranoid);
		return JOULES_ERR_PERMISSION;
	case ENOENT:
		say(why, "%s: no such PMU or event in this kernel (ENOENT): the sysfs tree does not "
			 "describe the running kernel", call);
		return JOULES_ERR_UNSUPPORTED;
	case EINVAL:
	case ENODEV:
		say(why, "%s: the kernel refused the event (%s): the event is unknown to the PMU, "
			 "or cpu %u (from cpumask) is absent or offline", call,
		    e == EINVAL ? "EINVAL" : "ENODEV", cpu);
		return JOULES_ERR_UNSUPPORTED;
	case EMFILE:
	case ENFILE:
		say(why, "%s: too many open files; raise the limit (ulimit -n)", call);
		return JOULES_ERR_IO;
	default:
		say(why, "%s: %s", call, strerror(e));
		return jl_errno_to_error(e);
	}
}

/* Make s read `fd` as event `ev` on `cpu`; takes the fd and data. */
static void hold(struct jl_sensor *s, const struct event *ev, struct perf_data *d, int fd,
		 unsigned cpu)
{
	snprintf(d->event, sizeof d->event, "%s", ev->name);
	d->cpu = cpu;
	d->opened_ns = jl_now_ns();
	d->advanced = false;
	s->data = d;
	s->fd = fd;
	s->pub.refresh_us = PERF_REFRESH_US;
	jl_counter_init(&s->counter, 0, ev->uj_num, ev->uj_den, 0);
}

/*
 * The package and die of each cpumask CPU, from the CPU topology under the
 * same root. The kernel lists one CPU per package, or per die where RAPL
 * counts per die: two CPUs of one package mean the latter. Without the
 * topology, packages are numbered in cpumask order, and the note says so.
 */
static void place_cpus(joules_ctx *ctx, struct pmu *pmu)
{
	char missing[64] = "";
	for (size_t i = 0; i < pmu->n_cpus; i++) {
		struct place *p = &pmu->place[i];
		p->package = jl_cpu_topology(ctx, pmu->cpus[i], "physical_package_id");
		p->die = jl_cpu_topology(ctx, pmu->cpus[i], "die_id");
		if (p->die < 0)
			p->die = 0; /* no die_id before Linux 5.2: one die per package */
		if (p->package < 0 && !missing[0])
			snprintf(missing, sizeof missing, "cpu%u", pmu->cpus[i]);
	}
	if (missing[0]) {
		for (size_t i = 0; i < pmu->n_cpus; i++)
			pmu->place[i] = (struct place){(int32_t)i, 0};
		jl_note(ctx, "%s/devices/system/cpu/%s/topology/physical_package_id is missing or "
			     "unreadable: the packages of %s/cpumask are numbered in its order, "
			     "which may not be their physical ids",
			ctx->sysfs_root, missing, pmu->dir);
		return;
	}
	for (size_t i = 0; i < pmu->n_cpus; i++)
		for (size_t j = 0; j < i; j++)
			pmu->per_die |= pmu->place[i].package == pmu->place[j].package;
}

static int add_event(joules_ctx *ctx, struct pmu *pmu, const struct event *ev, size_t at)
{
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN], why[WHY_LEN];
	struct jl_domain dom = jl_domain_none(ev->kind);
	if (ev->per_package) {
		dom.package = pmu->place[at].package;
		dom.die = pmu->per_die ? pmu->place[at].die : -1;
	}
	if (dom.die >= 0)
		snprintf(name, sizeof name, "%.30s-%d-die-%d", ev->base, dom.package, dom.die);
	else if (ev->per_package)
		snprintf(name, sizeof name, "%.30s-%d", ev->base, dom.package);
	else
		snprintf(name, sizeof name, "%s", ev->base);
	snprintf(id, sizeof id, "rapl:%.58s", name);
	/* An event this backend does not know is no domain another source has. */
	dom.alone = ev->kind == JOULES_KIND_OTHER;
	unsigned cpu = pmu->err ? 0 : pmu->cpus[at];

	int err = pmu->err ? pmu->err : ev->err, fd = -1;
	snprintf(why, sizeof why, "%s", pmu->err ? pmu->why : ev->why);
	if (!err) {
		fd = open_event(pmu->type, ev->config, cpu);
		if (fd < 0)
			err = open_error(pmu, ev, cpu, errno, why);
	}
	struct perf_data *d = fd >= 0 ? malloc(sizeof *d) : NULL;
	struct jl_sensor *s = (fd < 0 || d) ? jl_sensor_add(ctx, &jl_backend_perf, &dom, id, name)
					    : NULL;
	if (!s) {
		free(d);
		if (fd >= 0)
			close(fd);
		return JOULES_ERR_NOMEM;
	}
	s->cost_ns = PERF_COST_NS;
	if (fd < 0) {
		jl_sensor_unreadable(s, err, "%s", why);
		if (err == JOULES_ERR_PERMISSION)
			jl_sensor_fix(s, "sysctl kernel.perf_event_paranoid=0, or grant CAP_PERFMON");
		return 0;
	}
	hold(s, ev, d, fd, cpu);
	pmu->last_open_ns = d->opened_ns;
	return 0;
}

/* Let every counter just opened advance past 0 if it is alive at all. */
static void settle(uint64_t last_open_ns)
{
	uint64_t until = last_open_ns + PERF_SETTLE_NS;
	struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
			      .tv_nsec = (long)(until % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int event_filter(const struct dirent *e)
{
	return strncmp(e->d_name, "energy-", 7) == 0 && e->d_name[7] != '\0' &&
	       !strchr(e->d_name, '.') && strlen(e->d_name) < sizeof((struct event *)0)->name;
}

static int by_domain(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int perf_enumerate(joules_ctx *ctx, void *priv)
{
	(void)priv;
	struct pmu *pmu = calloc(1, sizeof *pmu);
	if (!pmu)
		return JOULES_ERR_NOMEM;
	char path[JL_PATH_MAX];
	struct dirent **ents = NULL;
	if (jl_sysfs_path(ctx, pmu->dir, sizeof pmu->dir, PMU_DIR) ||
	    snprintf(path, sizeof path, "%s/events", pmu->dir) >= (int)sizeof path) {
		free(pmu);
		return 0;
	}
	int n = scandir(path, &ents, event_filter, alphasort);
	if (n <= 0) {
		if (n < 0 && errno == ENOENT && access(pmu->dir, F_OK) != 0)
			jl_note(ctx, "no %s: the kernel has no RAPL perf PMU (the CPU has no RAPL, "
				     "or a virtual machine hides it)", pmu->dir);
		else if (n < 0)
			jl_note(ctx, "%s: cannot list: %s", path, strerror(errno));
		else
			jl_note(ctx, "%s holds no energy-* events", path);
		free(ents);
		free(pmu);
		return 0;
	}
	struct event *evs = calloc((size_t)n, sizeof *evs);
	int r = evs ? 0 : JOULES_ERR_NOMEM;
	if (evs) {
		load_pmu(pmu);
		if (!pmu->err)
			place_cpus(ctx, pmu);
		for (int i = 0; i < n; i++)
			describe_event(pmu, ents[i]->d_name, &evs[i]);
		qsort(evs, (size_t)n, sizeof *evs, by_domain);
		/* A PMU without a usable cpumask still lists its domains, once. */
		size_t places = pmu->err ? 1 : pmu->n_cpus;
		for (size_t at = 0; at < places && r == 0; at++)
			for (int i = 0; i < n && r == 0; i++)
				if (evs[i].per_package || at == 0)
					r = add_event(ctx, pmu, &evs[i], at);
	}
	if (r == 0 && pmu->last_open_ns)
		settle(pmu->last_open_ns);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(evs);
	free(pmu);
	return r;
}

static int perf_read(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out)
{
	(void)ctx;
	struct perf_data *d = s->data;
	uint64_t count;
	ssize_t n = read(s->fd, &count, sizeof count);
	if (n < 0) {
		int e = errno;
		return jl_sensor_fail(s, jl_errno_to_error(e),
				      "read of perf event %s on cpu %u failed: %s", d->event, d->cpu,
				      strerror(e));
	}
	if (n != (ssize_t)sizeof count)
		return jl_sensor_fail(s, JOULES_ERR_IO,
				      "read of perf event %s on cpu %u returned %zd bytes, not 8",
				      d->event, d->cpu, n);
	if (!d->advanced) {
		if (count == 0)
			return jl_sensor_fail(
				s, JOULES_ERR_NOT_COUNTING,
				"%s (cpu %u): counter has not advanced in %llu ms since it was opened; "
				"the hypervisor or firmware does not implement it (common in virtual "
				"machines), or the domain draws no power",
				d->event, d->cpu,
				(unsigned long long)((jl_now_ns() - d->opened_ns) / 1000000u));
		d->advanced = true;
	}
	out->raw = count;
	return 0;
}

static void perf_release(struct jl_sensor *s)
{
	free(s->data);
}

const struct jl_backend jl_backend_perf = {
	.name = "perf",
	.enumerate = perf_enumerate,
	.read = perf_read,
	.release = perf_release,
};
