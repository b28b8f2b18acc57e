/* SPDX-License-Identifier: MIT */
/*
 * The Unix socket server: non-blocking SOCK_SEQPACKET listeners (the group
 * socket and, with --public, the public one) served by one epoll loop that
 * also polls the sensors at the interval. Limits (docs/protocol.md):
 * SERVER_MAX_CLIENTS connections (SERVER_MAX_PER_UID per uid), a request
 * within SERVER_READ_DEADLINE_MS of connecting or of the last one, a
 * per-uid token bucket of `rate_per_s` requests a second.
 */
#ifndef JOULESD_SERVER_H
#define JOULESD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "publish.h"

#define SERVER_MAX_CLIENTS 1024
#define SERVER_MAX_PER_UID 512
#define SERVER_READ_DEADLINE_MS 2000
#define SERVER_DEFAULT_RATE 1000
/* The bucket holds this many seconds of requests: bursts of a few thousand pass. */
#define SERVER_BURST_S 4

struct server_config {
	const char *socket_path;
	const char *public_path; /* NULL: no public socket */
	uid_t uid;               /* the daemon's user, owner of its directory */
	gid_t group;             /* the access group (`joules`) */
	uint32_t rate_per_s;
	bool verbose;
};

struct server;

/*
 * Before the privilege drop: make the socket directories, replace a stale
 * socket (no listener), refuse to start when another daemon listens, bind
 * each socket with its mode from the start (umask around bind). Returns 0
 * or -1 with `err` set.
 */
int server_open(struct server **ret, const struct server_config *cfg, struct publisher *pub,
		char *err, size_t err_len);
/*
 * Serve and poll until a signal arrives on `signal_fd` (a signalfd).
 * Returns 0, or -1 after logging a fatal error.
 */
int server_run(struct server *s, int signal_fd);
/* Close every connection and remove the sockets. NULL is allowed. */
void server_close(struct server *s);

#endif
