/* SPDX-License-Identifier: MIT */
/* The socket server and the poll loop. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "server.h"

#define TAG_LISTEN_FULL 0u
#define TAG_LISTEN_PUBLIC 1u
#define TAG_SIGNAL 2u
#define TAG_CLIENT 16u
#define RATE_SLOTS 256       /* uids tracked by the rate limiter */
/*
 * One request per readiness event: epoll is level-triggered, so a client
 * with more queued comes back in turn, and the usual client (one request,
 * then waiting) costs no extra recvmsg that would only say EAGAIN.
 */
#define REQUESTS_PER_WAKE 1
#define REPLY_MAX (sizeof(struct jld_header) + sizeof(struct jld_sensors_reply) + \
		   JLD_SENSORS_PER_REPLY * sizeof(struct jld_sensor))

/* The largest reply: a snapshot of every sensor, or a full sensor list page. */
_Static_assert(REPLY_MAX <= 16384 &&
		       sizeof(struct jld_header) + sizeof(struct jld_snapshot_reply) +
				       JLD_MAX_SENSORS * (sizeof(struct jld_slot) + sizeof(uint64_t)) <=
			       16384,
	       "server reply buffer");

struct client {
	int fd; /* -1: free slot */
	bool public_socket;
	bool full;     /* may read the full page */
	struct peer peer;
	uint64_t deadline_ns;
};

struct bucket {
	uid_t uid;
	bool used;
	double tokens;
	uint64_t last_ns;
	uint64_t logged_ns;
};

struct server {
	struct server_config cfg;
	struct publisher *pub;
	int epfd;
	int listen_fd[2]; /* full, public */
	char path[2][sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client clients[SERVER_MAX_CLIENTS];
	struct bucket buckets[RATE_SLOTS];
	uint64_t next_poll_ns;
	_Alignas(8) unsigned char reply[16384];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The directory of `path`: made (0755, owned by the daemon's user) if missing. */
static int prepare_dir(const struct server_config *cfg, const char *path, char *err, size_t len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		/* Ours: after the drop the daemon can still remove its socket. */
		if (chown(dir, cfg->uid, cfg->group) < 0 && geteuid() == 0) {
			snprintf(err, len, "chown %s: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, len, "cannot create %s: %s", dir, strerror(errno));
	return -1;
}

/* A socket file already at `path`: replace it if stale, refuse if live. */
static int check_existing(const char *path, char *err, size_t len)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, len, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "%s exists and is not a socket: remove it or pick another --socket",
			 path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
	int e = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, len, "another joulesd is listening on %s: stop it first "
			 "(systemctl stop joulesd) or pick another --socket", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, len, "%s: cannot tell whether a daemon listens there: %s", path,
			 strerror(e));
		return -1;
	}
	log_info("replacing stale socket %s (no daemon listens on it)", path);
	if (unlink(path) < 0) {
		snprintf(err, len, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Bind a listener with `mode` from the start, owned by the daemon user and the group. */
static int listen_on(const struct server_config *cfg, const char *path, mode_t mode, char *err,
		     size_t len)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(err, len, "socket path too long (at most %zu bytes): %s",
			 sizeof addr.sun_path - 1, path);
		return -1;
	}
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	if (prepare_dir(cfg, path, err, len) < 0 || check_existing(path, err, len) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * The umask makes bind create the file with `mode` at once; the chown
	 * that follows only widens access from root to the group.
	 */
	mode_t old = umask(~mode & 0777);
	int r = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	int e = errno;
	umask(old);
	if (r < 0) {
		snprintf(err, len, "bind %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && chown(path, cfg->uid, cfg->group) < 0) {
		snprintf(err, len, "chown %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if (listen(fd, 512) < 0) {
		snprintf(err, len, "listen %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

static int watch(struct server *s, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int server_open(struct server **ret, const struct server_config *cfg, struct publisher *pub,
		char *err, size_t err_len)
{
	*ret = NULL;
	struct server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	s->cfg = *cfg;
	s->pub = pub;
	s->listen_fd[0] = s->listen_fd[1] = -1;
	for (size_t i = 0; i < SERVER_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		snprintf(err, err_len, "epoll_create1: %s", strerror(errno));
		server_close(s);
		return -1;
	}
	const char *paths[2] = {cfg->socket_path, cfg->public_path};
	const mode_t modes[2] = {0660, 0666};
	for (int i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		s->listen_fd[i] = listen_on(cfg, paths[i], modes[i], err, err_len);
		if (s->listen_fd[i] < 0) {
			server_close(s);
			return -1;
		}
		snprintf(s->path[i], sizeof s->path[i], "%s", paths[i]);
		if (watch(s, s->listen_fd[i], i == 0 ? TAG_LISTEN_FULL : TAG_LISTEN_PUBLIC) < 0) {
			snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
			server_close(s);
			return -1;
		}
	}
	*ret = s;
	return 0;
}

static void drop_client(struct client *c)
{
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
}

static size_t clients_of(const struct server *s, uid_t uid)
{
	size_t n = 0;
	for (size_t i = 0; i < SERVER_MAX_CLIENTS; i++)
		n += s->clients[i].fd >= 0 && s->clients[i].peer.uid == uid;
	return n;
}

static void accept_all(struct server *s, int which)
{
	for (;;) {
		int fd = accept4(s->listen_fd[which], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		struct peer peer;
		int r = access_peer(fd, s->cfg.group, &peer);
		if (r < 0) {
			log_warn("peer credentials (SO_PEERCRED/SO_PEERGROUPS): %s; closing", strerror(-r));
			close(fd);
			continue;
		}
		struct client *slot = NULL;
		for (size_t i = 0; i < SERVER_MAX_CLIENTS && !slot; i++)
			if (s->clients[i].fd < 0)
				slot = &s->clients[i];
		if (!slot || clients_of(s, peer.uid) >= SERVER_MAX_PER_UID) {
			/* Closed at once: the client sees the end, not a stalled queue. */
			log_warn("connection from uid %u pid %d refused: %s", (unsigned)peer.uid,
				 (int)peer.pid, slot ? "too many connections of this uid"
						     : "too many connections");
			close(fd);
			continue;
		}
		*slot = (struct client){
			.fd = fd,
			.public_socket = which == 1,
			.full = which == 0 && access_full(&peer, s->cfg.uid),
			.peer = peer,
			.deadline_ns = now_ns() + SERVER_READ_DEADLINE_MS * 1000000ull,
		};
		if (watch(s, fd, TAG_CLIENT + (uint64_t)(slot - s->clients)) < 0) {
			log_warn("epoll_ctl: %s", strerror(errno));
			close(fd);
			slot->fd = -1;
			continue;
		}
		if (which == 0 && !slot->full)
			log_warn("uid %u gid %u pid %d is not in the group: denied", (unsigned)peer.uid,
				 (unsigned)peer.gid, (int)peer.pid);
		else if (s->cfg.verbose)
			log_info("uid %u gid %u pid %d connected (%s)", (unsigned)peer.uid,
				 (unsigned)peer.gid, (int)peer.pid, which ? "public" : "full");
	}
}

/* Take a token from uid's bucket; 0 when allowed, else ms until one is back. */
static uint32_t rate_take(struct server *s, uid_t uid, uint64_t now)
{
	double rate = s->cfg.rate_per_s, cap = rate * SERVER_BURST_S;
	struct bucket *b = NULL, *victim = NULL;
	for (size_t i = 0; i < RATE_SLOTS && !b; i++) {
		struct bucket *x = &s->buckets[i];
		if (x->used && x->uid == uid)
			b = x;
		else if (!victim || (victim->used && (!x->used || x->last_ns < victim->last_ns)))
			victim = x; /* a free slot, else the least recently used */
	}
	if (!b) {
		b = victim;
		*b = (struct bucket){.uid = uid, .used = true, .tokens = cap, .last_ns = now};
	}
	b->tokens += rate * (double)(now - b->last_ns) / 1e9;
	if (b->tokens > cap)
		b->tokens = cap;
	b->last_ns = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	if (now - b->logged_ns > 1000000000ull) {
		log_warn("uid %u exceeds %u requests/s: limited", (unsigned)uid, s->cfg.rate_per_s);
		b->logged_ns = now;
	}
	uint32_t ms = (uint32_t)((1.0 - b->tokens) * 1000.0 / rate) + 1;
	return ms;
}

/* Send a reply (and maybe an fd). A client that does not read is dropped. */
static int send_reply(struct server *s, struct client *c, size_t len, int fd)
{
	struct iovec iov = {.iov_base = s->reply, .iov_len = len};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&control, 0, sizeof control);
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof control.buf;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	if (sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
		return 0;
	if (s->cfg.verbose || errno != EPIPE)
		log_info("uid %u pid %d dropped: %s", (unsigned)c->peer.uid, (int)c->peer.pid,
			 errno == EAGAIN ? "it does not read its replies" : strerror(errno));
	drop_client(c);
	return -1;
}

static int send_error(struct server *s, struct client *c, uint32_t tag, int code, uint32_t detail)
{
	struct jld_header h;
	struct jld_error e = {.code = code, .detail = detail};
	jld_header_init(&h, JLD_ERROR, sizeof h + sizeof e, tag);
	memcpy(s->reply, &h, sizeof h);
	memcpy(s->reply + sizeof h, &e, sizeof e);
	return send_reply(s, c, sizeof h + sizeof e, -1);
}

static const struct view *view_of(const struct server *s, const struct client *c)
{
	return c->public_socket ? &s->pub->pub : &s->pub->full;
}

/* Start a reply of `body` bytes in s->reply; returns where the body goes. */
static unsigned char *reply_start(struct server *s, const struct jld_request *rq, size_t body)
{
	struct jld_header h;
	jld_header_init(&h, rq->type | JLD_REPLY, (uint32_t)(sizeof h + body), rq->tag);
	memcpy(s->reply, &h, sizeof h);
	return s->reply + sizeof h;
}

static int answer(struct server *s, struct client *c, const struct jld_request *rq)
{
	const struct view *v = view_of(s, c);
	const size_t hs = sizeof(struct jld_header);
	switch (rq->type) {
	case JLD_HELLO: {
		struct jld_hello h = {
			.version = JLD_VERSION,
			.access = c->public_socket ? JLD_ACCESS_PUBLIC : JLD_ACCESS_FULL,
			.n_sensors = v->n,
			.page_size = (uint32_t)v->page.size,
			.interval_ns = c->public_socket ? PUBLIC_INTERVAL_NS : s->pub->interval_ns,
			.generation = s->pub->generation,
			.rate_per_s = s->cfg.rate_per_s,
		};
		memcpy(reply_start(s, rq, sizeof h), &h, sizeof h);
		return send_reply(s, c, hs + sizeof h, -1);
	}
	case JLD_SENSORS: {
		if (rq->first > v->n)
			return send_error(s, c, rq->tag, JLD_E_RANGE, v->n);
		uint32_t count = v->n - rq->first;
		if (count > JLD_SENSORS_PER_REPLY)
			count = JLD_SENSORS_PER_REPLY;
		struct jld_sensors_reply r = {.total = v->n, .first = rq->first, .count = count};
		size_t body = sizeof r + count * sizeof(struct jld_sensor);
		unsigned char *p = reply_start(s, rq, body);
		memcpy(p, &r, sizeof r);
		memcpy(p + sizeof r, &v->meta[rq->first], count * sizeof(struct jld_sensor));
		return send_reply(s, c, hs + body, -1);
	}
	case JLD_PAGE: {
		struct jld_page_reply r = {.page_size = (uint32_t)v->page.size, .n_sensors = v->n,
					   .generation = s->pub->generation};
		memcpy(reply_start(s, rq, sizeof r), &r, sizeof r);
		return send_reply(s, c, hs + sizeof r, v->page.fd);
	}
	case JLD_SNAPSHOT: {
		/* The daemon is the page's only writer: it reads it without the seqlock. */
		const struct jld_page_header *ph = v->page.h;
		struct jld_snapshot_reply r = {.update_ns = ph->update_ns,
					       .generation = s->pub->generation, .n = v->n};
		size_t body = sizeof r + v->n * (sizeof(struct jld_slot) + sizeof(uint64_t));
		unsigned char *p = reply_start(s, rq, body);
		memcpy(p, &r, sizeof r);
		p += sizeof r;
		const struct jld_page_sensor *ps = jld_page_sensors_ro(ph);
		for (uint32_t i = 0; i < v->n; i++, p += sizeof(struct jld_slot))
			memcpy(p, &ps[i].ring[ps[i].head], sizeof(struct jld_slot));
		for (uint32_t i = 0; i < v->n; i++, p += sizeof(uint64_t))
			memcpy(p, &ps[i].power_uw, sizeof(uint64_t));
		return send_reply(s, c, hs + body, -1);
	}
	default:
		return send_error(s, c, rq->tag, JLD_E_UNKNOWN, 0);
	}
}

static void serve(struct server *s, struct client *c)
{
	for (int k = 0; k < REQUESTS_PER_WAKE; k++) {
		unsigned char buf[JLD_MAX_REQUEST];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* 0: the end of the connection (or an empty message, which means nothing). */
		if (n <= 0) {
			drop_client(c);
			return;
		}
		uint64_t now = now_ns();
		c->deadline_ns = now + SERVER_READ_DEADLINE_MS * 1000000ull;
		struct jld_request rq;
		int err = jld_parse_request(buf, (size_t)n, (msg.msg_flags & MSG_TRUNC) != 0, &rq);
		if (!c->public_socket && !c->full) {
			if (send_error(s, c, rq.tag, JLD_E_DENIED, 0) == 0)
				drop_client(c);
			return;
		}
		if (err) {
			/* Answered, then closed: a peer that speaks garbage gets no second turn. */
			if (send_error(s, c, rq.tag, err, err == JLD_E_VERSION ? JLD_VERSION : 0) == 0)
				drop_client(c);
			return;
		}
		uint32_t wait_ms = rate_take(s, c->peer.uid, now);
		if (wait_ms) {
			if (send_error(s, c, rq.tag, JLD_E_RATE, wait_ms) < 0)
				return;
			continue;
		}
		if (answer(s, c, &rq) < 0)
			return;
	}
}

static void expire(struct server *s, uint64_t now)
{
	for (size_t i = 0; i < SERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];
		if (c->fd >= 0 && now > c->deadline_ns) {
			if (s->cfg.verbose)
				log_info("uid %u pid %d: no request within %d ms, closed",
					 (unsigned)c->peer.uid, (int)c->peer.pid, SERVER_READ_DEADLINE_MS);
			drop_client(c);
		}
	}
}

int server_run(struct server *s, int signal_fd)
{
	if (watch(s, signal_fd, TAG_SIGNAL) < 0) {
		log_error("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	uint64_t now = now_ns();
	publisher_poll(s->pub, now);
	s->next_poll_ns = now + s->pub->interval_ns;
	uint64_t next_expire = now + 100000000ull;
	for (;;) {
		now = now_ns();
		int timeout = 0;
		if (s->next_poll_ns > now)
			timeout = (int)((s->next_poll_ns - now + 999999) / 1000000);
		struct epoll_event evs[64];
		int n = epoll_wait(s->epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;
				if (read(signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
					log_info("signal %u: exiting", si.ssi_signo);
				return 0;
			}
			if (tag == TAG_LISTEN_FULL || tag == TAG_LISTEN_PUBLIC) {
				accept_all(s, (int)tag);
				continue;
			}
			struct client *c = &s->clients[tag - TAG_CLIENT];
			if (c->fd >= 0)
				serve(s, c);
		}
		now = now_ns();
		if (now >= s->next_poll_ns) {
			publisher_poll(s->pub, now);
			/* On schedule, but never a burst of catch-up polls after a stall. */
			s->next_poll_ns += s->pub->interval_ns;
			if (s->next_poll_ns <= now)
				s->next_poll_ns = now + s->pub->interval_ns;
		}
		if (now >= next_expire) {
			expire(s, now);
			next_expire = now + 100000000ull;
		}
	}
}

void server_close(struct server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SERVER_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			drop_client(&s->clients[i]);
	for (int i = 0; i < 2; i++) {
		if (s->listen_fd[i] < 0)
			continue;
		close(s->listen_fd[i]);
		if (unlink(s->path[i]) < 0)
			log_warn("cannot remove %s: %s (its directory is not the daemon user's; "
				 "the next start replaces it)", s->path[i], strerror(errno));
	}
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}
