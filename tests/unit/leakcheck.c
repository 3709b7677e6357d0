/* SPDX-License-Identifier: MIT */
/* leakcheck.c: heap leak detection for the unit runners: a counting malloc, or LeakSanitizer in the sanitizer build. */
#include <errno.h>
#include <stdlib.h>

#include "leakcheck.h"

#if defined(__SANITIZE_ADDRESS__)
#define LEAKCHECK_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEAKCHECK_LSAN 1
#endif
#endif

#ifdef LEAKCHECK_LSAN

#include <sanitizer/lsan_interface.h>

/* ASan owns malloc here: interposing it as below would hand ASan blocks it
 * never saw. LeakSanitizer finds unreachable blocks instead, per test. */

/* Read by the sanitizer runtime before ASAN_OPTIONS: leak detection on, even
 * when the runner is started by hand (tests also set it in the environment). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=1";
}

long leakcheck_live(void)
{
	return -1;
}

/* LeakSanitizer reports a leak again at every later check: after the first
 * one, the run has failed already and its exit-time report lists them all. */
static int reported;

int leakcheck_unreachable(void)
{
	if (reported)
		return 0;
	reported = __lsan_do_recoverable_leak_check() != 0;
	return reported;
}

#else

/* glibc's own allocator, which it exports so that a program can wrap it:
 * every malloc of the process (libstrophe, libconfig, libc's strdup and
 * fopen) comes through the definitions below and is counted. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void __libc_free(void *p);

static long live;

static void *counted(void *p)
{
	if (p != NULL)
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	return p;
}

void *malloc(size_t size)
{
	return counted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
	return counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t size)
{
	void *q = __libc_realloc(p, size);

	if (p == NULL)
		return counted(q);
	if (size == 0 && q == NULL)	/* glibc freed P */
		__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
	return q;
}

void free(void *p)
{
	if (p != NULL)
		__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

/* The aligned allocators too, so that free() never uncounts a block that
 * was not counted. */
void *aligned_alloc(size_t align, size_t size)
{
	return counted(__libc_memalign(align, size));
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size)
{
	return counted(__libc_memalign(align, size));
}

void *valloc(size_t size)
{
	return counted(__libc_valloc(size));
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	p = counted(__libc_memalign(align, size));
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

long leakcheck_live(void)
{
	return __atomic_load_n(&live, __ATOMIC_RELAXED);
}

int leakcheck_unreachable(void)
{
	return 0;
}

#endif
