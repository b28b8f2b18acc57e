/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition (format 0.0.4) of joulesd's metrics: a
 * pure function from values to text, so it is tested on its own.
 */
#ifndef JOULESD_METRICS_FORMAT_H
#define JOULESD_METRICS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One sensor as exported. */
struct metrics_sensor {
	const char *id;     /* label sensor, e.g. "rapl:package-0" */
	const char *kind;   /* label kind, e.g. "cpu-package" */
	const char *device; /* label device, e.g. "socket 0" */
	bool up;            /* read successfully at the last poll */
	bool have_energy;   /* false: never read, no energy sample */
	uint64_t energy_uj; /* counter: energy since the daemon started (never decreasing) */
	bool have_power;
	uint64_t power_uw;
};

struct metrics_info {
	const char *version;       /* label of joules_build_info */
	uint64_t resolution_uj;    /* 1 (full) or 1000000 (public: whole joules) */
	uint64_t start_time_s;     /* the daemon's start, Unix time */
};

/*
 * Write the exposition into buf (len bytes, NUL-terminated when len > 0).
 * Returns the length of the whole text (without the NUL), as snprintf:
 * a result >= len means buf was too short. Label values are escaped
 * (backslash, double quote, newline); a NULL string is an empty label.
 */
size_t metrics_format(char *buf, size_t len, const struct metrics_info *info,
		      const struct metrics_sensor *s, size_t n);

#endif
