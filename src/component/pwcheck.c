/* SPDX-License-Identifier: MIT */
/* pwcheck.c: service passwords: crypt(5) hashes through libxcrypt, with a bounded cache of what was verified. */
#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "access.h"
#include "hash.h"
#include "pwcheck.h"

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
	struct crypt_data *scratch; /* crypt_rn's 32 KiB work area */
};

static const char *const accepted[] = { "$y$", "$6$", "$2b$", "$2y$" };

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
	return 0;
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
	pc->scratch = calloc(1, sizeof(*pc->scratch));
	if (pc->slots == NULL || pc->scratch == NULL)
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
	if (pc->scratch != NULL)
		OPENSSL_cleanse(pc->scratch, sizeof(*pc->scratch));
	free(pc->scratch);
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

int pwcheck_verify(struct pwcheck *pc, const char *hash, const char *password,
		   const struct pwcheck_key *key)
{
	const char *out;
	size_t hlen = strlen(hash);
	int right;

	if (strlen(password) > PWCHECK_PASSWORD_MAX)
		return 0;
	memset(pc->scratch, 0, sizeof(*pc->scratch));
	out = crypt_rn(password, hash, pc->scratch, (int)sizeof(*pc->scratch));
	if (out == NULL || out[0] == '*') {
		OPENSSL_cleanse(pc->scratch, sizeof(*pc->scratch));
		return -1;
	}
	right = strlen(out) == hlen && CRYPTO_memcmp(out, hash, hlen) == 0;
	OPENSSL_cleanse(pc->scratch, sizeof(*pc->scratch));
	if (right) {
		struct slot *s = &pc->slots[slot_of(pc, key)];

		s->key = *key;
		s->used = 1;
	}
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

/* Prompt with PROMPT on the terminal and read a line without echo. */
static int read_hidden(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int rc;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(stdin, buf, len);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
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
