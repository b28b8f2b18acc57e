/* SPDX-License-Identifier: MIT */
/*
 * CPU RAPL domains through powercap sysfs: <root>/class/powercap/
 * intel-rapl:N[:M] and intel-rapl-mmio:N[:M], Intel and AMD alike.
 *
 * N and M are the kernel's registration order, in hex ("%x"): they say
 * nothing about the package (a psys zone registered between two packages
 * makes package-1 intel-rapl:2). Each zone is a candidate for the domain
 * its `name` says (package-N, package-N-die-M, psys; core, uncore, dram in
 * the package of the zone above); lib/domain.c merges it with other
 * sources' candidates. A zone that cannot be understood is listed alone and
 * named in the source note.
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
/*
 * One read: a pread of energy_uj (0.55-0.65 µs measured on the developer
 * machine, on a fake tree); on hardware the kernel also reads the MSR on a
 * CPU of the package. Ranked below perf's read(2) of an event, which does
 * the same behind a perf event (docs/design.md, "Domains").
 */
#define POWERCAP_COST_NS 3000u

const struct jl_backend jl_backend_powercap;

struct zone_data {
	char path[JL_PATH_MAX]; /* of energy_uj, for messages */
};

/* The two control types whose zones are RAPL domains. */
static const char *const prefixes[] = {"intel-rapl", "intel-rapl-mmio"};
#define N_PREFIXES 2

struct zone {
	char dir[256];       /* "intel-rapl:0:1" */
	unsigned prefix;     /* index in prefixes[] */
	unsigned long top;   /* N, as the kernel writes it: hex ("%x") */
	long sub;            /* M, or -1 for a top-level zone */
	char zname[64];      /* contents of `name` */
	struct jl_domain dom;
	bool understood;     /* its name says which domain it is */
	bool guessed;        /* a sub-zone whose package was taken from its number */
};

/* A hex number as powercap writes it ("%x"): at least one digit, nothing else. */
static bool parse_hex(const char *p, unsigned long *out, char **end)
{
	if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
		return false;
	errno = 0;
	*out = strtoul(p, end, 16);
	return errno == 0;
}

/* "<prefix>:N" or "<prefix>:N:M"; false for anything else. */
static bool parse_zone_dir(const char *d, struct zone *z)
{
	for (unsigned p = N_PREFIXES; p-- > 0;) {
		size_t n = strlen(prefixes[p]);
		if (strncmp(d, prefixes[p], n) != 0 || d[n] != ':')
			continue;
		char *end;
		unsigned long sub;
		if (!parse_hex(d + n + 1, &z->top, &end))
			return false;
		z->sub = -1;
		if (*end == ':') {
			if (!parse_hex(end + 1, &sub, &end) || sub > INT32_MAX)
				return false;
			z->sub = (long)sub;
		}
		if (*end != '\0' || z->top > INT32_MAX || strlen(d) >= sizeof z->dir)
			return false;
		z->prefix = p;
		snprintf(z->dir, sizeof z->dir, "%s", d);
		return true;
	}
	return false;
}

/* A non-negative decimal int at *p, advancing it. */
static bool take_int(const char **p, int32_t *out)
{
	if (**p < '0' || **p > '9')
		return false;
	char *end;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (errno || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	*p = end;
	return true;
}

/*
 * A top-level zone's domain from its name, as the kernel's intel_rapl
 * driver writes it: "package-N", "package-N-die-M" (more than one die per
 * package), "psys".
 */
static bool top_domain(const char *zname, struct jl_domain *d)
{
	*d = jl_domain_none(JOULES_KIND_OTHER);
	if (strcmp(zname, "psys") == 0) {
		d->kind = JOULES_KIND_PLATFORM;
		return true;
	}
	const char *p = zname;
	if (strncmp(p, "package-", 8) != 0)
		return false;
	p += 8;
	if (!take_int(&p, &d->package))
		return false;
	if (strncmp(p, "-die-", 5) == 0) {
		p += 5;
		if (!take_int(&p, &d->die))
			return false;
	}
	if (*p)
		return false;
	d->kind = JOULES_KIND_CPU_PACKAGE;
	return true;
}

static int sub_kind(const char *zname)
{
	if (strcmp(zname, "core") == 0)
		return JOULES_KIND_CPU_CORE;
	if (strcmp(zname, "uncore") == 0)
		return JOULES_KIND_UNCORE;
	if (strcmp(zname, "dram") == 0)
		return JOULES_KIND_DRAM;
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

static int add_zone(joules_ctx *ctx, const struct zone *z)
{
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN], path[JL_PATH_MAX];
	/* A zone not understood is listed under its own name, alone. */
	if (z->sub < 0 || z->dom.package < 0)
		snprintf(name, sizeof name, "%s", z->zname);
	else
		snprintf(name, sizeof name, "%.40s-%d", z->zname, z->dom.package);
	snprintf(id, sizeof id, "rapl:%.58s", name);

	struct zone_data *d = malloc(sizeof *d);
	if (!d)
		return JOULES_ERR_NOMEM;
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_powercap, &z->dom, id, name);
	if (!s) {
		free(d);
		return JOULES_ERR_NOMEM;
	}
	s->data = d;
	s->cost_ns = POWERCAP_COST_NS;
	s->pub.refresh_us = POWERCAP_REFRESH_US;
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
	int e = 0, r = jl_sysfs_path(ctx, path, sizeof path, "class/powercap/%s/name", z->dir);
	if (r == 0)
		r = jl_read_text(path, z->zname, sizeof z->zname, &e);
	/* A name too long for the buffer is kept cut (its characters made whole later). */
	if (r <= 0 && !(r == JOULES_ERR_PARSE && e == EOVERFLOW))
		snprintf(z->zname, sizeof z->zname, "%.63s", z->dir);
}

/* Top-level zones first (in numeric order, as hex), then sub-zones; per control type. */
static int by_number(const void *a, const void *b)
{
	const struct zone *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	if ((x->sub >= 0) != (y->sub >= 0))
		return x->sub >= 0 ? 1 : -1;
	if (x->top != y->top)
		return x->top < y->top ? -1 : 1;
	return x->sub < y->sub ? -1 : x->sub > y->sub;
}

static const struct zone *top_of(const struct zone *zs, size_t n, const struct zone *z)
{
	for (size_t i = 0; i < n; i++)
		if (zs[i].sub < 0 && zs[i].prefix == z->prefix && zs[i].top == z->top)
			return &zs[i];
	return NULL;
}

static bool same_identity(const struct jl_domain *a, const struct jl_domain *b)
{
	return a->kind == b->kind && a->package == b->package && a->die == b->die;
}

/*
 * Each zone's domain: a top-level zone's from its name; a sub-zone's kind
 * from its name and its package (and die) from its parent zone. A zone
 * that repeats an earlier zone's name within its control type is a domain
 * of its own (instance 1, 2...); intel-rapl-mmio's zones are the same
 * domains as intel-rapl's, reached through MMIO.
 */
static void identify(struct zone *zs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct zone *z = &zs[i];
		if (z->sub >= 0)
			continue;
		z->understood = top_domain(z->zname, &z->dom);
		z->dom.alone = !z->understood;
		for (size_t j = 0; j < i && z->understood; j++)
			z->dom.instance += zs[j].prefix == z->prefix && zs[j].understood &&
					   same_identity(&zs[j].dom, &z->dom);
	}
	for (size_t i = 0; i < n; i++) {
		struct zone *z = &zs[i];
		if (z->sub < 0)
			continue;
		const struct zone *t = top_of(zs, n, z);
		z->dom = jl_domain_none(sub_kind(z->zname));
		if (t && t->understood && t->dom.kind == JOULES_KIND_CPU_PACKAGE) {
			z->dom.package = t->dom.package;
			z->dom.die = t->dom.die;
			z->dom.instance = t->dom.instance;
		} else {
			/* No package zone above it to name its package: its number stands in. */
			z->dom.package = (int32_t)z->top;
			z->guessed = true;
		}
		z->understood = z->dom.kind != JOULES_KIND_OTHER;
		z->dom.alone = !z->understood;
	}
}

static void note_add(char *buf, size_t len, size_t *used, const char *fmt, const char *a,
		     const char *b)
{
	if (*used >= len)
		return;
	int m = snprintf(buf + *used, len - *used, fmt, a, b);
	*used += m > 0 ? (size_t)m : 0;
}

/* Name what was not understood, so nothing is dropped in silence. */
static void note_odd(joules_ctx *ctx, const struct zone *zs, size_t n, const char *odd)
{
	char note[JL_MSG_LEN] = "";
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		if (zs[i].guessed)
			note_add(note, sizeof note, &used, "%s%s: no package zone above it, so its "
				 "package is taken from its number", used ? "; " : "", zs[i].dir);
		else if (!zs[i].understood)
			note_add(note, sizeof note, &used, "%s%s: not a RAPL domain name, listed "
				 "under it alone", used ? "; " : "", zs[i].dir);
		else if (zs[i].sub < 0 && zs[i].dom.instance)
			note_add(note, sizeof note, &used, "%s%s: named like an earlier zone, "
				 "listed as a domain of its own", used ? "; " : "", zs[i].dir);
	}
	if (odd[0])
		note_add(note, sizeof note, &used, "%sskipped, not zone names: %s",
			 used ? "; " : "", odd);
	if (note[0])
		jl_note(ctx, "%s", note);
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

static int powercap_enumerate(joules_ctx *ctx, void *priv)
{
	(void)priv;
	char path[JL_PATH_MAX];
	if (jl_sysfs_path(ctx, path, sizeof path, "class/powercap"))
		return 0;
	struct dirent **ents;
	int n = scandir(path, &ents, zone_filter, alphasort);
	if (n <= 0) {
		if (n < 0 && errno != ENOENT)
			jl_note(ctx, "%s: cannot list: %s", path, strerror(errno));
		else
			note_no_zones(ctx, path);
		if (n == 0)
			free(ents);
		return 0;
	}
	struct zone *zs = calloc((size_t)n, sizeof *zs);
	char odd[256] = "";
	size_t k = 0, used = 0;
	for (int i = 0; i < n && zs; i++) {
		const char *d = ents[i]->d_name;
		if (parse_zone_dir(d, &zs[k]))
			read_zone_name(ctx, &zs[k++]);
		else if (strcmp(d, prefixes[0]) != 0 && strcmp(d, prefixes[1]) != 0)
			note_add(odd, sizeof odd, &used, "%s%s", used ? ", " : "", d);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (!zs)
		return JOULES_ERR_NOMEM;
	qsort(zs, k, sizeof *zs, by_number);
	identify(zs, k);
	int r = 0;
	for (size_t i = 0; i < k && r == 0; i++)
		r = add_zone(ctx, &zs[i]);
	if (r == 0 && k == 0)
		note_no_zones(ctx, path); /* only the control type, or nothing that parses */
	else if (r == 0)
		note_odd(ctx, zs, k, odd);
	free(zs);
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
