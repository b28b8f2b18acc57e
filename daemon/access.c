/* SPDX-License-Identifier: MIT */
/* Peer credentials of a Unix socket connection. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "access.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/* Is `group` among the peer's supplementary groups? */
static int in_supplementary(int fd, gid_t group, bool *found)
{
	gid_t small[64];
	gid_t *groups = small;
	socklen_t len = sizeof small;
	*found = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return -errno;
		/* More than 64 groups: the kernel said how many bytes it needs. */
		groups = malloc(len);
		if (!groups)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			int e = errno;
			free(groups);
			return -e;
		}
	}
	for (size_t i = 0; i < len / sizeof *groups; i++)
		if (groups[i] == group)
			*found = true;
	if (groups != small)
		free(groups);
	return 0;
}

int access_peer(int fd, gid_t group, struct peer *out)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*out = (struct peer){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
	if (cred.gid == group) {
		out->in_group = true;
		return 0;
	}
	return in_supplementary(fd, group, &out->in_group);
}

bool access_full(const struct peer *p, uid_t daemon_uid)
{
	return p->uid == 0 || p->uid == daemon_uid || p->in_group;
}
