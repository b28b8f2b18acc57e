/* SPDX-License-Identifier: MIT */
/* sysfs access under the context's root (JOULES_SYSFS_ROOT or /sys). */
#ifndef JOULES_SYSFS_H
#define JOULES_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/*
 * buf = "<root>/<rel>", rel formatted like printf. Returns 0, or
 * JOULES_ERR_INVALID when the path does not fit.
 */
int jl_sysfs_path(const joules_ctx *ctx, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Read a small text file whole into buf (NUL-terminated, trailing
 * whitespace removed). Returns the length, or -errno.
 */
int jl_read_text(const char *path, char *buf, size_t len);

/*
 * Parse a decimal unsigned counter as sysfs prints it: digits, then a
 * newline or the end. Returns 0, or JOULES_ERR_PARSE.
 */
int jl_parse_u64(const char *s, uint64_t *out);

/*
 * The read path: pread an open counter file from offset 0 and parse it.
 * Does not allocate. Returns 0, -errno from pread, or JOULES_ERR_PARSE;
 * `text` receives what was read (for messages).
 */
int jl_pread_u64(int fd, uint64_t *out, char *text, size_t text_len);

#endif
