/* SPDX-License-Identifier: MIT */
#include "sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jl_sysfs_path(const joules_ctx *ctx, char *buf, size_t len, const char *fmt, ...)
{
	int n = snprintf(buf, len, "%s/", ctx->sysfs_root);
	if (n < 0 || (size_t)n >= len)
		return JOULES_ERR_INVALID;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return JOULES_ERR_INVALID;
	return 0;
}

static int set_errnum(int *errnum, int e)
{
	if (errnum)
		*errnum = e;
	return e;
}

/* An errno into the one error space of the return value. */
static int io_error(int *errnum, int e)
{
	set_errnum(errnum, e);
	return jl_errno_to_error(e);
}

int jl_sysfs_open(const char *path, int *errnum)
{
	set_errnum(errnum, 0);
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return io_error(errnum, errno);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return io_error(errnum, e);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return JOULES_ERR_UNSUPPORTED;
	}
	return fd;
}

static size_t rstrip(char *buf, size_t n)
{
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return n;
}

int jl_read_text(const char *path, char *buf, size_t len, int *errnum)
{
	buf[0] = '\0';
	int fd = jl_sysfs_open(path, errnum);
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return io_error(errnum, e);
	buf[n] = '\0';
	if ((size_t)n == len - 1) {
		/* Not a value: but buf keeps the cut text, for a name cut to fit. */
		set_errnum(errnum, EOVERFLOW);
		return JOULES_ERR_PARSE;
	}
	if (memchr(buf, '\0', (size_t)n)) {
		buf[0] = '\0';
		return JOULES_ERR_PARSE;
	}
	return (int)rstrip(buf, (size_t)n);
}

int jl_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return JOULES_ERR_PARSE;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return JOULES_ERR_PARSE;
		v = v * 10 + d;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		return JOULES_ERR_PARSE;
	*out = v;
	return 0;
}

int jl_pread_u64(int fd, uint64_t *out, char *text, size_t text_len, int *errnum)
{
	set_errnum(errnum, 0);
	ssize_t n = pread(fd, text, text_len - 1, 0);
	if (n < 0) {
		text[0] = '\0';
		return io_error(errnum, errno);
	}
	text[n] = '\0';
	int r = JOULES_ERR_PARSE;
	if ((size_t)n == text_len - 1)
		set_errnum(errnum, EOVERFLOW); /* more may follow: never a prefix */
	else if (!memchr(text, '\0', (size_t)n))
		r = jl_parse_u64(text, out);
	n = (ssize_t)rstrip(text, (size_t)n);
	/* On failure the text goes into a message: no NULs or escape codes. */
	for (ssize_t i = 0; r && i < n; i++)
		if (!isprint((unsigned char)text[i]))
			text[i] = '?';
	return r;
}

const char *jl_sysfs_why(int err, int errnum)
{
	if (err == JOULES_ERR_PARSE && errnum == EOVERFLOW)
		return "longer than any value it may hold";
	if (errnum)
		return strerror(errnum);
	if (err == JOULES_ERR_UNSUPPORTED)
		return "not a regular file, as sysfs attributes are";
	if (err == JOULES_ERR_PARSE)
		return "not a number";
	return joules_strerror(err);
}

int32_t jl_cpu_topology(const joules_ctx *ctx, unsigned long cpu, const char *attr)
{
	char path[JL_PATH_MAX], text[32];
	uint64_t v;
	if (jl_sysfs_path(ctx, path, sizeof path, "devices/system/cpu/cpu%lu/topology/%s", cpu,
			  attr) ||
	    jl_read_text(path, text, sizeof text, NULL) <= 0 || jl_parse_u64(text, &v) ||
	    v > INT32_MAX)
		return -1;
	return (int32_t)v;
}
