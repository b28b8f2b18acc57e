/* SPDX-License-Identifier: MIT */
/*
 * CPU RAPL domains through powercap sysfs: <root>/class/powercap/
 * intel-rapl:N[:M] and intel-rapl-mmio:N[:M], Intel and AMD alike.
 *
 * energy_uj counts µJ and wraps to 0 after max_energy_range_uj, so the
 * counter's modulus is max_energy_range_uj + 1. A zone whose `enabled` is 0
 * still counts (the flag is about power limits), so it is not consulted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend.h"
#include "../sysfs.h"

/* The most a RAPL domain is taken to draw, to tell a wrap from a reset. */
#define POWERCAP_MAX_POWER_UW 2000000000ull /* 2 kW */
/* RAPL updates its counters about every millisecond (Intel SDM). */
#define POWERCAP_REFRESH_US 1000u
/*
 * energy_uj steps by RAPL's energy status unit, 2^-ESU J (Intel SDM,
 * MSR_RAPL_POWER_UNIT): 15.3 µJ (ESU 16) on servers and AMD, 61 µJ (ESU 14)
 * on client parts. powercap does not say which, so the coarser is given.
 */
#define POWERCAP_RESOLUTION_UJ 61u

#define ZONE_MAX 256 /* package indices we keep track of */

const struct jl_backend jl_backend_powercap;

struct zone_data {
	char path[JL_PATH_MAX]; /* of energy_uj, for messages */
};

struct zone {
	const char *dir;     /* "intel-rapl:0:1" */
	unsigned pkg;        /* N */
	int sub;             /* M, or -1 for a top-level zone */
	char zname[64];      /* contents of `name` */
};

/* "intel-rapl:N" or "intel-rapl:N:M" after the given prefix. */
static bool parse_zone_dir(const char *d, const char *prefix, struct zone *z)
{
	size_t n = strlen(prefix);
	if (strncmp(d, prefix, n) != 0 || d[n] != ':')
		return false;
	char *end;
	const char *p = d + n + 1;
	if (*p < '0' || *p > '9')
		return false;
	unsigned long pkg = strtoul(p, &end, 10);
	z->sub = -1;
	if (*end == ':') {
		p = end + 1;
		if (*p < '0' || *p > '9')
			return false;
		z->sub = (int)strtoul(p, &end, 10);
	}
	if (*end != '\0' || pkg >= ZONE_MAX)
		return false;
	z->pkg = (unsigned)pkg;
	z->dir = d;
	return true;
}

static int kind_of(const char *zname)
{
	if (strncmp(zname, "package", 7) == 0)
		return JOULES_KIND_CPU_PACKAGE;
	if (strcmp(zname, "core") == 0)
		return JOULES_KIND_CPU_CORE;
	if (strcmp(zname, "uncore") == 0)
		return JOULES_KIND_UNCORE;
	if (strcmp(zname, "dram") == 0)
		return JOULES_KIND_DRAM;
	if (strcmp(zname, "psys") == 0)
		return JOULES_KIND_PLATFORM;
	return JOULES_KIND_OTHER;
}

/* Is the directory holding `file` a symlink to nothing? */
static bool zone_dir_dangles(const char *file)
{
	char dir[JL_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	struct stat st;
	return lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) && stat(dir, &st) < 0 &&
	       errno == ENOENT;
}

/* Open energy_uj, or say why this caller cannot read it. */
static void open_counter(struct jl_sensor *s, const char *path)
{
	int e;
	int fd = jl_sysfs_open(path, &e);
	if (fd >= 0) {
		s->fd = fd;
		return;
	}
	if (e == EACCES || e == EPERM)
		jl_sensor_unreadable(
			s, JOULES_ERR_PERMISSION,
			"%s: permission denied; energy_uj is root-only since Linux 5.10 "
			"(CVE-2020-8694): run as root (sudo joules ...), or let this user read it "
			"(a udev rule running chmod on it, at the cost of that side channel)",
			path);
	else if (e == ENOENT && zone_dir_dangles(path))
		jl_sensor_unreadable(s, JOULES_ERR_LOST,
				     "%s: the zone is a dangling symlink (its device is gone); "
				     "nothing to read until the driver brings it back",
				     path);
	else if (e == ENOENT)
		jl_sensor_unreadable(s, JOULES_ERR_UNSUPPORTED,
				     "%s: missing; this zone has no energy counter", path);
	else
		jl_sensor_unreadable(s, fd, "%s: refused: %s", path, jl_sysfs_why(fd, e));
}

/*
 * The counter: modulus max_energy_range_uj + 1. When the range cannot be
 * read (ENODATA on some Atoms, "0" on old kernels) the counter still wraps
 * but nobody can size a wrap: it is marked range_unknown (a drop is then a
 * wrap or a reset, refused either way) and the sensor says why.
 */
static void init_counter(joules_ctx *ctx, struct jl_sensor *s, const char *dir)
{
	char path[JL_PATH_MAX], text[64];
	uint64_t range = 0;
	int e = 0, r = jl_sysfs_path(ctx, path, sizeof path,
				     "class/powercap/%s/max_energy_range_uj", dir);
	if (r == 0) {
		r = jl_read_text(path, text, sizeof text, &e);
		if (r >= 0)
			r = jl_parse_u64(text, &range);
	}
	bool known = r == 0 && range != 0 && range != UINT64_MAX;
	jl_counter_init(&s->counter, known ? range + 1 : 0, 1, 1, POWERCAP_MAX_POWER_UW);
	s->pub.resolution_uj = POWERCAP_RESOLUTION_UJ;
	if (known)
		return;
	s->counter.range_unknown = true;
	snprintf(s->pub.reason, sizeof s->pub.reason,
		 "%s/max_energy_range_uj %s%s%s: the counter's range is unknown, so when it goes "
		 "down a wrap cannot be told from a reset and that interval's energy is not known",
		 dir, r == 0 ? "reads " : "cannot be read: ",
		 r == 0 ? text : jl_sysfs_why(r, e), r == 0 && range == 0 ? " (no range)" : "");
}

static int add_zone(joules_ctx *ctx, const struct zone *z, int top[ZONE_MAX])
{
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN], path[JL_PATH_MAX];
	if (z->sub < 0 || strncmp(z->zname, "package", 7) == 0)
		snprintf(name, sizeof name, "%s", z->zname);
	else
		snprintf(name, sizeof name, "%.40s-%u", z->zname, z->pkg);
	snprintf(id, sizeof id, "rapl:%.58s", name);
	/*
	 * An intel-rapl-mmio zone repeats an intel-rapl one: keep the first.
	 * Two intel-rapl zones with one name are both real: both are listed.
	 */
	if (strncmp(z->dir, "intel-rapl-mmio", 15) == 0 && joules_sensor_find(ctx, id) >= 0)
		return 0;

	struct zone_data *d = malloc(sizeof *d);
	if (!d)
		return JOULES_ERR_NOMEM;
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_powercap, id, name, kind_of(z->zname));
	if (!s) {
		free(d);
		return JOULES_ERR_NOMEM;
	}
	s->data = d;
	s->pub.refresh_us = POWERCAP_REFRESH_US;
	if (z->sub >= 0 || kind_of(z->zname) == JOULES_KIND_CPU_PACKAGE)
		snprintf(s->pub.device, sizeof s->pub.device, "socket %u", z->pkg);
	if (z->sub < 0)
		top[z->pkg] = (int)(ctx->n_sensors - 1);
	else
		s->pub.parent = top[z->pkg];
	init_counter(ctx, s, z->dir);
	if (jl_sysfs_path(ctx, path, sizeof path, "class/powercap/%s/energy_uj", z->dir)) {
		jl_sensor_unreadable(s, JOULES_ERR_INVALID, "%s: path too long", z->dir);
		return 0;
	}
	snprintf(d->path, sizeof d->path, "%s", path);
	open_counter(s, path);
	return 0;
}

/* Read `name`; a zone without one is named after its directory. */
static void read_zone_name(joules_ctx *ctx, struct zone *z)
{
	char path[JL_PATH_MAX];
	if (jl_sysfs_path(ctx, path, sizeof path, "class/powercap/%s/name", z->dir) ||
	    jl_read_text(path, z->zname, sizeof z->zname, NULL) <= 0)
		snprintf(z->zname, sizeof z->zname, "%s", z->dir);
}

/*
 * psys holds the packages and DRAM; core and uncore sit inside their
 * package (set in add_zone). DRAM is a sysfs child of its package but its
 * energy is outside it.
 */
static void link_platform(joules_ctx *ctx, size_t first)
{
	int psys = -1;
	for (size_t i = first; i < ctx->n_sensors; i++)
		if (ctx->sensors[i].pub.kind == JOULES_KIND_PLATFORM && psys < 0)
			psys = (int)i;
	for (size_t i = first; i < ctx->n_sensors; i++) {
		struct joules_sensor *p = &ctx->sensors[i].pub;
		if (p->kind == JOULES_KIND_DRAM || p->kind == JOULES_KIND_CPU_PACKAGE)
			p->parent = psys;
	}
}

static int zone_filter(const struct dirent *e)
{
	return strncmp(e->d_name, "intel-rapl", 10) == 0;
}

/* No RAPL sensors is a normal state, not an error: say why. */
static void note_no_zones(joules_ctx *ctx, const char *path)
{
	jl_note(ctx,
		"no intel-rapl zones in %s: the RAPL powercap driver is not loaded "
		"(modprobe intel_rapl_msr) or the CPU does not offer RAPL (common in "
		"virtual machines)",
		path);
}

static int powercap_enumerate(joules_ctx *ctx, void **state)
{
	(void)state;
	char path[JL_PATH_MAX];
	if (jl_sysfs_path(ctx, path, sizeof path, "class/powercap"))
		return 0;
	struct dirent **ents;
	int n = scandir(path, &ents, zone_filter, versionsort);
	if (n <= 0) {
		if (n < 0 && errno != ENOENT)
			jl_note(ctx, "%s: cannot list: %s", path, strerror(errno));
		else
			note_no_zones(ctx, path);
		if (n == 0)
			free(ents);
		return 0;
	}

	int top[ZONE_MAX];
	for (size_t i = 0; i < ZONE_MAX; i++)
		top[i] = -1;
	size_t first = ctx->n_sensors;
	int r = 0;
	static const char *const prefixes[] = {"intel-rapl", "intel-rapl-mmio"};
	for (size_t p = 0; p < 2 && r == 0; p++) {
		/* Top-level zones first, so sub-zones find their package. */
		for (int pass = 0; pass < 2 && r == 0; pass++) {
			for (int i = 0; i < n && r == 0; i++) {
				struct zone z;
				if (!parse_zone_dir(ents[i]->d_name, prefixes[p], &z) ||
				    (z.sub >= 0) != (pass == 1))
					continue;
				read_zone_name(ctx, &z);
				r = add_zone(ctx, &z, top);
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (r == 0)
		link_platform(ctx, first);
	/* Only the control type, or nothing that parses as a zone. */
	if (r == 0 && ctx->n_sensors == first)
		note_no_zones(ctx, path);
	return r;
}

static int powercap_read(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out)
{
	(void)ctx;
	const struct zone_data *d = s->data;
	char text[32];
	int e;
	int r = jl_pread_u64(s->fd, &out->raw, text, sizeof text, &e);
	if (r == 0)
		return 0;
	struct stat st;
	if (r == JOULES_ERR_PARSE && text[0] == '\0' && stat(d->path, &st) < 0 && errno == ENOENT)
		return jl_sensor_fail(s, JOULES_ERR_LOST, "%s: vanished (the zone was removed)",
				      d->path);
	if (r == JOULES_ERR_PARSE)
		return jl_sensor_fail(s, r, "%s: holds \"%s\", %s", d->path, text,
				      e ? "longer than any counter value" : "not a number of µJ");
	return jl_sensor_fail(s, r, "%s: read failed: %s", d->path, jl_sysfs_why(r, e));
}

static void powercap_release(struct jl_sensor *s)
{
	free(s->data);
}

const struct jl_backend jl_backend_powercap = {
	.name = "powercap",
	.enumerate = powercap_enumerate,
	.read = powercap_read,
	.release = powercap_release,
};
