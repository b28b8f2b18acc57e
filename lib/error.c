/* SPDX-License-Identifier: MIT */
/* Error codes, their texts, and the messages the library keeps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

JOULES_API const char *joules_strerror(int err)
{
	switch (err) {
	case JOULES_OK: return "success";
	case JOULES_ERR_INVALID: return "invalid argument";
	case JOULES_ERR_NOMEM: return "out of memory";
	case JOULES_ERR_IO: return "read failed";
	case JOULES_ERR_PERMISSION: return "permission denied";
	case JOULES_ERR_PARSE: return "not a number";
	case JOULES_ERR_UNSUPPORTED: return "not supported";
	case JOULES_ERR_LOST: return "device lost";
	case JOULES_ERR_RESET: return "counter reset";
	case JOULES_ERR_NOT_COUNTING: return "counter not counting";
	case JOULES_ERR_NO_SENSOR: return "no such sensor";
	case JOULES_ERR_FORKED: return "context belongs to the parent process (fork)";
	}
	return "unknown error";
}

int jl_errno_to_error(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM: return JOULES_ERR_PERMISSION;
	case ENOMEM: return JOULES_ERR_NOMEM;
	case ENOENT:
	case ENODEV:
	case ENXIO: return JOULES_ERR_LOST;
	case EOPNOTSUPP: return JOULES_ERR_UNSUPPORTED;
	}
	return JOULES_ERR_IO;
}

int jl_fail(joules_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
	va_end(ap);
	return err;
}

void jl_note(joules_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->sources[ctx->enumerating].note, JL_MSG_LEN, fmt, ap);
	va_end(ap);
}

int jl_sensor_fail(struct jl_sensor *s, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	return err;
}

void jl_sensor_unreadable(struct jl_sensor *s, int err, const char *fmt, ...)
{
	s->unreadable = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->pub.reason, sizeof s->pub.reason, fmt, ap);
	va_end(ap);
	snprintf(s->error, sizeof s->error, "%s", s->pub.reason);
	s->pub.flags &= ~JOULES_SENSOR_READABLE;
}

void jl_sensor_fix(struct jl_sensor *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fix, sizeof s->fix, fmt, ap);
	va_end(ap);
}

JOULES_API const char *joules_last_error(const joules_ctx *ctx)
{
	return ctx ? ctx->last_error : "no context";
}
