/* SPDX-License-Identifier: MIT */
/*
 * What joulesd's paths cost, each against a floor measured in the same run
 * (medians of interleaved rounds; nothing asserted, ratios printed):
 *   page:     a snapshot through the daemon's page (joules_read, daemon
 *             policy) against a direct snapshot of the same sensors
 *             (joules_read, direct policy: pread of each energy_uj).
 *             Target <= 0.2.
 *   oneshot:  a SNAPSHOT request on the socket against a minimal Unix
 *             SOCK_SEQPACKET echo (another process) of the same sizes.
 *             Target <= 1.5.
 *   tcp:      the recipe's connect-per-sample (TCP to 127.0.0.1, receive one
 *             number as text, close) against a page snapshot, of every sensor
 *             and of what the recipe's number is (the packages, listed
 *             first). Target >= 100.
 *   load:     SNAPSHOT requests from 1, 8 and 64 clients at once (a thread
 *             and a connection each) against the same clients on an epoll
 *             echo server (another process, one request per wake-up as
 *             joulesd does, replies of the same size): throughput, medians
 *             of interleaved runs. Target >= 0.5; no errors; joulesd's RSS
 *             after it all <= 4 MiB (floor: its RSS just after start).
 *   idle:     joulesd's CPU time while no one asks, over IDLE_SECONDS
 *             (default 10), as seconds per hour, against a process that
 *             only wakes at its polling interval (10 ms), measured at once.
 * All of it pinned to one CPU, so no round trip crosses cores.
 * The daemon runs over a fake two-socket Intel tree on tmpfs; run as root,
 * it is started as `nobody` (nothing to drop: the tree is world-readable).
 * Prints report.h lines. Usage: bench_daemon PATH_TO_JOULESD [IDLE_SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_load.h"
#include "fakesys.h"
#include "joules.h"
#include "proto.h"
#include "report.h"

#define ROUNDS 201
#define WARMUP 10
#define BATCH_MEM 200 /* page and direct snapshots per round */
#define BATCH_IPC 20  /* socket round trips per round */
#define NOBODY 65534
#define LOAD_RUNS 5      /* interleaved runs of each server per client count */
#define LOAD_SECONDS 0.2 /* one run */
#define POLL_MS 10       /* joulesd's default --interval */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return (double)v[n / 2];
}

static int die(const char *what)
{
	fprintf(stderr, "bench_daemon: %s: %s\n", what, strerror(errno));
	return -1;
}

/* joulesd on `sock` over `root`, as nobody when we are root. */
static pid_t start_daemon(const char *joulesd, const char *root, const char *sock)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setenv("JOULES_SYSFS_ROOT", root, 1);
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
		_exit(111);
	struct group *g = getgrgid(getegid());
	execl(joulesd, "joulesd", "--foreground", "--socket", sock, "--group",
	      g ? g->gr_name : "nogroup", "--rate", "100000", (char *)NULL);
	_exit(112);
}

static int wait_socket(const char *sock)
{
	for (int i = 0; i < 3000; i++) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			return fd;
		close(fd);
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* A process that answers every message with `reply_len` bytes: the floor of a round trip. */
static pid_t start_echo(const char *sock, size_t reply_len)
{
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4) < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	int fd = accept(lfd, NULL, NULL);
	char *buf = calloc(1, reply_len + 64);
	for (;;) {
		ssize_t n = recv(fd, buf, 64, 0);
		if (n <= 0 || send(fd, buf, reply_len, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

/* The recipe's listener: each connection gets one number as text, then is closed. */
static pid_t start_tcp(uint16_t *port)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	pid_t pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		const char text[] = "123456789012\n";
		if (send(fd, text, sizeof text - 1, MSG_NOSIGNAL) < 0)
			_exit(1);
		close(fd);
	}
}

static uint64_t tcp_sample(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char buf[64];
	uint64_t v = 0;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
		ssize_t n, got = 0;
		while ((n = recv(fd, buf + got, sizeof buf - 1 - (size_t)got, 0)) > 0)
			got += n;
		for (ssize_t k = 0; k < got && buf[k] >= '0' && buf[k] <= '9'; k++)
			v = v * 10 + (uint64_t)(buf[k] - '0');
	}
	if (fd >= 0)
		close(fd);
	return v;
}

/* One request, one reply of up to `cap` bytes; the reply's length. */
static ssize_t round_trip(int fd, const void *req, size_t req_len, void *reply, size_t cap)
{
	if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
		return -1;
	return recv(fd, reply, cap, 0);
}

static joules_ctx *open_policy(const char *root, int policy)
{
	joules_ctx *ctx = NULL;
	char err[512];
	struct joules_open_opts o = {.size = sizeof o, .sysfs_root = root, .policy = policy,
				     .error = err, .error_len = sizeof err};
	if (joules_open_with(&ctx, &o) < 0)
		fprintf(stderr, "bench_daemon: joules_open_with: %s\n", err);
	return ctx;
}

static volatile uint64_t sink;

static int bench(const char *root, const char *echo_sock, int dfd, size_t *reply_len)
{
	joules_ctx *direct = open_policy(root, JOULES_POLICY_DIRECT);
	joules_ctx *paged = open_policy(root, JOULES_POLICY_DAEMON);
	if (!direct || !paged)
		return -1;
	size_t n = joules_sensor_count(direct);
	if (n != joules_sensor_count(paged)) {
		fprintf(stderr, "bench_daemon: %zu direct sensors, %zu through the daemon\n", n,
			joules_sensor_count(paged));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(joules_sensor(paged, i)->flags & JOULES_SENSOR_VIA_DAEMON)) {
			fprintf(stderr, "bench_daemon: %s is not read through the daemon\n",
				joules_sensor(paged, i)->id);
			return -1;
		}
	size_t npkg = 0; /* the packages, first in the list: the recipe's one number */
	while (npkg < n && joules_sensor(paged, npkg)->kind == JOULES_KIND_CPU_PACKAGE)
		npkg++;
	struct joules_reading *out = calloc(n, sizeof *out);
	uint64_t *t_direct = calloc(ROUNDS, 8), *t_page = calloc(ROUNDS, 8),
		 *t_snap = calloc(ROUNDS, 8), *t_echo = calloc(ROUNDS, 8), *t_tcp = calloc(ROUNDS, 8),
		 *t_pkg = calloc(ROUNDS, 8);
	unsigned char req[16], reply[16384];
	struct jld_header h;
	jld_header_init(&h, JLD_SNAPSHOT, sizeof h, 1);
	memcpy(req, &h, sizeof h);
	ssize_t snap_len = round_trip(dfd, req, sizeof req, reply, sizeof reply);
	if (snap_len <= (ssize_t)sizeof h || jld_check_reply(reply, (size_t)snap_len, JLD_SNAPSHOT, 1,
							     sizeof h, NULL) != 0) {
		fprintf(stderr, "bench_daemon: the daemon's snapshot reply is not one\n");
		return -1;
	}
	pid_t echo = start_echo(echo_sock, (size_t)snap_len);
	int efd = echo > 0 ? wait_socket(echo_sock) : -1;
	uint16_t port = 0;
	pid_t tcp = start_tcp(&port);
	if (efd < 0 || tcp < 0) {
		die("echo or TCP server");
		return -1;
	}
	int rc = 0;
	for (int r = -WARMUP; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int b = 0; b < BATCH_MEM; b++)
			joules_read(direct, out, n);
		uint64_t t1 = now_ns();
		for (int b = 0; b < BATCH_MEM; b++)
			joules_read(paged, out, n);
		uint64_t t2 = now_ns();
		for (int b = 0; b < BATCH_IPC; b++)
			sink += (uint64_t)round_trip(dfd, req, sizeof req, reply, sizeof reply);
		uint64_t t3 = now_ns();
		for (int b = 0; b < BATCH_IPC; b++)
			sink += (uint64_t)round_trip(efd, req, sizeof req, reply, sizeof reply);
		uint64_t t4 = now_ns();
		for (int b = 0; b < BATCH_IPC; b++)
			sink += tcp_sample(port);
		uint64_t t5 = now_ns();
		for (int b = 0; b < BATCH_MEM; b++)
			joules_read(paged, out, npkg);
		uint64_t t6 = now_ns();
		if (r >= 0) {
			t_pkg[r] = (t6 - t5) / BATCH_MEM;
			t_direct[r] = (t1 - t0) / BATCH_MEM;
			t_page[r] = (t2 - t1) / BATCH_MEM;
			t_snap[r] = (t3 - t2) / BATCH_IPC;
			t_echo[r] = (t4 - t3) / BATCH_IPC;
			t_tcp[r] = (t5 - t4) / BATCH_IPC;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (out[i].status) {
			fprintf(stderr, "bench_daemon: %s: %s\n", joules_sensor(paged, i)->id,
				joules_sensor_error(paged, i));
			rc = -1;
		}
	double d = median(t_direct, ROUNDS), p = median(t_page, ROUNDS),
	       s = median(t_snap, ROUNDS), e = median(t_echo, ROUNDS), t = median(t_tcp, ROUNDS),
	       k = median(t_pkg, ROUNDS);
	char row[200];
	snprintf(row, sizeof row, "page snapshot (joules_read via joulesd), %zu sensors", n);
	bench_row(row, p / 1000, "µs", "direct snapshot of the same sensors", d / 1000,
		  "ratio <= 0.2");
	snprintf(row, sizeof row, "socket one-shot SNAPSHOT, %zd-byte reply", snap_len);
	bench_row(row, s / 1000, "µs", "Unix SEQPACKET echo, same sizes", e / 1000, "ratio <= 1.5");
	snprintf(row, sizeof row, "page snapshot, all %zu sensors, vs the recipe's TCP sample", n);
	bench_row(row, p / 1000, "µs", "TCP connect, one number as text, close", t / 1000,
		  "ratio <= 0.01");
	snprintf(row, sizeof row, "page snapshot, the %zu packages, vs the recipe's TCP sample",
		 npkg);
	bench_row(row, k / 1000, "µs", "TCP connect, one number as text, close", t / 1000,
		  "ratio <= 0.01");
	*reply_len = (size_t)snap_len;
	close(efd);
	kill(echo, SIGTERM);
	kill(tcp, SIGTERM);
	waitpid(echo, NULL, 0);
	waitpid(tcp, NULL, 0);
	free(out);
	free(t_direct);
	free(t_page);
	free(t_snap);
	free(t_echo);
	free(t_tcp);
	free(t_pkg);
	joules_close(direct);
	joules_close(paged);
	return rc;
}

static size_t echo_len; /* the echo's reply size: the daemon's snapshot reply */

static int check_snapshot(const void *reply, size_t len)
{
	return jld_check_reply(reply, len, JLD_SNAPSHOT, 1, sizeof(struct jld_header), NULL);
}

static int check_echo(const void *reply, size_t len)
{
	(void)reply;
	return len == echo_len ? 0 : -1;
}

static double median_d(double *v, size_t n)
{
	uint64_t u[LOAD_RUNS];
	for (size_t i = 0; i < n; i++)
		u[i] = (uint64_t)v[i];
	return median(u, n);
}

/* Throughput with 1, 8 and 64 clients, errors, then joulesd's RSS. */
static int load(const char *sock, const char *echo_sock, pid_t daemon, long rss_start)
{
	struct jld_header h;
	jld_header_init(&h, JLD_SNAPSHOT, sizeof h, 1);
	pid_t echo = load_echo_start(echo_sock, echo_len);
	if (echo < 0)
		return die("many-client echo server");
	static const int counts[] = {1, 8, 64};
	uint64_t errors = 0, replies = 0;
	int rc = 0;
	for (size_t c = 0; c < sizeof counts / sizeof counts[0] && rc == 0; c++) {
		double dps[LOAD_RUNS], eps[LOAD_RUNS];
		for (int r = 0; r < LOAD_RUNS && rc == 0; r++) {
			struct load_result dr, er;
			if (load_run(sock, counts[c], LOAD_SECONDS, &h, sizeof h, check_snapshot,
				     &dr) < 0 ||
			    load_run(echo_sock, counts[c], LOAD_SECONDS, &h, sizeof h, check_echo,
				     &er) < 0) {
				rc = die("load clients");
				break;
			}
			if (er.errors)
				fprintf(stderr, "bench_daemon: the echo server failed %llu requests\n",
					(unsigned long long)er.errors);
			errors += dr.errors;
			replies += dr.replies;
			dps[r] = dr.per_s;
			eps[r] = er.per_s;
		}
		if (rc)
			break;
		char row[200];
		snprintf(row, sizeof row, "joulesd throughput, %d client%s", counts[c],
			 counts[c] > 1 ? "s at once" : "");
		bench_row(row, median_d(dps, LOAD_RUNS), "req/s",
			  "epoll echo server, same clients and sizes", median_d(eps, LOAD_RUNS),
			  "ratio >= 0.5");
	}
	kill(echo, SIGTERM);
	waitpid(echo, NULL, 0);
	if (rc)
		return rc;
	char row[200];
	snprintf(row, sizeof row, "joulesd errors over the load runs (%llu replies)",
		 (unsigned long long)replies);
	bench_row(row, (double)errors, "errors", NULL, 0, "value == 0");
	long rss = load_rss_kib(daemon);
	if (rss < 0 || rss_start < 0)
		return die("joulesd's /proc/PID/status");
	bench_row("joulesd RSS after the load runs", (double)rss / 1024, "MiB",
		  "its RSS just after start", (double)rss_start / 1024, "value <= 4");
	return 0;
}

/* joulesd's CPU time while idle against bare wake-ups at its polling interval. */
static int idle(pid_t daemon, double seconds)
{
	pid_t wake = load_wakeups_start(POLL_MS);
	if (wake < 0)
		return die("fork");
	int64_t d0 = load_cpu_ns(daemon), w0 = load_cpu_ns(wake);
	uint64_t t0 = now_ns();
	struct timespec ts = {.tv_sec = (time_t)seconds,
			      .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	int64_t d1 = load_cpu_ns(daemon), w1 = load_cpu_ns(wake);
	double wall = (double)(now_ns() - t0) / 1e9;
	kill(wake, SIGTERM);
	waitpid(wake, NULL, 0);
	if (d0 < 0 || d1 < 0 || w0 < 0 || w1 < 0)
		return die("/proc/PID/schedstat");
	char row[200];
	snprintf(row, sizeof row, "joulesd idle: CPU time per hour (from %.0f s, %d ms polling)",
		 wall, POLL_MS);
	bench_row(row, (double)(d1 - d0) / 1e9 * 3600 / wall, "s/h",
		  "bare wake-ups every 10 ms, same period", (double)(w1 - w0) / 1e9 * 3600 / wall,
		  "");
	return 0;
}

int main(int argc, char **argv)
{
	double idle_s = argc == 3 ? strtod(argv[2], NULL) : 10;
	if (argc < 2 || argc > 3 || !(idle_s > 0 && idle_s <= 3600)) {
		fputs("usage: bench_daemon PATH_TO_JOULESD [IDLE_SECONDS (0-3600, default 10)]\n",
		      stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Everything on one CPU (the daemon, the echo and TCP servers inherit
	 * it): a round trip across cores costs 2-7x one on the same core, and
	 * where the scheduler puts each server would decide the ratio.
	 */
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	if (sched_setaffinity(0, sizeof one, &one) < 0)
		perror("bench_daemon: sched_setaffinity (servers may run on other CPUs)");
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	struct fakesys *fs = fakesys_new();
	if (!fs || fakesys_layout(fs, "intel-2s") < 0)
		return die("fake tree") < 0;
	char nvml[4096], dir[4096], sock[108], echo_sock[108], load_sock[108];
	snprintf(nvml, sizeof nvml, "%s/no-nvml/libnvidia-ml.so.1", fakesys_root(fs));
	setenv("JOULES_NVML_LIBRARY", nvml, 1);
	snprintf(dir, sizeof dir, "%s/run", fakesys_root(fs));
	if (mkdir(dir, 0777) < 0 || chmod(dir, 0777) < 0)
		return die(dir) < 0;
	if (snprintf(sock, sizeof sock, "%.90s/joules.sock", dir) >= (int)sizeof sock ||
	    snprintf(echo_sock, sizeof echo_sock, "%.90s/echo.sock", dir) >= (int)sizeof echo_sock ||
	    snprintf(load_sock, sizeof load_sock, "%.90s/load.sock", dir) >= (int)sizeof load_sock) {
		fprintf(stderr, "bench_daemon: %s: too long for a socket path\n", dir);
		return 1;
	}
	setenv("JOULES_SOCKET", sock, 1);
	pid_t d = start_daemon(argv[1], fakesys_root(fs), sock);
	int dfd = d > 0 ? wait_socket(sock) : -1;
	long rss_start = d > 0 ? load_rss_kib(d) : -1;
	int rc = 1;
	if (dfd < 0)
		die("joulesd did not start");
	else
		rc = bench(fakesys_root(fs), echo_sock, dfd, &echo_len) < 0;
	if (dfd >= 0)
		close(dfd);
	if (rc == 0)
		rc = load(sock, load_sock, d, rss_start) < 0 || idle(d, idle_s) < 0;
	if (d > 0) {
		kill(d, SIGTERM);
		waitpid(d, NULL, 0);
	}
	fakesys_free(fs);
	return rc;
}
