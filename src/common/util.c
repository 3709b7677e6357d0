/* SPDX-License-Identifier: MIT */
/* util.c: the monotonic clock both programs use for deadlines and durations; waiting for an fd; growing arrays; sorting numbers. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "util.h"

uint64_t util_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int util_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int util_wait_fd(int fd, short events, uint64_t deadline_ns)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now = util_now_ns(), ms;
	int rc;

	for (;;) {
		/* Rounded up: a wait never ends just short of the deadline;
		 * at or past it, one look (0 ms). */
		ms = now >= deadline_ns ? 0 : (deadline_ns - now) / 1000000u + 1;
		rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
		if (rc >= 0 || errno != EINTR)
			break;
		now = util_now_ns();
		if (now >= deadline_ns)
			return 0;
	}
	return rc < 0 ? -1 : rc > 0;
}

int util_grow(void *ptr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *old, *p;

	if (n <= *cap)
		return 0;
	if (size == 0)
		return -1;
	if (c == 0)
		c = 1;
	while (c < n) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	/* PTR points to some T *: copied, not dereferenced as void **. */
	memcpy(&old, ptr, sizeof(old));
	p = realloc(old, c * size);
	if (p == NULL)
		return -1;
	memcpy(ptr, &p, sizeof(p));
	*cap = c;
	return 0;
}
