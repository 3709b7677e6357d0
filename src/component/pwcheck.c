/* SPDX-License-Identifier: MIT */
/* pwcheck.c: service passwords: crypt(5) hashes through libxcrypt, with a bounded cache of what was verified. */
#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "access.h"
#include "hash.h"
#include "prompt.h"
#include "pwcheck.h"
#include "secretfile.h"

struct slot {
	struct pwcheck_key key;
	int used;
};

struct pwcheck {
	uint8_t key[16];            /* the MAC's, random per process */
	/* The tag of the last rule hash seen: most requests name the same
	 * rule, and the tag is shorter to feed to the MAC than the hash. */
	char memo_hash[CRYPT_OUTPUT_SIZE];
	uint8_t memo_tag[16];
	struct slot *slots;
	size_t mask;
};

static const char *const accepted[] = { "$y$", "$6$", "$2b$", "$2y$" };

/* The most work one check may take: about 250 ms on a 2-core x86-64
 * (measured with libxcrypt 4.4.33, the machine shared with builds):
 * sha512crypt 0.25-0.38 us a round (1,000,000 rounds: 350-390 ms; 500,000:
 * 130 ms); bcrypt cost 12: 240-420 ms, 13: 610 ms; yescrypt N=2^12 r=32
 * (the default, "j9T"): 100-180 ms, N=2^13 r=32: 190-235 ms, N=2^14 r=32:
 * 410 ms. Decided from the parameters alone: nothing is timed at load. */
#define SHA512_ROUNDS_MAX 700000UL
#define BCRYPT_COST_MAX 12
#define YESCRYPT_WORK_MAX ((uint64_t)1 << 18)   /* N * r * (t + 1) */

/* The value of one character of crypt(5)'s base-64 alphabet
 * ("./0-9A-Za-z"), or 64 for any other byte. */
static unsigned b64(char c)
{
	if (c == '.' || c == '/')
		return (unsigned)(c - '.');
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0') + 2;
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A') + 12;
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 38;
	return 64;
}

/* One of yescrypt's variable-length numbers at *P (its first character
 * says how many follow), plus MIN, into *OUT; advances *P. 0, or -1 when
 * malformed. */
static int yescrypt_number(const char **p, uint32_t min, uint64_t *out)
{
	unsigned start = 0, end = 47, extra = 0, c = b64(**p);
	uint64_t v = min;

	if (c > 63)
		return -1;
	(*p)++;
	/* Values 0-47 stand alone; higher first characters announce 1..5
	 * more characters of 6 bits each. */
	while (c > end) {
		v += (uint64_t)(end + 1 - start) << (6 * extra);
		start = end + 1;
		end = start + (62 - end) / 2;
		extra++;
	}
	v += (uint64_t)(c - start) << (6 * extra);
	while (extra-- > 0) {
		c = b64(**p);
		if (c > 63)
			return -1;
		(*p)++;
		v += (uint64_t)c << (6 * extra);
	}
	*out = v;
	return 0;
}

/* yescrypt "$y$" parameters: flavour, log2 N, r, then optionally a bit set
 * saying which of p, t, g and a ROM follow. 0 when within the cap. */
static int yescrypt_cost_ok(const char *hash)
{
	const char *p = hash + 3;
	uint64_t flavor, nlog2, r, have = 0, par = 1, t = 0, g = 0;

	if (yescrypt_number(&p, 0, &flavor) < 0 ||
	    yescrypt_number(&p, 1, &nlog2) < 0 ||
	    yescrypt_number(&p, 1, &r) < 0)
		return -1;
	if (*p != '$' && yescrypt_number(&p, 1, &have) < 0)
		return -1;
	if ((have & 1) && yescrypt_number(&p, 2, &par) < 0)
		return -1;
	if ((have & 2) && yescrypt_number(&p, 1, &t) < 0)
		return -1;
	if ((have & 4) && yescrypt_number(&p, 1, &g) < 0)
		return -1;
	/* Hash upgrades (g) and a ROM are never made by mkpasswd or
	 * crypt_gensalt; p splits the same work into lanes, except in the
	 * classic scrypt flavour (0) where it multiplies it. */
	if ((have & ~(uint64_t)3) != 0 || g != 0 || nlog2 > 30 || r > 4096 ||
	    par > 64 || t > 64)
		return -1;
	return ((uint64_t)1 << nlog2) * r * (t + 1) * (flavor == 0 ? par : 1) <=
	       YESCRYPT_WORK_MAX ? 0 : -1;
}

/* 0 when checking a password against HASH (already known to be of an
 * accepted kind and well formed) takes at most about 250 ms here. */
static int cost_ok(const char *hash, const char **why)
{
	if (strncmp(hash, "$6$rounds=", 10) == 0) {
		char *end;
		unsigned long rounds = strtoul(hash + 10, &end, 10);

		if (*end == '$' && rounds <= SHA512_ROUNDS_MAX)
			return 0;
		*why = "too costly to check: sha512crypt with more than "
		       "700000 rounds takes over about 250 ms a check (the "
		       "default is 5000: drop rounds=, or use 'ope-component "
		       "--hash-password')";
		return -1;
	}
	if (strncmp(hash, "$2", 2) == 0) {
		if (atoi(hash + 4) <= BCRYPT_COST_MAX)
			return 0;
		*why = "too costly to check: bcrypt costs above 12 take over "
		       "about 250 ms a check (use cost 10 to 12, or "
		       "'ope-component --hash-password')";
		return -1;
	}
	if (strncmp(hash, "$y$", 3) == 0 && yescrypt_cost_ok(hash) != 0) {
		*why = "too costly to check: yescrypt parameters above N=2^13, "
		       "r=32 (mkpasswd -R 6) take over about 250 ms a check; "
		       "use 'ope-component --hash-password' or mkpasswd's "
		       "default";
		return -1;
	}
	return 0;
}

int pwcheck_hash_valid(const char *hash, const char **why)
{
	size_t i;

	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (strncmp(hash, accepted[i], strlen(accepted[i])) == 0)
			break;
	if (i == sizeof(accepted) / sizeof(accepted[0])) {
		*why = "not a supported crypt(5) hash: use yescrypt ($y$, "
		       "made by 'mkpasswd -m yescrypt' or 'ope-component "
		       "--hash-password'), sha512crypt ($6$) or bcrypt ($2b$)";
		return -1;
	}
	if (crypt_checksalt(hash) != CRYPT_SALT_OK || strlen(hash) < 20 ||
	    strpbrk(hash, " \t\r\n:") != NULL) {
		*why = "a malformed crypt(5) hash (copy the whole line that "
		       "mkpasswd printed)";
		return -1;
	}
	return cost_ok(hash, why);
}

struct pwcheck *pwcheck_new(size_t slots)
{
	struct pwcheck *pc = calloc(1, sizeof(*pc));
	size_t n = 16;

	if (pc == NULL)
		return NULL;
	while (n < slots && n < ((size_t)1 << 24))
		n <<= 1;
	pc->slots = calloc(n, sizeof(*pc->slots));
	if (pc->slots == NULL)
		goto fail;
	pc->mask = n - 1;
	/* Blocking: the keys must be unpredictable, even early at boot. */
	if (getrandom(pc->key, sizeof(pc->key), 0) != (ssize_t)sizeof(pc->key))
		goto fail;
	return pc;
fail:
	pwcheck_free(pc);
	return NULL;
}

void pwcheck_free(struct pwcheck *pc)
{
	if (pc == NULL)
		return;
	OPENSSL_cleanse(pc->key, sizeof(pc->key));
	free(pc->slots);
	free(pc);
}

void pwcheck_flush(struct pwcheck *pc)
{
	memset(pc->slots, 0, (pc->mask + 1) * sizeof(*pc->slots));
}

static size_t slot_of(const struct pwcheck *pc, const struct pwcheck_key *key)
{
	uint64_t v;

	memcpy(&v, key->mac, sizeof(v));
	return (size_t)v & pc->mask;
}

int pwcheck_lookup(struct pwcheck *pc, const char *hash, const char *bare,
		   const char *password, struct pwcheck_key *key)
{
	char buf[16 + ACCESS_BARE_MAX + PWCHECK_PASSWORD_MAX + 1];
	size_t hl = strlen(hash), bl = strlen(bare), pl = strlen(password);
	const struct slot *s;

	if (hl >= CRYPT_OUTPUT_SIZE || bl >= ACCESS_BARE_MAX ||
	    pl > PWCHECK_PASSWORD_MAX)
		return -1;
	if (strcmp(hash, pc->memo_hash) != 0) {
		memcpy(pc->memo_hash, hash, hl + 1);
		hash_sip_mac(pc->key, hash, hl, pc->memo_tag);
	}
	/* Fixed-size tag first, then a NUL keeps ("ab", "c") apart from
	 * ("a", "bc"). */
	memcpy(buf, pc->memo_tag, 16);
	memcpy(buf + 16, bare, bl + 1);
	memcpy(buf + 17 + bl, password, pl);
	hash_sip_mac(pc->key, buf, 17 + bl + pl, key->mac);
	OPENSSL_cleanse(buf + 17 + bl, pl);
	s = &pc->slots[slot_of(pc, key)];
	return s->used && CRYPTO_memcmp(s->key.mac, key->mac, sizeof(key->mac)) == 0;
}

int pwcheck_matches(const char *hash, const char *password)
{
	struct crypt_data *cd;
	const char *out;
	size_t hlen = strlen(hash);
	int right;

	if (strlen(password) > PWCHECK_PASSWORD_MAX)
		return 0;
	/* crypt_rn's 32 KiB work area, one per call: callers run on any
	 * thread, and the hash itself costs far more than the allocation. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	if (out == NULL || out[0] == '*')
		right = -1;
	else
		right = strlen(out) == hlen && CRYPTO_memcmp(out, hash, hlen) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return right;
}

void pwcheck_remember(struct pwcheck *pc, const struct pwcheck_key *key)
{
	struct slot *s = &pc->slots[slot_of(pc, key)];

	s->key = *key;
	s->used = 1;
}

int pwcheck_verify(struct pwcheck *pc, const char *hash, const char *password,
		   const struct pwcheck_key *key)
{
	int right = pwcheck_matches(hash, password);

	if (right == 1)
		pwcheck_remember(pc, key);
	return right;
}

int pwcheck_make(const char *password, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	int ret = -1;

	if (cd == NULL)
		return -1;
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL)
		goto out;
	h = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*' || strlen(h) + 1 > outlen)
		goto out;
	memcpy(out, h, strlen(h) + 1);
	ret = 0;
out:
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/* One line of FP into BUF without its line end; 0, or -1 at EOF or when
 * the line does not fit. */
static int read_line(FILE *fp, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, fp) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Prompt with PROMPT on the terminal and read a line without echo into
 * BUF (LEN bytes); -1 at EOF or when the line does not fit. */
static int read_hidden(const char *prompt, char *buf, size_t len)
{
	char *line;
	int rc = -1;

	if (prompt_line(prompt, 1, &line) != 0)
		return -1;
	/* As read_line(): a line of LEN - 1 bytes or more does not fit. */
	if (strlen(line) < len - 1) {
		memcpy(buf, line, strlen(line) + 1);
		rc = 0;
	}
	secretfile_free(line);
	return rc;
}

int pwcheck_cli(void)
{
	char pw[PWCHECK_PASSWORD_MAX + 2], again[PWCHECK_PASSWORD_MAX + 2];
	char hash[CRYPT_OUTPUT_SIZE];
	int ret = 2;

	if (isatty(STDIN_FILENO)) {
		if (read_hidden("Service password: ", pw, sizeof(pw)) != 0 ||
		    read_hidden("Again: ", again, sizeof(again)) != 0) {
			fprintf(stderr, "ope-component: no password read\n");
			goto out;
		}
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "ope-component: the two passwords differ; "
				"nothing was printed\n");
			goto out;
		}
	} else if (read_line(stdin, pw, sizeof(pw)) != 0) {
		fprintf(stderr, "ope-component: --hash-password reads the "
			"password from the first line of stdin (at most %d "
			"bytes)\n", PWCHECK_PASSWORD_MAX);
		goto out;
	}
	if (pw[0] == '\0') {
		fprintf(stderr, "ope-component: the password is empty\n");
		goto out;
	}
	ret = 1;
	if (pwcheck_make(pw, hash, sizeof(hash)) != 0) {
		fprintf(stderr, "ope-component: cannot compute a yescrypt hash\n");
		goto out;
	}
	printf("%s\n", hash);
	ret = 0;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(again, sizeof(again));
	return ret;
}
