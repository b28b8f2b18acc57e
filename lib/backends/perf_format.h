/* SPDX-License-Identifier: MIT */
/*
 * Parsers for the text a perf PMU's sysfs directory holds (cpumask,
 * event terms, format bit ranges, .scale). Pure: no I/O, so each is tested
 * on its own; the perf backend names the file in its messages.
 */
#ifndef JOULES_PERF_FORMAT_H
#define JOULES_PERF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A kernel cpulist ("0", "0,28", "0-3,8-11") into cpus[0..*n-1].
 * Returns 0, or JOULES_ERR_PARSE when malformed, empty, or longer than max.
 */
int jl_perf_cpulist(const char *text, unsigned *cpus, size_t max, size_t *n);

/*
 * The next term of an event description ("event=0x02,umask=0x1"): its name
 * and value (a term without "=" is a flag, value 1). *cursor moves past it.
 * Returns 1 for a term, 0 at the end, JOULES_ERR_PARSE when malformed.
 */
int jl_perf_term(const char **cursor, char *name, size_t name_len, uint64_t *value);

/*
 * Deposit `value` into *config at the bits a format file names
 * ("config:0-7", "config:0-7,32-35", "config:8"), low bits first.
 * Returns 0, JOULES_ERR_PARSE when the format is malformed or the value
 * does not fit its bits, JOULES_ERR_UNSUPPORTED for a field other than
 * config (config1, config2: not needed by any energy event).
 */
int jl_perf_format_apply(const char *format, uint64_t value, uint64_t *config);

/*
 * A .scale (decimal joules per count) as an exact µJ-per-count fraction
 * num/den in lowest terms. A scale whose nearest double is a power of two
 * is that power of two: the kernel prints 2^-32 J as
 * "2.3283064365386963e-10", which becomes 15625/67108864 µJ. Any other
 * decimal is taken digit for digit (up to 19 significant digits).
 * Returns 0, or JOULES_ERR_PARSE (not a positive decimal, or too small or
 * too large for 64-bit terms).
 */
int jl_perf_scale_uj(const char *text, uint64_t *num, uint64_t *den);

#endif
