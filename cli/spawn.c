/* SPDX-License-Identifier: MIT */
/* Run a command as a shell would, ticking while it runs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "text.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

/* Shared with the handlers; set only while a loop runs. */
static volatile pid_t child_pid;
static volatile sig_atomic_t stop_signal, stop_count;
static int wake_fd = -1;

void spawn_ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

uint64_t spawn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wake(void)
{
	int e = errno;
	char c = 0;
	if (write(wake_fd, &c, 1) < 0) {
		/* Full pipe: a wake-up is already pending, which is all we need. */
	}
	errno = e;
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	pid_t pid = child_pid;
	stop_signal = sig;
	stop_count++;
	wake();
	if (pid > 0 && stop_count > 1) {
		kill(pid, SIGKILL); /* asked twice: the command did not stop */
	} else if (pid > 0 && info->si_code <= 0) {
		/*
		 * Sent by a process (kill, timeout, systemd): pass it on. A signal
		 * the terminal made (si_code SI_KERNEL) reached the command
		 * already, as it shares our process group; sending it again would
		 * deliver Ctrl-C twice.
		 */
		kill(pid, sig);
	}
}

static void on_child(int sig)
{
	(void)sig;
	wake();
}

struct saved {
	struct sigaction old[N_FORWARDED + 1];
	sigset_t mask;
	int pipe[2];
};

/* Handlers in place and a wake-up pipe; the signals stay blocked until unblock(). */
static int install(struct saved *sv)
{
	if (pipe2(sv->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	wake_fd = sv->pipe[1];
	stop_signal = 0;
	stop_count = 0;
	child_pid = 0;
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &sv->mask);
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &sa, &sv->old[i]);
	struct sigaction sc = {.sa_handler = on_child, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, &sv->old[N_FORWARDED]);
	return 0;
}

static void unblock(const struct saved *sv)
{
	sigprocmask(SIG_SETMASK, &sv->mask, NULL);
}

static void uninstall(struct saved *sv)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &sv->old[i], NULL);
	sigaction(SIGCHLD, &sv->old[N_FORWARDED], NULL);
	child_pid = 0;
	wake_fd = -1;
	close(sv->pipe[0]);
	close(sv->pipe[1]);
	sigprocmask(SIG_SETMASK, &sv->mask, NULL);
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* Sleep until the next tick or a wake-up; returns true when it is time to tick. */
static bool wait_tick(int fd, uint64_t *next, uint64_t interval_ns)
{
	uint64_t now = spawn_now_ns();
	if (now < *next) {
		uint64_t left = *next - now;
		struct timespec ts = {.tv_sec = (time_t)(left / 1000000000u),
				      .tv_nsec = (long)(left % 1000000000u)};
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (ppoll(&p, 1, &ts, NULL) != 0) {
			drain(fd);
			return false;
		}
		now = spawn_now_ns();
	}
	/* Late (a slow tick, a stopped process): skip missed ticks, don't burst. */
	*next += interval_ns;
	if (*next <= now)
		*next = now + interval_ns;
	return true;
}

/*
 * The child: killed if joules dies, default signal handling (SIGPIPE too),
 * stdout moved if asked, then exec; errno goes back on `report`.
 */
static void __attribute__((noreturn)) child(char *const argv[], const struct saved *sv, int report,
					    pid_t parent, bool stdout_to_stderr)
{
	/* Set after fork: joules may already be gone, and then nobody would send it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &sv->old[i], NULL);
	sigaction(SIGCHLD, &sv->old[N_FORWARDED], NULL);
	signal(SIGPIPE, SIG_DFL);
	unblock(sv);
	if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	execvp(argv[0], argv);
	int e = errno;
	if (write(report, &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

static int exec_failure(const char *cmd, int e)
{
	char shown[512];
	text_show(cmd, shown, sizeof shown);
	if (e == ENOENT && !strchr(cmd, '/')) {
		fprintf(stderr, "joules: %s: command not found\n", shown);
		return 127;
	}
	fprintf(stderr, "joules: %s: %s\n", shown, strerror(e));
	return e == ENOENT ? 127 : 126;
}

/* Wait for the exec to happen (the report pipe closes) or fail (errno on it). */
static int exec_errno(int fd)
{
	int e;
	ssize_t r;
	do
		r = read(fd, &e, sizeof e);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof e ? e : 0;
}

static int shell_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * A signal meant to stop the command came (or joules asked for it, with
 * `sent`): once kill_after_ns have passed and it still runs, SIGKILL it.
 */
struct stopping {
	uint64_t since; /* 0: no stop asked */
	bool killed;
};

static void enforce_stop(struct stopping *st, pid_t pid, const char *cmd, uint64_t kill_after_ns)
{
	uint64_t now = spawn_now_ns();
	if (!st->since && stop_count)
		st->since = now;
	if (!st->since || st->killed || now - st->since < kill_after_ns)
		return;
	st->killed = true;
	char shown[512];
	fprintf(stderr, "joules: %s still runs %.1f s after being told to stop: killing it (SIGKILL)\n",
		text_show(cmd, shown, sizeof shown), (double)kill_after_ns / 1e9);
	kill(pid, SIGKILL);
}

/* The children of joules now (the command's orphans, once joules is their subreaper); -1 on error. */
static int kill_children(int sig, pid_t *killed, int most)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	pid_t self = getpid();
	int n = 0;
	for (struct dirent *e; n < most && (e = readdir(d));) {
		char path[64], stat[512];
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, stat, sizeof stat - 1);
		close(fd);
		stat[len > 0 ? len : 0] = '\0';
		/* "pid (comm) state ppid ...": comm may hold anything, so after the last ')'. */
		const char *end = strrchr(stat, ')');
		int ppid;
		char state;
		if (end && sscanf(end + 1, " %c %d", &state, &ppid) == 2 && ppid == self &&
		    kill(pid, sig) == 0)
			killed[n++] = pid;
	}
	closedir(d);
	return n;
}

/*
 * What the command left running when joules stopped it: its children, which
 * the kernel hands to joules (a child subreaper) as their parents die. They
 * are killed and reaped, round after round, until none is left, so that
 * `record -o - -- sh -c 'a; b' | head -1` leaves nothing running.
 */
static void end_leftovers(void)
{
	pid_t killed[256];
	for (int round = 0; round < 1000; round++) {
		int n = kill_children(SIGKILL, killed, (int)(sizeof killed / sizeof killed[0]));
		if (n <= 0)
			return;
		/* Once reaped, their own children are already joules's. */
		for (int i = 0; i < n; i++)
			while (waitpid(killed[i], NULL, 0) < 0 && errno == EINTR)
				;
	}
}

int spawn_run(char *const argv[], const struct spawn_cfg *cfg, int *started, uint64_t *wall_ns)
{
	struct saved sv;
	int report[2];
	*started = 0;
	*wall_ns = 0;
	if (pipe2(report, O_CLOEXEC) < 0 || install(&sv) < 0) {
		fprintf(stderr, "joules: cannot start %s: %s\n", argv[0], strerror(errno));
		return 126;
	}
	/* The command's orphans come to joules, to be ended with it (end_leftovers). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	uint64_t t0 = spawn_now_ns();
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		child(argv, &sv, report[1], parent, cfg->stdout_to_stderr);
	close(report[1]);
	if (pid < 0) {
		int e = errno;
		close(report[0]);
		uninstall(&sv);
		fprintf(stderr, "joules: cannot start %s: fork: %s\n", argv[0], strerror(e));
		return 126;
	}
	child_pid = pid;
	unblock(&sv);
	int e = exec_errno(report[0]);
	close(report[0]);

	int status = 0;
	uint64_t next = t0 + cfg->interval_ns;
	bool ticking = cfg->tick != NULL;
	struct stopping st = {0};
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (wait_tick(sv.pipe[0], &next, cfg->interval_ns) && ticking) {
			enum spawn_tick t = cfg->tick(cfg->arg);
			ticking = t == SPAWN_GO_ON;
			if (t == SPAWN_END_COMMAND && !st.since) {
				kill(pid, SIGTERM);
				st.since = spawn_now_ns();
			}
		}
		enforce_stop(&st, pid, argv[0], cfg->kill_after_ns);
	}
	*wall_ns = spawn_now_ns() - t0;
	if (st.since || stop_count)
		end_leftovers(); /* joules was told, or decided, to stop the command */
	uninstall(&sv);
	if (e)
		return exec_failure(argv[0], e);
	*started = 1;
	return shell_status(status);
}

int spawn_wait(uint64_t duration_ns, const struct spawn_cfg *cfg)
{
	struct saved sv;
	uint64_t interval_ns = cfg->interval_ns;
	if (install(&sv) < 0) {
		fprintf(stderr, "joules: cannot wait: %s\n", strerror(errno));
		return 1;
	}
	unblock(&sv);
	uint64_t t0 = spawn_now_ns(), next = t0 + interval_ns;
	if (duration_ns && next > t0 + duration_ns)
		next = t0 + duration_ns;
	while (!stop_signal) {
		bool due = wait_tick(sv.pipe[0], &next, interval_ns);
		uint64_t now = spawn_now_ns();
		if (duration_ns && now >= t0 + duration_ns)
			break;
		if (due && cfg->tick && cfg->tick(cfg->arg) != SPAWN_GO_ON)
			break;
		if (duration_ns && next > t0 + duration_ns)
			next = t0 + duration_ns;
	}
	int sig = stop_signal;
	uninstall(&sv);
	return sig ? 128 + sig : 0;
}
