/* SPDX-License-Identifier: MIT */
/* pwcheck.h: service passwords: crypt(5) hashes through libxcrypt, with a bounded cache of what was verified. */
#ifndef OPE_PWCHECK_H
#define OPE_PWCHECK_H

#include <stddef.h>

/* Longest password accepted; longer ones are wrong without hashing. */
#define PWCHECK_PASSWORD_MAX 1024

/* The cache key of one (hash, bare JID, password): a 128-bit keyed MAC
 * (SipHash-2-4-128 under a random key drawn per process), so neither the
 * cache nor this key holds or reveals the password. */
struct pwcheck_key {
	unsigned char mac[16];
};

struct pwcheck;

/* A checker whose cache remembers at most SLOTS verified passwords (SLOTS
 * is rounded up to a power of two). It draws random MAC keys. NULL when
 * out of memory. Free with pwcheck_free(). */
struct pwcheck *pwcheck_new(size_t slots);

void pwcheck_free(struct pwcheck *pc);

/* 0 when HASH is a crypt(5) hash of a kind ope accepts (yescrypt "$y$",
 * sha512crypt "$6$", bcrypt "$2b$"/"$2y$"), well formed, and cheap enough
 * that one check takes at most about 250 ms (sha512crypt: at most 700000
 * rounds; bcrypt: cost at most 12; yescrypt: N * r * (t + 1) at most
 * 2^18, as N=2^13 r=32), judged from its parameters without hashing;
 * else -1 and *WHY (static) says what is wrong. */
int pwcheck_hash_valid(const char *hash, const char **why);

/* Cheap (about 100 ns): compute KEY for (HASH, BARE, PASSWORD) and return
 * 1 when that triple was verified before and is still cached, else 0; -1
 * when the fields are too long to be valid. Comparisons are constant-time. */
int pwcheck_lookup(struct pwcheck *pc, const char *hash, const char *bare,
		   const char *password, struct pwcheck_key *key);

/* Slow, and safe on any thread (it touches no checker): hash PASSWORD
 * with HASH's settings and compare in constant time. Returns 1 when right,
 * 0 when wrong, -1 when the hash cannot be computed (or out of memory). */
int pwcheck_matches(const char *hash, const char *password);

/* Cache KEY (from pwcheck_lookup()) as verified. */
void pwcheck_remember(struct pwcheck *pc, const struct pwcheck_key *key);

/* pwcheck_matches(), then pwcheck_remember(KEY) when right; same returns. */
int pwcheck_verify(struct pwcheck *pc, const char *hash, const char *password,
		   const struct pwcheck_key *key);

/* Forget every cached verification. */
void pwcheck_flush(struct pwcheck *pc);

/* A new yescrypt hash of PASSWORD with a random salt, in OUT (size
 * OUTLEN). Returns 0, or -1 when hashing fails or OUT is too small. */
int pwcheck_make(const char *password, char *out, size_t outlen);

/* ope-component --hash-password: read a password (twice, without echo,
 * from the terminal when stdin is one; else the first line of stdin) and
 * print its yescrypt hash on stdout. Returns the exit status: 0, 1 when
 * hashing fails, 2 when no password could be read or the two differ. */
int pwcheck_cli(void);

#endif
