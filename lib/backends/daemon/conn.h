/* SPDX-License-Identifier: MIT */
/*
 * The client end of the joulesd protocol (daemon/proto.h): connect, say
 * hello, fetch the sensor list and the sealed page, map it read-only.
 */
#ifndef JOULES_DAEMON_CONN_H
#define JOULES_DAEMON_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct jl_daemon_conn {
	const struct jld_page_header *page; /* mapped PROT_READ, or NULL */
	size_t page_size;
	uint64_t generation;
	uint64_t interval_ns;
	uint32_t n;              /* sensors */
	struct jld_sensor *meta; /* n records */
};

/* How a connection attempt failed: what the caller tells the user. */
enum jl_daemon_failure {
	JL_DAEMON_OK = 0,
	JL_DAEMON_ABSENT,  /* no socket, or nobody listens on it */
	JL_DAEMON_DENIED,  /* the socket's mode or the daemon refused this user */
	JL_DAEMON_BROKEN,  /* it answered, but not as joulesd does */
};

/*
 * Connect to the daemon at `path` and take its page. Returns JL_DAEMON_OK
 * with *c filled, or a failure with `why` saying what happened (the call,
 * the path, and the group that grants access when it is known).
 */
int jl_daemon_connect(const char *path, struct jl_daemon_conn *c, char *why, size_t why_len);
void jl_daemon_disconnect(struct jl_daemon_conn *c);

#endif
