/* SPDX-License-Identifier: MIT */
/* The load and the /proc readings of daemon_load.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_load.h"

#define REPLY_CAP 16384

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int connect_to(const char *sock)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

struct load_shared {
	const char *sock;
	const void *req;
	size_t req_len;
	load_check_fn check;
	uint64_t ns;
	pthread_barrier_t start;
};

struct load_client {
	pthread_t thread;
	struct load_shared *sh;
	uint64_t replies, errors;
};

static void *client_main(void *arg)
{
	struct load_client *c = arg;
	struct load_shared *sh = c->sh;
	unsigned char *reply = malloc(REPLY_CAP);
	int fd = connect_to(sh->sock);
	pthread_barrier_wait(&sh->start);
	if (fd < 0 || !reply) {
		c->errors++;
		goto out;
	}
	uint64_t end = now_ns() + sh->ns;
	while (now_ns() < end) {
		ssize_t n = -1;
		if (send(fd, sh->req, sh->req_len, MSG_NOSIGNAL) == (ssize_t)sh->req_len)
			n = recv(fd, reply, REPLY_CAP, 0);
		if (n > 0 && sh->check(reply, (size_t)n) == 0) {
			c->replies++;
			continue;
		}
		c->errors++;
		if (n <= 0) /* the connection is gone: the rest of the time is lost */
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(reply);
	return NULL;
}

int load_run(const char *sock, int clients, double seconds, const void *req, size_t req_len,
	     load_check_fn check, struct load_result *out)
{
	struct load_shared sh = {.sock = sock, .req = req, .req_len = req_len, .check = check,
				 .ns = (uint64_t)(seconds * 1e9)};
	struct load_client *c = calloc((size_t)clients, sizeof *c);
	if (!c || pthread_barrier_init(&sh.start, NULL, (unsigned)clients + 1) != 0) {
		free(c);
		return -1;
	}
	int started = 0;
	for (; started < clients; started++) {
		c[started].sh = &sh;
		if (pthread_create(&c[started].thread, NULL, client_main, &c[started]) != 0)
			break;
	}
	if (started < clients) {
		/* The barrier waits for every client: it cannot be passed; give up. */
		fprintf(stderr, "bench_daemon: pthread_create: %s\n", strerror(errno));
		abort();
	}
	pthread_barrier_wait(&sh.start);
	uint64_t t0 = now_ns();
	*out = (struct load_result){0};
	for (int i = 0; i < clients; i++) {
		pthread_join(c[i].thread, NULL);
		out->replies += c[i].replies;
		out->errors += c[i].errors;
	}
	out->per_s = (double)out->replies / ((double)(now_ns() - t0) / 1e9);
	pthread_barrier_destroy(&sh.start);
	free(c);
	return 0;
}

static void echo_serve(int lfd, size_t reply_len)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	char *buf = calloc(1, reply_len > 64 ? reply_len : 64);
	if (ep < 0 || !buf || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		_exit(1);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
				if (c >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
					close(c);
				continue;
			}
			ssize_t got = recv(fd, buf, 64, 0);
			if (got <= 0) {
				if (got == 0 || errno != EAGAIN)
					close(fd); /* also leaves the epoll set */
				continue;
			}
			if (send(fd, buf, reply_len, MSG_NOSIGNAL) < 0)
				close(fd);
		}
	}
}

pid_t load_echo_start(const char *sock, size_t reply_len)
{
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 512) < 0) {
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		echo_serve(lfd, reply_len);
	close(lfd);
	return pid;
}

pid_t load_wakeups_start(unsigned interval_ms)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	struct timespec at;
	clock_gettime(CLOCK_MONOTONIC, &at);
	for (;;) {
		at.tv_nsec += (long)interval_ms * 1000000L;
		while (at.tv_nsec >= 1000000000L) {
			at.tv_nsec -= 1000000000L;
			at.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
	}
}

long load_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

int64_t load_cpu_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns, ut, st;
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		int ok = fscanf(f, "%llu", &ns) == 1;
		fclose(f);
		if (ok)
			return (int64_t)ns;
	}
	/* Clock ticks: 10 ms steps at the usual 100 Hz. */
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	/* comm may hold spaces; utime and stime are fields 14 and 15, after ")". */
	char buf[1024];
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = 0;
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)(hz > 0 ? hz : 100)));
}
