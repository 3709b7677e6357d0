/* SPDX-License-Identifier: MIT */
/* hash.c: a keyed hash (SipHash-1-3) for tables whose keys come off the wire. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* SipHash-C-D: C rounds per 8-byte block, D finalisation rounds; with
 * OUT128 the 128-bit variant, whose second half lands in *OUT128. */
static uint64_t sip(const uint8_t key[16], const void *data, size_t len,
		    int c, int d, uint64_t *out128)
{
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, m;
	size_t left = len & 7;
	uint64_t first;
	int i;

	if (out128)
		v1 ^= 0xee;
	for (; p != end; p += 8) {
		m = load64(p);
		v3 ^= m;
		for (i = 0; i < c; i++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	while (left-- > 0)
		b |= (uint64_t)p[left] << (8 * left);
	v3 ^= b;
	for (i = 0; i < c; i++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= out128 ? 0xee : 0xff;
	for (i = 0; i < d; i++)
		SIPROUND(v0, v1, v2, v3);
	first = v0 ^ v1 ^ v2 ^ v3;
	if (out128) {
		v1 ^= 0xdd;
		for (i = 0; i < d; i++)
			SIPROUND(v0, v1, v2, v3);
		*out128 = v0 ^ v1 ^ v2 ^ v3;
	}
	return first;
}

uint64_t hash_sip(const uint8_t key[16], const void *data, size_t len)
{
	return sip(key, data, len, 1, 3, NULL);
}

void hash_sip_mac(const uint8_t key[16], const void *data, size_t len,
		  uint8_t out[16])
{
	uint64_t v[2];

	v[0] = sip(key, data, len, 2, 4, &v[1]);
	memcpy(out, v, sizeof(v));
}

void hash_random_key(uint8_t key[16])
{
	uint64_t fallback[2];

	if (getrandom(key, 16, GRND_NONBLOCK) == 16)
		return;
	fallback[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
	fallback[1] = ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
	memcpy(key, fallback, 16);
}
