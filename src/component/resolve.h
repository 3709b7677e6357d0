/* SPDX-License-Identifier: MIT */
/* resolve.h: host names looked up on a worker thread, so the event loop never waits for DNS. */
#ifndef OPE_RESOLVE_H
#define OPE_RESOLVE_H

#include <stddef.h>
#include <netdb.h>

/* Lookups started and not yet finished and joined, at most: while that
 * many hang (a DNS server that never answers), resolve_start() refuses. */
#define RESOLVE_MAX_RUNNING 8

/* getaddrinfo()'s shape: tests put in one that blocks until they say. */
typedef int (*resolve_fn)(const char *host, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res);

struct resolve;

/* Start looking up HOST for TCP port PORT (every address family) with FN
 * (NULL: getaddrinfo) on a thread of its own, with every signal blocked
 * there. NULL with ERR filled when out of memory or threads, or when
 * RESOLVE_MAX_RUNNING earlier lookups are still running. */
struct resolve *resolve_start(const char *host, unsigned port, resolve_fn fn,
			      char *err, size_t errlen);

/* A descriptor that turns readable once the answer is in: poll it. Owned
 * by R. */
int resolve_fd(const struct resolve *r);

/* 0 while the lookup runs. Once it has answered: 1 with *RES set (the
 * caller frees it with freeaddrinfo()), or -1 with ERR filled in
 * (getaddrinfo's reason) and *RES NULL. */
int resolve_result(struct resolve *r, struct addrinfo **res, char *err,
		   size_t errlen);

/* Done with R, answered or not (NULL: nothing). A lookup still running is
 * abandoned: it finishes on its own and its thread is joined by a later
 * resolve_start() or resolve_reap(). Never waits for DNS. */
void resolve_free(struct resolve *r);

/* Join the threads of abandoned lookups that have finished; with WAIT,
 * wait for all of them (for tests: it waits as long as the slowest
 * lookup). Returns how many lookups are still running. */
unsigned resolve_reap(int wait);

#endif
