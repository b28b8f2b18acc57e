/* SPDX-License-Identifier: MIT */
/*
 * sysfs access under the context's root (JOULES_SYSFS_ROOT or /sys).
 *
 * One error space per return value: every function here returns 0 (or a
 * length, or an fd) or a negative enum joules_error, never an errno. When a
 * system call failed, *errnum receives its errno (0 otherwise), because
 * the callers tell a transient refusal (EBUSY, EAGAIN, ENODATA) from a
 * device that is gone (ENODEV) and name the errno in their messages, which
 * also name the file and the fix that only the caller knows. An errnum
 * out-parameter rather than a message keeps the read path free of
 * formatting; jl_sysfs_why() turns the pair into the words of a message.
 * errnum may be NULL.
 *
 * Sysfs attributes are regular files that the kernel fills in one read, a
 * page at most. What is not a regular file (a FIFO, a directory, a device
 * node in a recorded or hostile tree) is refused before it is read, so
 * that nothing here blocks; every read is bounded by the caller's buffer,
 * and a value that fills the buffer is refused rather than cut.
 */
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
 * Open an attribute for reading (non-blocking, close-on-exec) and check
 * that it is a regular file. Returns the fd, or a negative enum
 * joules_error: from open's errno (*errnum set), or JOULES_ERR_UNSUPPORTED
 * with *errnum 0 when the path is not a regular file.
 */
int jl_sysfs_open(const char *path, int *errnum);

/*
 * Read a small text attribute whole into buf (NUL-terminated, trailing
 * whitespace removed). Returns the length, or a negative enum
 * joules_error: an open or read failure (*errnum set), not a regular file
 * (JOULES_ERR_UNSUPPORTED), or JOULES_ERR_PARSE when it holds a NUL byte
 * or fills buf: a longer text is not a value (*errnum EOVERFLOW then; buf
 * holds the text cut to fit, for a caller that takes a name cut).
 */
int jl_read_text(const char *path, char *buf, size_t len, int *errnum);

/*
 * Parse a decimal unsigned counter as sysfs prints it ("%llu\n"): one or
 * more digits, then nothing but whitespace. Leading whitespace, a sign,
 * hex, trailing garbage ("123abc", "12 3") and values above 2^64-1 are
 * refused. Returns 0, or JOULES_ERR_PARSE.
 */
int jl_parse_u64(const char *s, uint64_t *out);

/*
 * The read path: pread an open counter file from offset 0 and parse it.
 * Does not allocate. text (text_len > 22 bytes, so that every valid value
 * and its newline fit with room to spare) receives what was read, made
 * printable, for messages. Returns 0, the enum joules_error of pread's
 * errno (*errnum set), or JOULES_ERR_PARSE (*errnum 0, or EOVERFLOW when
 * the value filled the buffer).
 */
int jl_pread_u64(int fd, uint64_t *out, char *text, size_t text_len, int *errnum);

/*
 * The reason in words for a failure of the functions above: strerror of
 * errnum when a call failed, "not a regular file", "longer than any value
 * it may hold" or "not a number". Never NULL.
 */
const char *jl_sysfs_why(int err, int errnum);

/*
 * A CPU's topology attribute under the context's root:
 * devices/system/cpu/cpuN/topology/ATTR ("physical_package_id", "die_id").
 * -1 when absent or not a number (the kernel has no such CPU, or no dies).
 */
int32_t jl_cpu_topology(const joules_ctx *ctx, unsigned long cpu, const char *attr);

#endif
