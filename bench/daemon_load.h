/* SPDX-License-Identifier: MIT */
/*
 * Load on a SOCK_SEQPACKET server for bench_daemon: many clients at once
 * against it, a many-client echo server as their floor, and what a server
 * process costs (RSS, CPU time) read from /proc.
 */
#ifndef JOULES_BENCH_DAEMON_LOAD_H
#define JOULES_BENCH_DAEMON_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whether `reply` (len bytes) answers the request; 0 if it does. */
typedef int (*load_check_fn)(const void *reply, size_t len);

struct load_result {
	uint64_t replies; /* good replies */
	uint64_t errors;  /* failed connects, sends, receives, and bad replies */
	double per_s;     /* good replies per wall second, all clients together */
};

/*
 * `clients` threads, each on its own connection to `sock`, send `req` and
 * wait for its reply in a loop for `seconds` (they start together).
 */
int load_run(const char *sock, int clients, double seconds, const void *req, size_t req_len,
	     load_check_fn check, struct load_result *out);

/*
 * A child process serving `sock` to any number of clients with one epoll
 * loop, one request per wake-up as joulesd does, answering each with
 * `reply_len` bytes. Kill it with SIGTERM.
 */
pid_t load_echo_start(const char *sock, size_t reply_len);

/* A child process that wakes every interval_ms and does nothing (SIGTERM). */
pid_t load_wakeups_start(unsigned interval_ms);

/* Resident set of process pid, KiB (/proc/PID/status VmRSS); -1 if unknown. */
long load_rss_kib(pid_t pid);

/* CPU time process pid has used, ns (/proc/PID/schedstat, else /proc/PID/stat). */
int64_t load_cpu_ns(pid_t pid);

#endif
