/* SPDX-License-Identifier: MIT */
/*
 * Allocations made by this process, counted by a malloc interposer in the
 * benchmark's own executable (it wins symbol lookup over libc for every
 * library, libjoules included). Under AddressSanitizer, whose allocator
 * must see every call, nothing is counted and alloc_counting() is false.
 */
#ifndef JOULES_BENCH_ALLOC_COUNT_H
#define JOULES_BENCH_ALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

bool alloc_counting(void);
/* malloc, calloc, realloc and aligned allocations so far. */
uint64_t alloc_count(void);

#endif
