/* SPDX-License-Identifier: MIT */
#include "sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

static size_t rstrip(char *buf, size_t n)
{
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return n;
}

int jl_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
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
	if (*p != '\0' && *p != '\n')
		return JOULES_ERR_PARSE;
	*out = v;
	return 0;
}

int jl_pread_u64(int fd, uint64_t *out, char *text, size_t text_len)
{
	ssize_t n = pread(fd, text, text_len - 1, 0);
	if (n < 0) {
		text[0] = '\0';
		return -errno;
	}
	text[n] = '\0';
	int r = jl_parse_u64(text, out);
	n = (ssize_t)rstrip(text, (size_t)n);
	/* On failure the text goes into a message: no NULs or escape codes. */
	for (ssize_t i = 0; r && i < n; i++)
		if (!isprint((unsigned char)text[i]))
			text[i] = '?';
	return r;
}
