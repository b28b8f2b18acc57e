/* SPDX-License-Identifier: MIT */
/* Who is on the other end of a connection, and what it may read. */
#ifndef JOULESD_ACCESS_H
#define JOULESD_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool in_group; /* primary or supplementary member of the daemon's group */
};

/*
 * The peer's credentials: SO_PEERCRED gives pid, uid and the primary gid;
 * SO_PEERGROUPS (Linux 4.13) the supplementary groups, so a member of
 * `group` through a supplementary group (the usual case) is recognised.
 * Returns 0 or -errno.
 */
int access_peer(int fd, gid_t group, struct peer *out);

/* Full access: root, the daemon's own user, or a member of the group. */
bool access_full(const struct peer *p, uid_t daemon_uid);

#endif
