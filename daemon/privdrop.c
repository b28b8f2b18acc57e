/* SPDX-License-Identifier: MIT */
/*
 * The drop, without libcap: prctl for the bounding and ambient sets, the
 * capget system call to check that nothing is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

/* The highest capability this kernel knows (it may know more than our headers). */
static int last_cap(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

static int fail(char *err, size_t len, const char *call)
{
	snprintf(err, len, "dropping privileges: %s failed: %s", call, strerror(errno));
	return -1;
}

/* Nothing left in the permitted, effective or inheritable sets. */
static int no_caps_left(char *err, size_t len)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) < 0)
		return fail(err, len, "capget");
	for (int i = 0; i < 2; i++)
		if (data[i].permitted || data[i].effective || data[i].inheritable) {
			snprintf(err, len, "dropping privileges: capabilities remain after setresuid");
			return -1;
		}
	return 0;
}

int privdrop(uid_t uid, gid_t gid, const char *probe, char *err, size_t err_len)
{
	if (geteuid() != 0)
		return 1;
	if (uid == 0) {
		snprintf(err, err_len, "refusing to run as root: pass --user with a system user");
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(err, err_len, "prctl(PR_SET_KEEPCAPS, 0)");
	for (int cap = 0; cap <= last_cap(); cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, err_len, "prctl(PR_CAPBSET_DROP)");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(err, err_len, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	if (setgroups(0, NULL) < 0)
		return fail(err, err_len, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		return fail(err, err_len, "setresgid");
	if (setresuid(uid, uid, uid) < 0)
		return fail(err, err_len, "setresuid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, err_len, "prctl(PR_SET_NO_NEW_PRIVS)");
	/* Not dumpable: another process of this user cannot ptrace us for the fds. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(err, err_len, "prctl(PR_SET_DUMPABLE, 0)");

	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0) {
		snprintf(err, err_len, "dropping privileges: root could be taken back");
		return -1;
	}
	if (no_caps_left(err, err_len) < 0)
		return -1;
	if (probe) {
		int fd = open(probe, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			snprintf(err, err_len,
				 "dropping privileges: %s (root-only) still opens after the drop", probe);
			return -1;
		}
	}
	return 0;
}
