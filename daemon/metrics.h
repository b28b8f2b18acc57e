/* SPDX-License-Identifier: MIT */
/*
 * joulesd's Prometheus endpoint (--metrics): served by libmicrohttpd in
 * its own thread from the full page the poll loop publishes, so a scrape
 * never reads hardware and never waits for the poll loop, nor it for a
 * scrape. docs/cluster.md says how to use it; docs/security.md why its
 * resolution is what it is.
 */
#ifndef JOULESD_METRICS_H
#define JOULESD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "publish.h"

/* The default port (docs/cluster.md says why this one). */
#define METRICS_DEFAULT_PORT "19471"
/* Connections served at once; more are accepted and closed. */
#define METRICS_MAX_CONNECTIONS 64u
/* A connection idle this long (a half-sent request included) is closed. */
#define METRICS_TIMEOUT_S 5u

struct metrics_config {
	/*
	 * Where to listen: "ADDR:PORT", "[IPV6]:PORT", "ADDR" (default port),
	 * ":PORT" or "PORT" (127.0.0.1), or "unix:/PATH" (mode 0660, `group`).
	 */
	const char *listen;
	const char *token_file; /* bearer token required when set */
	bool full;              /* the admin opted in to full resolution on TCP */
	gid_t group;
};

struct metrics;

/*
 * As root, before the privilege drop: bind the endpoint and read the token
 * file. Returns 0 or -1 with `err` set.
 */
int metrics_open(struct metrics **ret, const struct metrics_config *cfg,
		 const struct publisher *pub, char *err, size_t err_len);
/* After the drop: start serving in a thread of its own. */
int metrics_start(struct metrics *m, char *err, size_t err_len);
/* What is served where, for the log. */
const char *metrics_describe(const struct metrics *m);
/* Stop serving, remove a Unix socket, free everything (NULL is fine). */
void metrics_close(struct metrics *m);

#endif
