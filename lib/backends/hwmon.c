/* SPDX-License-Identifier: MIT */
/*
 * hwmon chips: <root>/class/hwmon/hwmonN (links into /sys/devices), each
 * with a `name`, energyX_input (µJ, cumulative) and powerX_input or
 * powerX_average (µW) channels, labelled by <attr-base>_label.
 *
 * An energy channel is a counter: raw µJ, modulus 0 (the hwmon ABI defines
 * no wrap, and the drivers accumulate into 64 bits), so a drop is a reset.
 * A power channel that no energy channel covers is integrated by the
 * context's sampler thread (trapezoids, lib/integrator.c); read() returns
 * that integral and never waits. docs/hwmon.md states the limits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend.h"
#include "../gap.h"
#include "../history.h"
#include "../integrator.h"
#include "../sysfs.h"

/* Power sampling interval when the chip gives none, and its bounds. */
#define HWMON_SAMPLE_US_DEFAULT 100000u /* 100 ms */
#define HWMON_SAMPLE_US_MIN 5000u
#define HWMON_SAMPLE_US_MAX 1000000u
/* A reading still uncovered after this many sample intervals stays as it is. */
#define SETTLE_GIVE_UP_SAMPLES 3u
/* amd_energy's RAPL MSRs update every 1 ms (its kernel documentation). */
#define AMD_ENERGY_REFRESH_US 1000u
#define CHANNELS_MAX 1024
/*
 * One read of an energy file: a pread, behind which amd_energy reads an
 * MSR on a CPU of the socket; not measured, ranked after powercap and perf
 * (docs/design.md, "Domains").
 */
#define HWMON_COST_NS 5000u

const struct jl_backend jl_backend_hwmon;

struct hwmon_data {
	char path[JL_PATH_MAX]; /* the file read, for messages */
	const char *unit;       /* "µJ" or "µW" */
	bool integrated;
	/* Integrated sensors: written by sample(), read by read() and settle(). */
	pthread_mutex_t lock;
	struct jl_integrator ig;
	struct jl_history *hist; /* the integral at each sample, for settle() */
	struct jl_gap gap;      /* samples skipped as transient failures */
	int err;                /* the last sample's error, or 0 */
	char msg[JL_MSG_LEN];   /* and its message */
};

struct chip {
	const char *dir;     /* "hwmon3" */
	char name[48];       /* `name`, or dir when it has none */
	char dev[64];        /* basename of the `device` link, or "" */
	char id_dev[64];     /* the device part of ids, or "" */
	int kind;            /* what its channels measure unless said otherwise */
	uint32_t update_us;  /* update_interval, or 0 */
	bool amd_energy;
};

struct channel {
	char attr[32]; /* "energy1_input" */
	char base[16]; /* "energy1" */
	unsigned num;
	bool energy, average;
	char label[32]; /* contents of <base>_label, or "" */
};

/* Read a small attribute of the chip; "" when absent or unreadable. */
static void chip_text(joules_ctx *ctx, const char *dir, const char *attr, char *buf, size_t len)
{
	char path[JL_PATH_MAX];
	buf[0] = '\0';
	if (jl_sysfs_path(ctx, path, sizeof path, "class/hwmon/%s/%s", dir, attr) ||
	    jl_read_text(path, buf, len, NULL) < 0)
		buf[0] = '\0';
}

/* An attribute in milliseconds, as µs; 0 when absent or not a number. */
static uint32_t chip_ms(joules_ctx *ctx, const char *dir, const char *attr)
{
	char text[32];
	uint64_t ms;
	chip_text(ctx, dir, attr, text, sizeof text);
	if (!text[0] || jl_parse_u64(text, &ms) || ms == 0)
		return 0;
	return ms >= UINT32_MAX / 1000 ? UINT32_MAX / 1000 * 1000 : (uint32_t)ms * 1000u;
}

/* The chip's device: basename of where `device` points ("0000:03:00.0"). */
static void chip_device(joules_ctx *ctx, struct chip *c)
{
	char path[JL_PATH_MAX], target[JL_PATH_MAX];
	c->dev[0] = '\0';
	if (jl_sysfs_path(ctx, path, sizeof path, "class/hwmon/%s/device", c->dir))
		return;
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	snprintf(c->dev, sizeof c->dev, "%.63s", base ? base + 1 : target);
}

/*
 * Chips that report AMD RAPL energy per socket (EsocketN) and per core
 * (EcoreNNN): the kernel's amd_energy (Documentation/hwmon/amd_energy.rst,
 * removed in Linux 5.13) and zenergy, its out-of-tree successor with the
 * same labels, whose files any user may read.
 */
static bool rapl_chip(const char *name)
{
	return strcmp(name, "amd_energy") == 0 || strcmp(name, "zenergy") == 0;
}

static int chip_kind(const char *name)
{
	static const char *const gpus[] = {"amdgpu", "i915", "xe", "nouveau"};
	for (size_t i = 0; i < sizeof gpus / sizeof gpus[0]; i++)
		if (strcmp(name, gpus[i]) == 0)
			return JOULES_KIND_GPU;
	return JOULES_KIND_OTHER;
}

/*
 * Ids name the chip and its device, never hwmonN (its number follows probe
 * order), unless nothing better exists. A device named after the chip
 * (amd_energy's platform device "amd_energy.0") adds nothing and is left out.
 */
static void chip_id_device(struct chip *c)
{
	const char *d = c->dev[0] ? c->dev : c->dir;
	size_t n = strlen(c->name);
	if (strcmp(d, c->name) == 0 || (strncmp(d, c->name, n) == 0 && strcmp(d + n, ".0") == 0))
		c->id_dev[0] = '\0';
	else
		snprintf(c->id_dev, sizeof c->id_dev, "%s", d);
}

/* energyN_input, powerN_input or powerN_average. */
static bool parse_channel(const char *file, struct channel *ch)
{
	const char *p;
	if (strncmp(file, "energy", 6) == 0) {
		ch->energy = true;
		p = file + 6;
	} else if (strncmp(file, "power", 5) == 0) {
		ch->energy = false;
		p = file + 5;
	} else {
		return false;
	}
	if (*p < '1' || *p > '9')
		return false;
	char *end;
	unsigned long num = strtoul(p, &end, 10);
	if (num >= CHANNELS_MAX)
		return false;
	if (strcmp(end, "_input") == 0)
		ch->average = false;
	else if (!ch->energy && strcmp(end, "_average") == 0)
		ch->average = true;
	else
		return false;
	ch->num = (unsigned)num;
	snprintf(ch->attr, sizeof ch->attr, "%.31s", file);
	snprintf(ch->base, sizeof ch->base, "%s%lu", ch->energy ? "energy" : "power", num);
	return true;
}

/*
 * The channels to read, energy first: a power channel is dropped when an
 * energy channel covers it (same number or same label), and powerN_input
 * is preferred to powerN_average (an instantaneous value integrates the
 * load; an average smears it).
 */
static size_t pick_channels(joules_ctx *ctx, const struct chip *c, struct dirent **ents, int n,
			    struct channel *out)
{
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n && k < CHANNELS_MAX; i++) {
			struct channel ch;
			if (!parse_channel(ents[i]->d_name, &ch) || ch.energy != (pass == 0))
				continue;
			char attr[48];
			snprintf(attr, sizeof attr, "%s_label", ch.base);
			chip_text(ctx, c->dir, attr, ch.label, sizeof ch.label);
			bool covered = false;
			int same = -1;
			for (size_t j = 0; j < k && !ch.energy; j++) {
				const struct channel *o = &out[j];
				if (o->energy)
					covered |= o->num == ch.num ||
						   (ch.label[0] && strcmp(o->label, ch.label) == 0);
				else if (o->num == ch.num)
					same = (int)j;
			}
			if (covered)
				continue;
			if (same >= 0) {
				if (!ch.average)
					out[same] = ch;
				continue;
			}
			out[k++] = ch;
		}
	}
	return k;
}

/* The number after a label's prefix ("Esocket1" → 1), or -1. */
static long label_number(const char *label, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(label, prefix, n) != 0 || label[n] < '0' || label[n] > '9')
		return -1;
	char *end;
	long v = strtol(label + n, &end, 10);
	return *end || v > INT32_MAX ? -1 : v;
}

/*
 * Channels that are not domains of their own, each with the source of the
 * fact: `same_as` reads the same quantity as that channel of the chip (one
 * sensor), `within` is a part of that channel's energy (contained in it).
 */
static const struct known_channel {
	const char *chip, *label, *same_as, *within;
} known_channels[] = {
	/*
	 * AMD Van Gogh (Steam Deck): power2_average, labelled fastPPT, is shown
	 * by amdgpu_hwmon_show_power_avg, which ignores the channel and reads
	 * the SoC's average power, as power1 (slowPPT) does: Linux
	 * drivers/gpu/drm/amd/pm/amdgpu_pm.c; `sensors` output in
	 * CachyOS/linux-cachyos#955.
	 */
	{"amdgpu", "fastPPT", "slowPPT", NULL},
	/*
	 * Intel xe: energy2 "pkg" is the GPU package, a part of energy1 "card"
	 * (the whole card): Linux Documentation/ABI/testing/sysfs-driver-intel-xe-hwmon.
	 */
	{"xe", "pkg", NULL, "card"},
};

static const struct known_channel *known_channel(const char *chip, const char *label)
{
	for (size_t i = 0; i < sizeof known_channels / sizeof known_channels[0]; i++)
		if (strcmp(known_channels[i].chip, chip) == 0 &&
		    strcmp(known_channels[i].label, label) == 0)
			return &known_channels[i];
	return NULL;
}

/*
 * The domain a channel measures. amd_energy's EsocketN is package N's RAPL
 * energy (the domain powercap's package-N zone has), EcoreNNN one CPU's;
 * any other channel is a part of its chip's device, named by its label.
 */
static void channel_domain(joules_ctx *ctx, const struct chip *c, const struct channel *ch,
			   const char *chan, struct jl_domain *dom)
{
	*dom = jl_domain_none(c->kind);
	long socket = c->amd_energy ? label_number(ch->label, "Esocket") : -1;
	long core = c->amd_energy ? label_number(ch->label, "Ecore") : -1;
	if (socket >= 0) {
		dom->kind = JOULES_KIND_CPU_PACKAGE;
		dom->package = (int32_t)socket;
		return;
	}
	if (core >= 0) {
		dom->kind = JOULES_KIND_CPU_CORE;
		dom->cpu = (int32_t)core;
		dom->package = jl_cpu_topology(ctx, (unsigned long)core, "physical_package_id");
		/* Its die, so that it sits in its die's zone where RAPL counts per die. */
		dom->die = dom->package >= 0 ? jl_cpu_topology(ctx, (unsigned long)core, "die_id") : -1;
		dom->alone = true; /* no other source has one CPU's energy */
		return;
	}
	const struct known_channel *k = known_channel(c->name, chan);
	snprintf(dom->device, sizeof dom->device, "%s", c->dev);
	snprintf(dom->part, sizeof dom->part, "%.15s:%.15s", c->name,
		 k && k->same_as ? k->same_as : chan);
	if (k && k->within)
		snprintf(dom->within, sizeof dom->within, "%.15s:%.15s", c->name, k->within);
	/* Without a device, nothing tells this chip's channels from another chip's. */
	dom->alone = !c->dev[0];
}

/* Label characters that could confuse an id ("PPT 1" → "PPT_1"). */
static void id_safe(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' || *s == '+'))
			*s = '_';
}

static void open_channel(struct jl_sensor *s, const struct hwmon_data *d, const struct chip *c)
{
	int e;
	int fd = jl_sysfs_open(d->path, &e);
	if (fd >= 0) {
		s->fd = fd;
		return;
	}
	if (e == EACCES || e == EPERM)
		jl_sensor_unreadable(
			s, JOULES_ERR_PERMISSION,
			"%s: permission denied; %s: run as root (sudo joules ...), or let this "
			"user read the file (a udev rule running chmod on it)",
			d->path,
			c->amd_energy ? "amd_energy counters are mode 0440 since Linux 5.10 "
					"(power side channels, CVE-2020-12912)"
				      : "the file's mode does not let this user read it");
	else if (e == ENOENT || e == ENODEV || e == ENXIO)
		jl_sensor_unreadable(s, JOULES_ERR_LOST,
				     "%s: vanished while joules started (the chip was removed)",
				     d->path);
	else
		jl_sensor_unreadable(s, fd, "%s: refused: %s", d->path, jl_sysfs_why(fd, e));
}

/* Format msg (JL_MSG_LEN bytes; a long path is cut, not an error); returns err. */
__attribute__((format(printf, 3, 4))) static int say(char *msg, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, JL_MSG_LEN, fmt, ap);
	va_end(ap);
	return err;
}

/* Why a read of d->path gave no number (r, e from jl_pread_u64): the error code and msg. */
static int explain(const struct hwmon_data *d, int r, int e, const char *text, char *msg)
{
	struct stat st;
	const char *p = d->path;
	if (r == JOULES_ERR_PARSE && !text[0] && stat(p, &st) < 0 && errno == ENOENT)
		return say(msg, JOULES_ERR_LOST,
			   "%s: vanished (the chip was removed: driver unloaded or device "
			   "unplugged)", p);
	if (r == JOULES_ERR_PARSE && !text[0])
		return say(msg, r, "%s: is empty, not a number of %s (the driver gave no value)",
			   p, d->unit);
	if (r == JOULES_ERR_PARSE && e)
		return say(msg, r, "%s: holds \"%s\", longer than any number of %s", p, text,
			   d->unit);
	if (r == JOULES_ERR_PARSE)
		return say(msg, r, "%s: holds \"%s\", not a number of %s (the driver has no "
			   "valid value)", p, text, d->unit);
	if (e == ENODEV || e == ENXIO || e == ENOENT)
		return say(msg, JOULES_ERR_LOST, "%s: the device is gone (%s)", p, strerror(e));
	/* The file is open, so EPERM is the driver refusing, not a permission. */
	if (e == ENODATA || e == EAGAIN || e == EBUSY || e == ETIMEDOUT || e == EPERM)
		return say(msg, JOULES_ERR_IO,
			   "%s: the driver has no value now (%s): the device may be suspended "
			   "or resetting; later reads may succeed", p, strerror(e));
	return say(msg, r, "%s: read failed: %s", p, jl_sysfs_why(r, e));
}

/*
 * How often to sample a power channel: an average's own window
 * (powerN_average_interval), else the chip's update_interval, else 100 ms.
 */
static uint32_t sample_interval_us(joules_ctx *ctx, const struct chip *c, const struct channel *ch)
{
	uint32_t us = 0;
	if (ch->average) {
		char attr[48];
		snprintf(attr, sizeof attr, "%s_average_interval", ch->base);
		us = chip_ms(ctx, c->dir, attr);
	}
	if (!us)
		us = c->update_us;
	if (!us)
		us = HWMON_SAMPLE_US_DEFAULT;
	if (us < HWMON_SAMPLE_US_MIN)
		return HWMON_SAMPLE_US_MIN;
	return us > HWMON_SAMPLE_US_MAX ? HWMON_SAMPLE_US_MAX : us;
}

static void hwmon_sample(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns);

static int add_channel(joules_ctx *ctx, const struct chip *c, const struct channel *ch)
{
	char id[JOULES_ID_LEN], name[JOULES_NAME_LEN], chip[24], chan[32];
	struct jl_domain dom;
	snprintf(chan, sizeof chan, "%s", ch->label[0] ? ch->label : ch->base);
	const struct known_channel *k = known_channel(c->name, chan);
	if (k && k->same_as)
		snprintf(chan, sizeof chan, "%s", k->same_as);
	channel_domain(ctx, c, ch, chan, &dom);
	snprintf(chip, sizeof chip, "%.23s", c->name);
	snprintf(name, sizeof name, "%.30s %.31s", c->name, chan);
	id_safe(chip);
	id_safe(chan);
	if (c->id_dev[0])
		snprintf(id, sizeof id, "hwmon:%.20s:%.16s:%.19s", chip, c->id_dev, chan);
	else
		snprintf(id, sizeof id, "hwmon:%.23s:%.31s", chip, chan);

	struct hwmon_data *d = calloc(1, sizeof *d);
	if (!d)
		return JOULES_ERR_NOMEM;
	struct jl_sensor *s = jl_sensor_add(ctx, &jl_backend_hwmon, &dom, id, name);
	if (!s) {
		free(d);
		return JOULES_ERR_NOMEM;
	}
	s->data = d;
	s->cost_ns = HWMON_COST_NS;
	jl_counter_init(&s->counter, 0, 1, 1, 0);
	d->unit = ch->energy ? "µJ" : "µW";
	if (jl_sysfs_path(ctx, d->path, sizeof d->path, "class/hwmon/%s/%s", c->dir, ch->attr)) {
		jl_sensor_unreadable(s, JOULES_ERR_INVALID, "%s/%s: path too long", c->dir,
				     ch->attr);
		return 0;
	}
	open_channel(s, d, c);
	if (ch->energy) {
		s->pub.refresh_us = c->amd_energy ? AMD_ENERGY_REFRESH_US : c->update_us;
		return 0;
	}
	d->hist = calloc(1, sizeof *d->hist);
	if (!d->hist)
		return JOULES_ERR_NOMEM;
	d->integrated = true;
	s->pub.flags |= JOULES_SENSOR_INTEGRATED;
	s->pub.refresh_us = sample_interval_us(ctx, c, ch);
	pthread_mutex_init(&d->lock, NULL);
	if (s->fd >= 0) {
		s->sample_us = s->pub.refresh_us;
		/* The first sample starts the integral at open, and shows errors at once. */
		hwmon_sample(ctx, s, jl_now_ns());
	}
	return 0;
}

static int channel_filter(const struct dirent *e)
{
	return strncmp(e->d_name, "energy", 6) == 0 || strncmp(e->d_name, "power", 5) == 0;
}

/* Returns 0, or JOULES_ERR_NOMEM; *dangling is set when the link points nowhere. */
static int add_chip(joules_ctx *ctx, const char *dir, bool *dangling)
{
	char path[JL_PATH_MAX];
	struct stat st;
	*dangling = false;
	if (jl_sysfs_path(ctx, path, sizeof path, "class/hwmon/%s", dir))
		return 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*dangling = true;
		return 0;
	}
	struct dirent **ents;
	int n = scandir(path, &ents, channel_filter, versionsort);
	if (n < 0)
		return 0;
	struct chip c = {.dir = dir};
	chip_text(ctx, dir, "name", c.name, sizeof c.name);
	if (!c.name[0])
		snprintf(c.name, sizeof c.name, "%.47s", dir);
	chip_device(ctx, &c);
	chip_id_device(&c);
	c.kind = chip_kind(c.name);
	c.amd_energy = rapl_chip(c.name);
	c.update_us = chip_ms(ctx, dir, "update_interval");

	int r = 0;
	struct channel *chans = malloc(CHANNELS_MAX * sizeof *chans);
	if (!chans) {
		r = JOULES_ERR_NOMEM;
	} else {
		size_t k = pick_channels(ctx, &c, ents, n, chans);
		for (size_t i = 0; i < k && r == 0; i++)
			r = add_channel(ctx, &c, &chans[i]);
	}
	free(chans);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return r;
}

static int chip_filter(const struct dirent *e)
{
	const char *p = e->d_name;
	if (strncmp(p, "hwmon", 5) != 0 || !p[5])
		return 0;
	for (p += 5; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int hwmon_enumerate(joules_ctx *ctx, void *priv)
{
	(void)priv;
	char path[JL_PATH_MAX];
	if (jl_sysfs_path(ctx, path, sizeof path, "class/hwmon"))
		return 0;
	struct dirent **ents;
	int n = scandir(path, &ents, chip_filter, versionsort);
	if (n < 0) {
		if (errno == ENOENT)
			jl_note(ctx, "no %s: no hwmon support in this kernel (CONFIG_HWMON off, or the "
				"hwmon module not loaded)",
				path);
		else
			jl_note(ctx, "%s: cannot list: %s", path, strerror(errno));
		return 0;
	}
	size_t first = ctx->n_sensors;
	char dangling[256] = "";
	size_t used = 0;
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		bool gone;
		r = add_chip(ctx, ents[i]->d_name, &gone);
		if (gone && used < sizeof dangling) {
			int m = snprintf(dangling + used, sizeof dangling - used, "%s%s",
					 used ? ", " : "", ents[i]->d_name);
			used += m > 0 ? (size_t)m : 0;
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (r == 0 && n == 0)
		jl_note(ctx, "no hwmon chips in %s: no hardware monitoring driver is loaded", path);
	else if (r == 0 && ctx->n_sensors == first)
		jl_note(ctx, "%d chips in %s, none with energyN_input, powerN_input or "
			"powerN_average (temperature and fan chips have none)%s%s",
			n, path, dangling[0] ? "; skipped dangling links: " : "", dangling);
	else if (r == 0 && dangling[0])
		jl_note(ctx, "skipped dangling links in %s (their chips are gone): %s", path,
			dangling);
	return r;
}

static int hwmon_read(joules_ctx *ctx, struct jl_sensor *s, struct jl_sample *out)
{
	(void)ctx;
	struct hwmon_data *d = s->data;
	char text[32], msg[JL_MSG_LEN];
	int err, e;
	if (d->integrated) {
		pthread_mutex_lock(&d->lock);
		/* After the lock: the last sample is never later than now. */
		uint64_t now = jl_now_ns();
		err = d->err;
		if (err) {
			memcpy(msg, d->msg, sizeof msg);
		} else {
			out->raw = d->ig.uj;
			out->flags = JOULES_READING_PROVISIONAL; /* until the next sample */
			if (jl_gap_flag(&d->gap)) {
				out->flags |= JOULES_READING_GAP;
				jl_sensor_fail(s, 0, "%s", d->msg);
			}
			/* Energy since the last sample, at its power: not yet counted. */
			unsigned __int128 lag = d->ig.primed && now > d->ig.last_ns
							? (unsigned __int128)d->ig.last_uw *
								  (now - d->ig.last_ns) / 1000000000u
							: 0;
			lag += d->gap.unc_uj;
			out->uncertainty_uj = lag > UINT32_MAX ? UINT32_MAX : (uint32_t)lag;
		}
		pthread_mutex_unlock(&d->lock);
		return err ? jl_sensor_fail(s, err, "%s", msg) : 0;
	}
	int r = jl_pread_u64(s->fd, &out->raw, text, sizeof text, &e);
	if (r == 0)
		return 0;
	err = explain(d, r, e, text, msg);
	return jl_sensor_fail(s, err, "%s", msg);
}

/* The sampler thread: one power reading into the integral. */
static void hwmon_sample(joules_ctx *ctx, struct jl_sensor *s, uint64_t now_ns)
{
	(void)ctx;
	struct hwmon_data *d = s->data;
	char text[32], msg[JL_MSG_LEN];
	uint64_t uw;
	int e;
	int r = jl_pread_u64(s->fd, &uw, text, sizeof text, &e);
	int err = r ? explain(d, r, e, text, msg) : 0;
	pthread_mutex_lock(&d->lock);
	/* A transient failure is skipped (lib/gap.h): the next good sample spans the gap. */
	if (err && jl_gap_fail(&d->gap, r != JOULES_ERR_PARSE && jl_gap_transient_errno(e),
			       e == EIO)) {
		memcpy(d->msg, msg, sizeof msg); /* why the gap, for read() to tell */
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (!err) {
		if (d->ig.primed && now_ns > d->ig.last_ns)
			jl_gap_close(&d->gap, now_ns - d->ig.last_ns, d->ig.last_uw, uw);
		jl_integrator_add(&d->ig, uw, now_ns);
		jl_history_add(d->hist, (struct jl_history_point){.t_ns = now_ns,
								    .ig_uj = d->ig.uj,
								    .est_uj = d->ig.uj});
	}
	d->err = err;
	if (err)
		memcpy(d->msg, msg, sizeof msg);
	pthread_mutex_unlock(&d->lock);
}

/*
 * A provisional reading of an integrated sensor counts the energy up to the
 * sample before it; once the sample after it is in, the integral at the
 * reading's own time is known (linear between the two samples). A sample
 * that never comes (the file broke) leaves the reading as it was after
 * SETTLE_GIVE_UP_SAMPLES intervals.
 */
static int hwmon_settle(joules_ctx *ctx, struct jl_sensor *s, struct joules_reading *r)
{
	(void)ctx;
	struct hwmon_data *d = s->data;
	const struct jl_counter *c = &s->counter;
	struct jl_history_point p;
	pthread_mutex_lock(&d->lock);
	enum jl_history_lookup found = r->resets == c->resets
					       ? jl_history_at(d->hist, r->time_ns, &p)
					       : JL_HISTORY_EARLIER;
	uint64_t give_up_ns = (uint64_t)s->sample_us * 1000u * SETTLE_GIVE_UP_SAMPLES;
	if (found == JL_HISTORY_LATER && jl_now_ns() - r->time_ns < give_up_ns) {
		pthread_mutex_unlock(&d->lock);
		return 1;
	}
	if (found == JL_HISTORY_FOUND) {
		/* The core's counter is this integral plus a constant. */
		r->energy_uj = c->total_raw - c->last_raw + p.est_uj;
		uint64_t spread = jl_history_spread(d->hist, r->time_ns) + d->gap.unc_uj;
		r->uncertainty_uj = spread > UINT32_MAX ? UINT32_MAX : (uint32_t)spread;
	}
	r->flags &= ~JOULES_READING_PROVISIONAL;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* In a fork() child the parent's sampler may hold d->lock: it is left as it is. */
static void hwmon_release_forked(struct jl_sensor *s)
{
	struct hwmon_data *d = s->data;
	if (d)
		free(d->hist);
	free(d);
}

static void hwmon_release(struct jl_sensor *s)
{
	struct hwmon_data *d = s->data;
	if (d && d->integrated)
		pthread_mutex_destroy(&d->lock);
	hwmon_release_forked(s);
}

const struct jl_backend jl_backend_hwmon = {
	.name = "hwmon",
	.enumerate = hwmon_enumerate,
	.read = hwmon_read,
	.sample = hwmon_sample,
	.settle = hwmon_settle,
	.release = hwmon_release,
	.release_forked = hwmon_release_forked,
};
