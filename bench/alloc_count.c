/* SPDX-License-Identifier: MIT */
/*
 * The interposer of alloc_count.h: each allocation function counts, then
 * calls glibc's own (__libc_*, exported for exactly this). free is left to
 * libc. Relaxed atomics: the count may be read while a thread allocates.
 * EXPORTED: the project builds with -fvisibility=hidden, and a hidden
 * definition would not reach libjoules.so's calls.
 */
#include <stddef.h>
#include <stdint.h>

#include "alloc_count.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSER 1
#endif
#endif

#ifdef NO_INTERPOSER
bool alloc_counting(void)
{
	return false;
}

uint64_t alloc_count(void)
{
	return 0;
}
#else
#include <errno.h>

#define EXPORTED __attribute__((visibility("default")))

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

static uint64_t count;

static void counted(void)
{
	__atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
}

bool alloc_counting(void)
{
	return true;
}

uint64_t alloc_count(void)
{
	return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

EXPORTED void *malloc(size_t size)
{
	counted();
	return __libc_malloc(size);
}

EXPORTED void *calloc(size_t n, size_t size)
{
	counted();
	return __libc_calloc(n, size);
}

EXPORTED void *realloc(void *p, size_t size)
{
	counted();
	return __libc_realloc(p, size);
}

EXPORTED void *aligned_alloc(size_t align, size_t size)
{
	counted();
	return __libc_memalign(align, size);
}

EXPORTED int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	counted();
	void *p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
#endif
