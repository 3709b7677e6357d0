/* SPDX-License-Identifier: MIT */
/* ratelimit.c: token buckets, and a bounded table of per-sender state with LRU eviction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ratelimit.h"

int ratelimit_take(struct ratelimit_bucket *b, const struct ratelimit_rate *rate,
		   double now)
{
	double burst = rate->burst < 1.0 ? 1.0 : rate->burst;

	if (rate->rate <= 0)
		return 0;
	if (!b->primed) {
		b->primed = 1;
		b->tokens = burst;
		b->stamp = now;
	} else if (now > b->stamp) {
		b->tokens += (now - b->stamp) * rate->rate;
		b->stamp = now;
	}
	/* A reload may shrink the burst below what the bucket holds. */
	if (b->tokens > rate->burst)
		b->tokens = burst;
	if (b->tokens < 1.0)
		return -1;
	b->tokens -= 1.0;
	return 0;
}

int ratelimit_due(double *last, double now, double every)
{
	if (*last != 0 && now - *last < every)
		return 0;
	*last = now;
	return 1;
}

/* One remembered sender: on its hash chain and on the LRU list. */
struct entry {
	struct ratelimit_sender state;
	struct entry *chain;          /* next in the same hash bucket */
	struct entry *newer, *older;  /* LRU list, most recent at the head */
	uint64_t hash;
	size_t len;
	char key[];
};

struct ratelimit_table {
	struct entry **buckets;
	size_t mask;                  /* number of buckets - 1 */
	size_t count, max;
	struct entry *newest, *oldest;
	uint8_t seed[16];
};

struct ratelimit_table *ratelimit_table_new(size_t max)
{
	struct ratelimit_table *t;
	size_t n = 16;

	if (max == 0)
		return NULL;
	while (n < max && n < ((size_t)1 << 30))
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->max = max;
	hash_random_key(t->seed);
	return t;
}

void ratelimit_table_free(struct ratelimit_table *t)
{
	struct entry *e, *next;

	if (t == NULL)
		return;
	for (e = t->newest; e != NULL; e = next) {
		next = e->older;
		free(e);
	}
	free(t->buckets);
	free(t);
}

static void lru_unlink(struct ratelimit_table *t, struct entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct ratelimit_table *t, struct entry *e)
{
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	t->newest = e;
	if (t->oldest == NULL)
		t->oldest = e;
}

/* Forget the least recently seen sender. */
static void evict(struct ratelimit_table *t)
{
	struct entry *e = t->oldest, **pp;

	for (pp = &t->buckets[e->hash & t->mask]; *pp != e; pp = &(*pp)->chain)
		;
	*pp = e->chain;
	lru_unlink(t, e);
	free(e);
	t->count--;
}

struct ratelimit_sender *ratelimit_table_get(struct ratelimit_table *t,
					     const char *key, size_t len)
{
	uint64_t h = hash_sip(t->seed, key, len);
	struct entry *e;

	for (e = t->buckets[h & t->mask]; e != NULL; e = e->chain) {
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
			if (t->newest != e) {
				lru_unlink(t, e);
				lru_push(t, e);
			}
			return &e->state;
		}
	}
	if (t->count >= t->max)
		evict(t);
	e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, len);
	e->len = len;
	e->hash = h;
	e->chain = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = e;
	lru_push(t, e);
	t->count++;
	return &e->state;
}

struct ratelimit_sender *ratelimit_table_find(struct ratelimit_table *t,
					      const char *key, size_t len)
{
	uint64_t h = hash_sip(t->seed, key, len);
	struct entry *e;

	for (e = t->buckets[h & t->mask]; e != NULL; e = e->chain)
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return &e->state;
	return NULL;
}

size_t ratelimit_table_count(const struct ratelimit_table *t)
{
	return t->count;
}
