/* SPDX-License-Identifier: MIT */
/* Talking to joulesd once: hello, sensor list, page. Never used on the read path
 * except to reconnect after the daemon went away. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"

#define REPLY_TIMEOUT_MS 250 /* a daemon that does not answer within this is hung */

/* The group owning the socket: who may connect. */
static void socket_group(const char *path, char *out, size_t len)
{
	struct stat st;
	struct group *g;
	if (stat(path, &st) == 0 && (g = getgrgid(st.st_gid)) != NULL)
		snprintf(out, len, "%s", g->gr_name);
	else
		snprintf(out, len, "joules");
}

static int denied(const char *path, const char *what, char *why, size_t len)
{
	char group[64];
	socket_group(path, group, sizeof group);
	snprintf(why, len,
		 "%s: %s; join the group '%s' (as root: usermod -aG %s $USER, then log in again)",
		 path, what, group, group);
	return JL_DAEMON_DENIED;
}

/* One request, one reply (with an fd for JLD_PAGE). */
static int ask(int fd, uint16_t type, const void *body, size_t body_len, void *reply,
	       size_t reply_len, size_t *got, int *passed_fd)
{
	unsigned char req[JLD_MAX_REQUEST];
	struct jld_header h;
	uint32_t tag = type * 7919u;
	jld_header_init(&h, type, (uint32_t)(sizeof h + body_len), tag);
	memcpy(req, &h, sizeof h);
	if (body_len)
		memcpy(req + sizeof h, body, body_len);
	if (send(fd, req, sizeof h + body_len, MSG_NOSIGNAL) != (ssize_t)(sizeof h + body_len))
		return -errno;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = reply, .iov_len = reply_len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof control.buf};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int pfd;
			memcpy(&pfd, CMSG_DATA(cm), sizeof pfd);
			if (passed_fd && *passed_fd < 0)
				*passed_fd = pfd;
			else
				close(pfd);
		}
	if (n == 0 || (msg.msg_flags & MSG_TRUNC))
		return -EPROTO;
	*got = (size_t)n;
	return (int)tag;
}

static int broken(char *why, size_t len, const char *path, const char *what)
{
	snprintf(why, len, "%s: joulesd answered %s: restart it (systemctl restart joulesd), "
		 "or update joules so both ends speak protocol %u", path, what, JLD_VERSION);
	return JL_DAEMON_BROKEN;
}

/* Send `type`, check the reply; returns OK, or a failure with `why`. */
static int request(int fd, const char *path, uint16_t type, const void *body, size_t body_len,
		   void *reply, size_t reply_len, size_t min_len, size_t *got, int *passed_fd,
		   char *why, size_t len)
{
	int tag = ask(fd, type, body, body_len, reply, reply_len, got, passed_fd);
	if (tag == -EAGAIN || tag == -EWOULDBLOCK) {
		snprintf(why, len, "%s: joulesd did not answer within %d ms: check it "
			 "(systemctl status joulesd)", path, REPLY_TIMEOUT_MS);
		return JL_DAEMON_BROKEN;
	}
	if (tag < 0) {
		snprintf(why, len, "%s: talking to joulesd failed: %s", path, strerror(-tag));
		return JL_DAEMON_BROKEN;
	}
	uint32_t detail = 0;
	int r = jld_check_reply(reply, *got, type, (uint32_t)tag, min_len, &detail);
	if (r == JLD_E_DENIED)
		return denied(path, "joulesd refuses this user", why, len);
	if (r == JLD_E_VERSION) {
		snprintf(why, len, "%s: joulesd speaks protocol %u, this library %u: update "
			 "joules or joulesd so they match", path, detail, JLD_VERSION);
		return JL_DAEMON_BROKEN;
	}
	if (r > 0) {
		char what[128];
		snprintf(what, sizeof what, "error %d (%s)", r, jld_errcode_name(r));
		return broken(why, len, path, what);
	}
	if (r < 0)
		return broken(why, len, path, "something that is not its reply");
	return JL_DAEMON_OK;
}

static int fetch_sensors(int fd, const char *path, struct jl_daemon_conn *c, char *why,
			 size_t len)
{
	c->meta = calloc(c->n ? c->n : 1, sizeof *c->meta);
	if (!c->meta) {
		snprintf(why, len, "out of memory");
		return JL_DAEMON_BROKEN;
	}
	const size_t hs = sizeof(struct jld_header) + sizeof(struct jld_sensors_reply);
	size_t bufsize = hs + JLD_SENSORS_PER_REPLY * sizeof(struct jld_sensor);
	unsigned char *buf = malloc(bufsize);
	if (!buf) {
		snprintf(why, len, "out of memory");
		return JL_DAEMON_BROKEN;
	}
	int r = JL_DAEMON_OK;
	for (uint32_t first = 0; first < c->n && r == JL_DAEMON_OK;) {
		struct jld_sensors_req req = {.first = first};
		size_t got;
		r = request(fd, path, JLD_SENSORS, &req, sizeof req, buf, bufsize, hs, &got, NULL,
			    why, len);
		if (r)
			break;
		struct jld_sensors_reply rep;
		memcpy(&rep, buf + sizeof(struct jld_header), sizeof rep);
		if (rep.total != c->n || rep.first != first || rep.count == 0 ||
		    rep.count > c->n - first || got != hs + rep.count * sizeof(struct jld_sensor)) {
			r = broken(why, len, path, "a sensor list that does not add up");
			break;
		}
		memcpy(&c->meta[first], buf + hs, rep.count * sizeof(struct jld_sensor));
		first += rep.count;
	}
	free(buf);
	return r;
}

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif
#define PAGE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)

static int map_page(int pfd, const char *path, struct jl_daemon_conn *c, char *why, size_t len)
{
	/* Sealed against shrinking, or a reader could fault (SIGBUS) on a cut page. */
	int seals = fcntl(pfd, F_GET_SEALS);
	if (seals < 0 || (seals & PAGE_SEALS) != PAGE_SEALS)
		return broken(why, len, path, "a page that is not sealed");
	struct stat st;
	if (fstat(pfd, &st) < 0 || (size_t)st.st_size != c->page_size ||
	    c->page_size < jld_page_size(c->n))
		return broken(why, len, path, "a page of the wrong size");
	void *m = mmap(NULL, c->page_size, PROT_READ, MAP_SHARED, pfd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, len, "%s: mmap of joulesd's page failed: %s", path, strerror(errno));
		return JL_DAEMON_BROKEN;
	}
	const struct jld_page_header *h = m;
	if (h->magic != JLD_PAGE_MAGIC || h->version != JLD_PAGE_VERSION || h->n_sensors != c->n ||
	    h->generation != c->generation) {
		munmap(m, c->page_size);
		return broken(why, len, path, "a page this library cannot read");
	}
	c->page = h;
	return JL_DAEMON_OK;
}

static int talk(int fd, const char *path, struct jl_daemon_conn *c, char *why, size_t len)
{
	unsigned char buf[256];
	size_t got;
	const size_t hs = sizeof(struct jld_header);
	int r = request(fd, path, JLD_HELLO, NULL, 0, buf, sizeof buf, hs + sizeof(struct jld_hello),
			&got, NULL, why, len);
	if (r)
		return r;
	struct jld_hello hello;
	memcpy(&hello, buf + hs, sizeof hello);
	if (hello.access != JLD_ACCESS_FULL || hello.n_sensors > JLD_MAX_SENSORS)
		return broken(why, len, path, "a hello this library cannot use");
	c->n = hello.n_sensors;
	c->generation = hello.generation;
	c->interval_ns = hello.interval_ns;
	c->page_size = hello.page_size;
	r = fetch_sensors(fd, path, c, why, len);
	if (r)
		return r;
	int pfd = -1;
	r = request(fd, path, JLD_PAGE, NULL, 0, buf, sizeof buf, hs + sizeof(struct jld_page_reply),
		    &got, &pfd, why, len);
	if (r == JL_DAEMON_OK && pfd < 0)
		r = broken(why, len, path, "a page reply without the page");
	if (r == JL_DAEMON_OK)
		r = map_page(pfd, path, c, why, len);
	if (pfd >= 0)
		close(pfd);
	return r;
}

int jl_daemon_connect(const char *path, struct jl_daemon_conn *c, char *why, size_t why_len)
{
	memset(c, 0, sizeof *c);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(why, why_len, "%s: socket path too long", path);
		return JL_DAEMON_BROKEN;
	}
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket(AF_UNIX): %s", strerror(errno));
		return JL_DAEMON_BROKEN;
	}
	int r;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			r = denied(path, "permission denied", why, why_len);
		else if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			r = (snprintf(why, why_len,
				      "joulesd is not running (%s: %s): start it as root "
				      "(systemctl enable --now joulesd)",
				      path, strerror(e)),
			     JL_DAEMON_ABSENT);
		else
			r = (snprintf(why, why_len, "%s: connect: %s", path, strerror(e)),
			     JL_DAEMON_BROKEN);
		close(fd);
		return r;
	}
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_MS / 1000,
			     .tv_usec = (REPLY_TIMEOUT_MS % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	r = talk(fd, path, c, why, why_len);
	close(fd);
	if (r)
		jl_daemon_disconnect(c);
	return r;
}

void jl_daemon_disconnect(struct jl_daemon_conn *c)
{
	if (c->page)
		munmap((void *)c->page, c->page_size);
	free(c->meta);
	memset(c, 0, sizeof *c);
}
