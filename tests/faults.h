/* SPDX-License-Identifier: MIT */
/*
 * Fault injection under the library's real read path, in the manner of
 * SQLite's test VFS: a test binary linked with faults.c and the linker
 * flags in tests/meson.build (-Wl,--wrap=open,--wrap=open64,--wrap=read,
 * --wrap=pread,--wrap=pread64) sends every open, read and pread of the
 * library (and of the test itself) through here. An armed rule lets
 * `after` matching calls through, then fails the next ones with `errnum`:
 * `times` of them (FAULT_ALWAYS: every one until fault_clear()).
 *
 * A rule matches by path suffix: for open the path given, for read and
 * pread the file the fd refers to (/proc/self/fd/N), so "[perf_event]"
 * matches perf event fds. Only read-only opens are failed, so the rig can
 * still write its files. Rules are shared by every thread (the sampler's
 * reads too).
 */
#ifndef JOULES_TEST_FAULTS_H
#define JOULES_TEST_FAULTS_H

enum fault_call {
	FAULT_OPEN, /* open, open64 (read-only) */
	FAULT_READ, /* read, pread, pread64 */
};

#define FAULT_ALWAYS 0u

/* Arm a rule (up to 8 at once). */
void fault_arm(enum fault_call call, const char *suffix, unsigned after, int errnum,
	       unsigned times);
/* Disarm every rule. */
void fault_clear(void);
/* Calls failed since the last fault_clear(). */
unsigned fault_fired(void);

#endif
