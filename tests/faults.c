/* SPDX-License-Identifier: MIT */
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define RULES 8

struct rule {
	bool armed;
	enum fault_call call;
	char suffix[128];
	unsigned after, times, failed;
	int errnum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[RULES];
static unsigned fired;
static bool any_armed;

void fault_arm(enum fault_call call, const char *suffix, unsigned after, int errnum,
	       unsigned times)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < RULES; i++) {
		if (rules[i].armed)
			continue;
		rules[i] = (struct rule){.armed = true, .call = call, .after = after,
					 .errnum = errnum, .times = times};
		snprintf(rules[i].suffix, sizeof rules[i].suffix, "%s", suffix);
		any_armed = true;
		break;
	}
	pthread_mutex_unlock(&lock);
}

void fault_clear(void)
{
	pthread_mutex_lock(&lock);
	memset(rules, 0, sizeof rules);
	fired = 0;
	any_armed = false;
	pthread_mutex_unlock(&lock);
}

unsigned fault_fired(void)
{
	pthread_mutex_lock(&lock);
	unsigned n = fired;
	pthread_mutex_unlock(&lock);
	return n;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The errno to fail this call with, or 0 to let it through. */
static int check(enum fault_call call, const char *path)
{
	int e = 0;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < RULES && !e; i++) {
		struct rule *r = &rules[i];
		if (!r->armed || r->call != call || !ends_with(path, r->suffix))
			continue;
		if (r->after > 0) {
			r->after--;
			continue;
		}
		if (r->times != FAULT_ALWAYS && r->failed == r->times)
			continue;
		r->failed++;
		fired++;
		e = r->errnum;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

static int check_fd(int fd)
{
	/* Nothing armed: no readlink per call. */
	pthread_mutex_lock(&lock);
	bool armed = any_armed;
	pthread_mutex_unlock(&lock);
	if (!armed)
		return 0;
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return check(FAULT_READ, path);
}

static int check_open(const char *path, int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY ? check(FAULT_OPEN, path) : 0;
}

/* The real calls, which the linker's --wrap names __real_*. */
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);

int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

/* open() and open64() alike: the injected failure, or the real call. */
#define WRAP_OPEN(name)                                     \
	int __wrap_##name(const char *path, int flags, ...) \
	{                                                   \
		va_list ap;                                 \
		va_start(ap, flags);                        \
		mode_t mode = mode_arg(flags, ap);          \
		va_end(ap);                                 \
		int e = check_open(path, flags);            \
		if (e) {                                    \
			errno = e;                          \
			return -1;                          \
		}                                           \
		return __real_##name(path, flags, mode);    \
	}
WRAP_OPEN(open)
WRAP_OPEN(open64)

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	int e = check_fd(fd);
	if (e) {
		errno = e;
		return -1;
	}
	return __real_read(fd, buf, n);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	int e = check_fd(fd);
	if (e) {
		errno = e;
		return -1;
	}
	return __real_pread(fd, buf, n, off);
}

ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
	int e = check_fd(fd);
	if (e) {
		errno = e;
		return -1;
	}
	return __real_pread64(fd, buf, n, off);
}
