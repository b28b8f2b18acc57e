/* SPDX-License-Identifier: MIT */
/* What several benchmarks measure the same way. */
#ifndef JOULES_BENCH_MEASURE_H
#define JOULES_BENCH_MEASURE_H
#include <stddef.h>
#include <stdint.h>
/* This process's CPU time so far (user + system), ns. */
uint64_t bench_cpu_ns(void);
/* The median of v[0..n) (n > 0); sorts v. */
double bench_median(double *v, size_t n);
#endif
