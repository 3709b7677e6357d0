/* SPDX-License-Identifier: MIT */
/* util.h: the small helpers both programs share: array length, string equality, monotonic clock, waiting for an fd, growing arrays, sorting numbers. */
#ifndef OPE_UTIL_H
#define OPE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The number of elements of the array A (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* True when A and B are both non-NULL and equal. */
static inline int util_streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Nanoseconds on CLOCK_MONOTONIC: for deadlines and durations only. */
uint64_t util_now_ns(void);

/* util_now_ns() in milliseconds. */
static inline uint64_t util_now_ms(void)
{
	return util_now_ns() / 1000000u;
}

/* Wait until FD is ready for EVENTS (poll() flags) or DEADLINE_NS
 * (util_now_ns()) passes; a signal does not cut it short. Returns 1 when
 * ready, 0 at the deadline, -1 on a poll() error (errno set). */
int util_wait_fd(int fd, short events, uint64_t deadline_ns);

/* Make the array at *PTR (a pointer to the array pointer; *CAP elements
 * of SIZE bytes, NULL and 0 at first) hold at least N elements: *CAP
 * doubles from FIRST until it does, then realloc(). Returns 0, or -1 when
 * out of memory or on overflow, the array and *CAP unchanged. */
int util_grow(void *ptr, size_t *cap, size_t n, size_t size, size_t first);

/* qsort() comparison of two uint64_t: ascending. */
int util_cmp_u64(const void *a, const void *b);

#endif
