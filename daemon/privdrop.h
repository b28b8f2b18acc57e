/* SPDX-License-Identifier: MIT */
/* Dropping root for good once every counter is open. */
#ifndef JOULESD_PRIVDROP_H
#define JOULESD_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Become uid/gid with no supplementary groups and no capabilities:
 * bounding and ambient sets emptied, setgroups, setresgid, setresuid (the
 * kernel then clears the permitted and effective sets), no_new_privs, not
 * dumpable. Then check it: getting root back must fail, no capability may
 * remain, and `probe` (a root-only file opened before the drop, or NULL)
 * must no longer open. Returns 0 or -1 with `err` saying what failed.
 * Not root to begin with: nothing to drop, returns 1.
 * Threads: glibc applies setresuid/setresgid/setgroups to every thread
 * (so each loses its capabilities), but the bounding set, no_new_privs
 * and dumpable are per thread; a libjoules sampler thread (GPUs, hwmon
 * power) started before the drop keeps a full bounding set, which grants
 * nothing without an execve it never makes (and systemd's
 * NoNewPrivileges covers every thread).
 */
int privdrop(uid_t uid, gid_t gid, const char *probe, char *err, size_t err_len);

#endif
