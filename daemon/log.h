/* SPDX-License-Identifier: MIT */
/* joulesd's messages: one line each on stderr (the journal under systemd). */
#ifndef JOULESD_LOG_H
#define JOULESD_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
