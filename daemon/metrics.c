/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus endpoint: bind (as root), then libmicrohttpd's own
 * polling thread answers GET /metrics from a seqlock copy of the full page.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "joules.h"
#include "metrics.h"
#include "metrics_format.h"

/* The token file's largest size. */
#define TOKEN_MAX 4096
/* How long a scrape waits for a page the poll loop is writing. */
#define SEQLOCK_PATIENCE_NS 100000000ull

/* What the exporter remembers of one sensor. */
struct exported {
	bool based;         /* origin taken: the first good reading this run */
	uint64_t base_uj;   /* the extended counter at that reading */
	uint64_t last_uj;   /* last good value exported (since base) */
	bool have_last;
	uint64_t prev_uj;   /* public resolution: value at the previous refresh */
	bool have_prev;
};

struct metrics {
	const struct publisher *pub;
	int fd;
	char unix_path[sizeof ((struct sockaddr_un *)0)->sun_path];
	char where[512];
	char *token;
	size_t token_len;
	bool full;
	struct MHD_Daemon *mhd;
	uint64_t start_time_s;
	/* Touched by the server thread only (one thread: no lock). */
	struct exported *ex;
	struct metrics_sensor *out;
	struct jld_slot *slots;
	uint64_t *power;
	uint64_t refreshed_ns;
	bool refreshed;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Newest slot and power of every sensor, whole (seqlock); -1 if the page stays busy. */
static int copy_page(struct metrics *m)
{
	const struct jld_page_header *h = m->pub->full.page.h;
	const struct jld_page_sensor *ps = jld_page_sensors_ro(h);
	uint32_t n = m->pub->full.n;
	uint64_t deadline = mono_ns() + SEQLOCK_PATIENCE_NS;
	do {
		uint64_t seq = jld_read_begin(h);
		if (seq & 1) {
			sched_yield();
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (jld_load32(&ps[i].count) == 0) {
				m->slots[i] = (struct jld_slot){.status = JOULES_ERR_IO};
				m->power[i] = 0;
				continue;
			}
			uint32_t head = jld_load32(&ps[i].head) % JLD_RING;
			jld_slot_load(&m->slots[i], &ps[i].ring[head]);
			m->power[i] = jld_load64(&ps[i].power_uw);
		}
		if (jld_read_ok(h, seq))
			return 0;
	} while (mono_ns() < deadline);
	return -1;
}

/*
 * Bring the exported values up to date: at every scrape at full
 * resolution; at most once a second, in whole joules, at the public one.
 */
static int refresh(struct metrics *m)
{
	uint64_t now = mono_ns();
	if (!m->full && m->refreshed && now - m->refreshed_ns < PUBLIC_INTERVAL_NS)
		return 0;
	if (copy_page(m) < 0)
		return -1;
	uint64_t res = m->full ? 1 : PUBLIC_RESOLUTION_UJ;
	for (uint32_t i = 0; i < m->pub->full.n; i++) {
		struct exported *e = &m->ex[i];
		struct metrics_sensor *o = &m->out[i];
		const struct jld_slot *s = &m->slots[i];
		o->up = s->status == 0;
		if (o->up) {
			if (!e->based) {
				e->based = true;
				e->base_uj = s->energy_uj;
			}
			/* The extended counter never decreases within a run. */
			uint64_t since = s->energy_uj >= e->base_uj ? s->energy_uj - e->base_uj : 0;
			since -= since % res;
			if (!e->have_last || since > e->last_uj)
				e->last_uj = since;
			e->have_last = true;
		}
		o->have_energy = e->have_last;
		o->energy_uj = e->last_uj;
		if (m->full) {
			o->have_power = o->up;
			o->power_uw = m->power[i];
		} else {
			/* Over the last two refreshes, from whole joules: nothing finer. */
			o->have_power = o->up && e->have_prev && m->refreshed;
			if (o->have_power)
				o->power_uw = (uint64_t)((unsigned __int128)(e->last_uj - e->prev_uj) *
							 1000000000u / (now - m->refreshed_ns));
			o->power_uw -= o->power_uw % res;
			e->prev_uj = e->last_uj;
			e->have_prev = e->have_last;
		}
	}
	m->refreshed_ns = now;
	m->refreshed = true;
	return 0;
}

/* Equal, in a time that depends on the token's length only. */
static bool token_ok(const struct metrics *m, const char *auth)
{
	static const char scheme[] = "Bearer ";
	if (!auth || strncmp(auth, scheme, sizeof scheme - 1) != 0)
		return false;
	const char *given = auth + sizeof scheme - 1;
	size_t given_len = strlen(given);
	unsigned char diff = given_len != m->token_len;
	for (size_t i = 0; i < m->token_len; i++)
		diff |= (unsigned char)m->token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
	return diff == 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text,
			     char *owned, size_t owned_len, const char *content_type)
{
	struct MHD_Response *r = owned ? MHD_create_response_from_buffer(owned_len, owned,
									  MHD_RESPMEM_MUST_FREE)
				       : MHD_create_response_from_buffer(strlen(text), (void *)text,
									  MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(owned);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"joulesd\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_metrics(struct metrics *m, struct MHD_Connection *c)
{
	if (refresh(m) < 0)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			     "joulesd: the page stayed busy; scrape again\n", NULL, 0, "text/plain");
	struct metrics_info info = {.version = joules_version(),
				    .resolution_uj = m->full ? 1 : PUBLIC_RESOLUTION_UJ,
				    .start_time_s = m->start_time_s};
	size_t need = metrics_format(NULL, 0, &info, m->out, m->pub->full.n);
	char *text = malloc(need + 1);
	if (!text)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "joulesd: out of memory\n", NULL, 0,
			     "text/plain");
	metrics_format(text, need + 1, &info, m->out, m->pub->full.n);
	return reply(c, MHD_HTTP_OK, NULL, text, need, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)con_cls;
	struct metrics *m = cls;
	if (*upload_data_size) { /* a body nobody asked for: ignored, the reply is queued */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "joulesd: GET /metrics\n", NULL, 0,
			     "text/plain");
	if (m->token &&
	    !token_ok(m, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION)))
		return reply(c, MHD_HTTP_UNAUTHORIZED,
			     "joulesd: send the token of --metrics-token-file as "
			     "'Authorization: Bearer TOKEN'\n", NULL, 0, "text/plain");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(m, c);
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, "joulesd: energy counters for Prometheus at /metrics\n",
			     NULL, 0, "text/plain");
	return reply(c, MHD_HTTP_NOT_FOUND, "joulesd: not found; the metrics are at /metrics\n",
		     NULL, 0, "text/plain");
}

static int read_token(struct metrics *m, const char *path, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, err_len, "--metrics-token-file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, err_len,
			 "--metrics-token-file %s is readable by everyone, so the token protects "
			 "nothing: chmod 0640 it (owner root, group of the readers)", path);
		close(fd);
		return -1;
	}
	m->token = calloc(1, TOKEN_MAX + 1);
	ssize_t n = m->token ? read(fd, m->token, TOKEN_MAX + 1) : -1;
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "reading --metrics-token-file %s: %s", path, strerror(e));
		return -1;
	}
	while (n > 0 && (m->token[n - 1] == '\n' || m->token[n - 1] == '\r' ||
			 m->token[n - 1] == ' ' || m->token[n - 1] == '\t'))
		n--;
	m->token[n] = '\0';
	if (n == 0 || n > TOKEN_MAX || strlen(m->token) != (size_t)n) {
		snprintf(err, err_len, "--metrics-token-file %s must hold one token of 1 to %d bytes "
			 "(no NUL), e.g. from: head -c 32 /dev/urandom | base64", path, TOKEN_MAX);
		return -1;
	}
	m->token_len = (size_t)n;
	return 0;
}

static int bind_unix(struct metrics *m, const char *path, gid_t group, char *err, size_t err_len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (path[0] != '/' || strlen(path) >= sizeof a.sun_path) {
		snprintf(err, err_len, "--metrics unix:%s: need an absolute path under %zu bytes", path,
			 sizeof a.sun_path);
		return -1;
	}
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		snprintf(err, err_len, "socket(AF_UNIX) for --metrics: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		/* A stale socket is replaced; a live one belongs to another daemon. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && S_ISSOCK(st.st_mode) &&
			    connect(probe, (struct sockaddr *)&a, sizeof a) == 0;
		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || live) {
			snprintf(err, err_len, "--metrics unix:%s: %s", path,
				 live ? "another daemon serves there; stop it first"
				      : "exists and is not a socket; remove it or pick another path");
			return -1;
		}
		unlink(path);
	}
	mode_t old = umask(0117); /* born 0660: never wider than the group */
	int r = bind(m->fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (r < 0) {
		snprintf(err, err_len, "bind --metrics unix:%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(m->unix_path, sizeof m->unix_path, "%s", path);
	if (chown(path, (uid_t)-1, group) < 0 && geteuid() == 0) {
		snprintf(err, err_len, "chown of --metrics unix:%s to the group: %s", path,
			 strerror(errno));
		return -1;
	}
	snprintf(m->where, sizeof m->where, "unix:%s", path);
	return 0;
}

static int bind_tcp(struct metrics *m, const char *spec, char *err, size_t err_len)
{
	char host[256], port[16] = METRICS_DEFAULT_PORT;
	const char *colon = NULL;
	if (spec[0] == '[') { /* [IPV6]:PORT */
		const char *close_br = strchr(spec, ']');
		if (!close_br || (close_br[1] && close_br[1] != ':') ||
		    (size_t)(close_br - spec) >= sizeof host)
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)(close_br - spec - 1), spec + 1);
		colon = close_br[1] ? close_br + 1 : NULL;
	} else if (strspn(spec, "0123456789") == strlen(spec)) {
		snprintf(host, sizeof host, "127.0.0.1");
		colon = spec - 1; /* the whole spec is the port */
	} else {
		colon = strrchr(spec, ':');
		size_t hl = colon ? (size_t)(colon - spec) : strlen(spec);
		if (hl >= sizeof host || (colon && strchr(spec, ':') != colon))
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)hl, spec);
		if (!host[0])
			snprintf(host, sizeof host, "127.0.0.1");
	}
	if (colon) {
		const char *p = colon + 1;
		unsigned long v = strtoul(p, NULL, 10);
		if (!*p || strspn(p, "0123456789") != strlen(p) || v == 0 || v > 65535)
			goto bad;
		snprintf(port, sizeof port, "%lu", v);
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	int g = getaddrinfo(host, port, &hints, &ai);
	if (g != 0) {
		snprintf(err, err_len, "--metrics %s: address '%s': %s", spec, host, gai_strerror(g));
		return -1;
	}
	m->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	int r = m->fd < 0 ? -1 : setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (r == 0)
		r = bind(m->fd, ai->ai_addr, ai->ai_addrlen);
	int e = errno;
	freeaddrinfo(ai);
	if (r < 0) {
		snprintf(err, err_len, "bind --metrics %s (%s port %s): %s%s", spec, host, port,
			 strerror(e), e == EADDRINUSE ? "; another program has the port: pick "
							 "another with --metrics ADDR:PORT" : "");
		return -1;
	}
	snprintf(m->where, sizeof m->where, "http://%s%s%s:%s/metrics", strchr(host, ':') ? "[" : "",
		 host, strchr(host, ':') ? "]" : "", port);
	return 0;
bad:
	snprintf(err, err_len, "--metrics %s: expected ADDR:PORT, [IPV6]:PORT, ADDR, :PORT, PORT "
		 "or unix:/PATH", spec);
	return -1;
}

int metrics_open(struct metrics **ret, const struct metrics_config *cfg,
		 const struct publisher *pub, char *err, size_t err_len)
{
	*ret = NULL;
	struct metrics *m = calloc(1, sizeof *m);
	uint32_t n = pub->full.n ? pub->full.n : 1;
	if (m) {
		m->fd = -1;
		m->ex = calloc(n, sizeof *m->ex);
		m->out = calloc(n, sizeof *m->out);
		m->slots = calloc(n, sizeof *m->slots);
		m->power = calloc(n, sizeof *m->power);
	}
	if (!m || !m->ex || !m->out || !m->slots || !m->power) {
		snprintf(err, err_len, "out of memory");
		metrics_close(m);
		return -1;
	}
	m->pub = pub;
	m->start_time_s = (uint64_t)time(NULL);
	for (uint32_t i = 0; i < pub->full.n; i++) {
		const struct jld_sensor *s = &pub->full.meta[i];
		m->out[i] = (struct metrics_sensor){.id = s->id, .kind = joules_kind_name(s->kind),
						     .device = s->device};
	}
	bool is_unix = strncmp(cfg->listen, "unix:", 5) == 0;
	int r = is_unix ? bind_unix(m, cfg->listen + 5, cfg->group, err, err_len)
			: bind_tcp(m, cfg->listen, err, err_len);
	if (r == 0 && listen(m->fd, 64) < 0) {
		snprintf(err, err_len, "listen on --metrics %s: %s", cfg->listen, strerror(errno));
		r = -1;
	}
	if (r == 0 && cfg->token_file)
		r = read_token(m, cfg->token_file, err, err_len);
	if (r < 0) {
		metrics_close(m);
		return -1;
	}
	/* Behind the group (its socket, or its token) or opted in: full resolution. */
	m->full = cfg->full || is_unix || m->token;
	size_t l = strlen(m->where);
	snprintf(m->where + l, sizeof m->where - l, " (%s%s)",
		 m->full ? "full resolution" : "public resolution: whole joules, once a second",
		 m->token ? ", bearer token" : "");
	*ret = m;
	return 0;
}

int metrics_start(struct metrics *m, char *err, size_t err_len)
{
	/* No MHD_USE_ERROR_LOG: abusive clients must not fill the log. */
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
				  answer, m,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				  MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(err, err_len, "libmicrohttpd could not start on --metrics %s", m->where);
		return -1;
	}
	m->fd = -1; /* libmicrohttpd's now: MHD_stop_daemon closes it */
	return 0;
}

const char *metrics_describe(const struct metrics *m)
{
	return m->where;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->fd >= 0)
		close(m->fd);
	if (m->unix_path[0])
		unlink(m->unix_path); /* fails after the drop in a root-owned dir: replaced at start */
	free(m->token);
	free(m->ex);
	free(m->out);
	free(m->slots);
	free(m->power);
	free(m);
}
