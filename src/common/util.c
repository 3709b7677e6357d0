/* SPDX-License-Identifier: MIT */
/* util.c: the monotonic clock both programs use for deadlines and durations; waiting for an fd; sorting numbers. */
#include <errno.h>
#include <limits.h>
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
