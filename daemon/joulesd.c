/* SPDX-License-Identifier: MIT */
/*
 * joulesd: gives energy counters to the members of a group without giving
 * them root. Started as root, it opens every counter through libjoules,
 * binds its sockets, then drops to its own system user with no
 * capabilities and serves a sealed shared page (docs/protocol.md,
 * docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "privdrop.h"
#include "publish.h"
#include "server.h"

static const char usage[] =
	"Usage: joulesd [OPTIONS]\n"
	"\n"
	"Serve this machine's energy counters to the members of a group, without\n"
	"root: started as root, joulesd opens every counter, then drops to its own\n"
	"user with no capabilities.\n"
	"\n"
	"Options:\n"
	"  --socket PATH        the group's socket (default " JLD_DEFAULT_SOCKET ")\n"
	"  --group NAME         who may read: members of this group (default joules)\n"
	"  --user NAME          the user to run as after opening the counters\n"
	"                       (default joules; its own system user, never a person's)\n"
	"  --interval MS        how often the sensors are read (default 10)\n"
	"  --public             also serve everyone coarse totals (1 J, once a second)\n"
	"  --public-socket PATH the public socket (default: beside --socket, joules-public.sock)\n"
	"  --rate N             requests per second per uid before refusals (default 1000)\n"
	"  --metrics ADDR:PORT  serve Prometheus metrics over HTTP (off by default):\n"
	"                       ADDR:PORT, ADDR (port " METRICS_DEFAULT_PORT "), :PORT (127.0.0.1), or\n"
	"                       unix:/PATH (a 0660 socket of the group); at the public\n"
	"                       resolution (1 J, once a second) unless behind the group\n"
	"  --metrics-token-file PATH  require 'Authorization: Bearer' with this file's token\n"
	"                       (not readable by others); full resolution\n"
	"  --metrics-full       full resolution over TCP without a token (the admin's choice)\n"
	"  --foreground         stay in the foreground (systemd, containers, tests)\n"
	"  --verbose            log every connection\n"
	"  -h, --help           this text\n"
	"\n"
	"JOULES_SYSFS_ROOT and JOULES_NVML_LIBRARY are honoured as by libjoules.\n";

struct options {
	const char *socket, *group, *user, *public_socket;
	const char *metrics, *metrics_token;
	unsigned interval_ms, rate;
	int foreground, public_on, verbose, metrics_full;
};

static int parse(int argc, char **argv, struct options *o)
{
	enum { O_SOCKET = 256, O_GROUP, O_USER, O_INTERVAL, O_PUBLIC_SOCKET, O_RATE,
	       O_METRICS, O_METRICS_TOKEN, O_METRICS_FULL };
	static const struct option longs[] = {
		{"socket", required_argument, NULL, O_SOCKET},
		{"group", required_argument, NULL, O_GROUP},
		{"user", required_argument, NULL, O_USER},
		{"interval", required_argument, NULL, O_INTERVAL},
		{"public", no_argument, NULL, 'p'},
		{"public-socket", required_argument, NULL, O_PUBLIC_SOCKET},
		{"rate", required_argument, NULL, O_RATE},
		{"metrics", required_argument, NULL, O_METRICS},
		{"metrics-token-file", required_argument, NULL, O_METRICS_TOKEN},
		{"metrics-full", no_argument, NULL, O_METRICS_FULL},
		{"foreground", no_argument, NULL, 'f'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct options){.socket = JLD_DEFAULT_SOCKET, .group = "joules", .user = "joules",
			      .interval_ms = 10, .rate = SERVER_DEFAULT_RATE};
	int c;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_SOCKET: o->socket = optarg; break;
		case O_GROUP: o->group = optarg; break;
		case O_USER: o->user = optarg; break;
		case O_PUBLIC_SOCKET: o->public_socket = optarg; o->public_on = 1; break;
		case 'p': o->public_on = 1; break;
		case O_METRICS: o->metrics = optarg; break;
		case O_METRICS_TOKEN: o->metrics_token = optarg; break;
		case O_METRICS_FULL: o->metrics_full = 1; break;
		case 'f': o->foreground = 1; break;
		case 'v': o->verbose = 1; break;
		case O_INTERVAL:
		case O_RATE: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || v == 0 || v > 100000) {
				fprintf(stderr, "joulesd: --%s: '%s' is not a number from 1 to 100000\n",
					c == O_RATE ? "rate" : "interval", optarg);
				return 2;
			}
			*(c == O_RATE ? &o->rate : &o->interval_ms) = (unsigned)v;
			break;
		}
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "joulesd: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	if (o->socket[0] != '/') {
		fprintf(stderr, "joulesd: --socket must be an absolute path: %s\n", o->socket);
		return 2;
	}
	if ((o->metrics_token || o->metrics_full) && !o->metrics) {
		fprintf(stderr, "joulesd: --metrics-token-file and --metrics-full need --metrics\n");
		return 2;
	}
	return -1;
}

/* A root-only counter file, to check that the drop closed the door: NULL if none. */
static char *find_probe(void)
{
	const char *root = getenv("JOULES_SYSFS_ROOT");
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "%s/class/powercap/*/energy_uj",
		 root && *root ? root : "/sys");
	glob_t g;
	char *found = NULL;
	if (glob(pattern, 0, NULL, &g) != 0)
		return NULL;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st) == 0 && !(st.st_mode & 0044))
			found = strdup(g.gl_pathv[i]);
	}
	globfree(&g);
	return found;
}

/* Enough descriptors for every client the server admits, and the metrics connections. */
#define FD_WANTED (SERVER_MAX_CLIENTS + METRICS_MAX_CONNECTIONS + 64)
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_WANTED) {
		rl.rlim_cur = rl.rlim_max < FD_WANTED ? rl.rlim_max : FD_WANTED;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	}
}

/*
 * Without --foreground: fork before anything is opened (libjoules may start
 * a thread, which a fork would not carry); the parent waits until the
 * child is serving, or exits 1 when it failed (its error is on stderr).
 */
static int detach(int *ready_fd)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(pipefd[1]);
		char ok = 0;
		ssize_t n = read(pipefd[0], &ok, 1);
		_exit(n == 1 && ok == 'y' ? 0 : 1);
	}
	close(pipefd[0]);
	setsid();
	*ready_fd = pipefd[1];
	return 0;
}

static int run(const struct options *o)
{
	char err[1024];
	struct group *gr = getgrnam(o->group);
	if (!gr) {
		log_error("group '%s' does not exist: create it (groupadd --system %s, or "
			  "systemd-sysusers joulesd.conf) and add the users who may read energy "
			  "(usermod -aG %s USER), or pass --group", o->group, o->group, o->group);
		return 1;
	}
	gid_t group = gr->gr_gid;
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(o->user);
		if (!pw) {
			log_error("user '%s' does not exist: create it (useradd --system --gid %s "
				  "--no-create-home --shell /usr/sbin/nologin %s, or "
				  "systemd-sysusers joulesd.conf), or pass --user", o->user, o->group,
				  o->user);
			return 1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	char public_path[4096];
	if (o->public_on) {
		if (o->public_socket) {
			snprintf(public_path, sizeof public_path, "%s", o->public_socket);
		} else {
			snprintf(public_path, sizeof public_path, "%s", o->socket);
			char *slash = strrchr(public_path, '/');
			snprintf(slash + 1, sizeof public_path - (size_t)(slash + 1 - public_path),
				 "joules-public.sock");
		}
	}

	int ready_fd = -1;
	if (!o->foreground && detach(&ready_fd) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	/* Blocked before libjoules starts any thread, so every thread inherits it. */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	raise_fd_limit();

	struct publisher pub;
	if (publisher_open(&pub, (uint64_t)o->interval_ms * 1000000u, o->public_on, err,
			   sizeof err) < 0) {
		log_error("%s", err);
		publisher_close(&pub);
		return 1;
	}
	struct server_config cfg = {
		.socket_path = o->socket,
		.public_path = o->public_on ? public_path : NULL,
		.uid = uid,
		.group = group,
		.rate_per_s = o->rate,
		.verbose = o->verbose,
	};
	struct server *srv;
	if (server_open(&srv, &cfg, &pub, err, sizeof err) < 0) {
		log_error("%s", err);
		publisher_close(&pub);
		return 1;
	}
	struct metrics *met = NULL;
	struct metrics_config mcfg = {.listen = o->metrics, .token_file = o->metrics_token,
				      .full = o->metrics_full, .group = group};
	if (o->metrics && metrics_open(&met, &mcfg, &pub, err, sizeof err) < 0) {
		log_error("%s", err);
		server_close(srv);
		publisher_close(&pub);
		return 1;
	}
	char *probe = find_probe();
	int dropped = privdrop(uid, gid, probe, err, sizeof err);
	free(probe);
	if (dropped < 0 || (met && metrics_start(met, err, sizeof err) < 0)) {
		log_error("%s", err);
		metrics_close(met);
		server_close(srv);
		publisher_close(&pub);
		return 1;
	}
	if (met)
		log_info("metrics for Prometheus on %s", metrics_describe(met));
	log_info("serving %u sensors on %s (group %s%s%s), every %.3g ms, %s", pub.full.n,
		 o->socket, o->group, o->public_on ? "; public totals on " : "",
		 o->public_on ? public_path : "", (double)pub.interval_ns / 1e6,
		 dropped == 0 ? "running as user with no capabilities" : "not started as root: nothing to drop");
	if (ready_fd >= 0) {
		if (write(ready_fd, "y", 1) != 1)
			log_warn("telling the parent we are ready: %s", strerror(errno));
		close(ready_fd);
	}
	int r = server_run(srv, sigfd);
	metrics_close(met); /* before the page it reads goes */
	publisher_stop(&pub);
	server_close(srv);
	publisher_close(&pub);
	close(sigfd);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int r = parse(argc, argv, &o);
	if (r >= 0)
		return r;
	return run(&o);
}
