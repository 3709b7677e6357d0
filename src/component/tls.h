/* SPDX-License-Identifier: MIT */
/* tls.h: direct TLS for the component link (OpenSSL, non-blocking, verified). */
#ifndef OPE_TLS_H
#define OPE_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_config;
struct tls;

/* tls_read()/tls_write() results besides a byte count. */
#define TLS_AGAIN (-1)   /* retry when *WANT (POLLIN or POLLOUT) is ready */
#define TLS_FAILED (-2)  /* the session is broken; tls_error() says why */

/* A client configuration that verifies servers against the PEM file
 * CA_FILE, or the system's CAs when CA_FILE is NULL. Returns NULL with
 * "what, where, what to do" in ERR (size ERRLEN). Free with
 * tls_config_free(). */
struct tls_config *tls_config_new(const char *ca_file, char *err, size_t errlen);

void tls_config_free(struct tls_config *c);

/* A session on the connected socket FD (borrowed: the caller closes it)
 * that sends NAME as SNI (unless an IP address) and requires the server's
 * certificate to match NAME. NULL with ERR filled on failure. */
struct tls *tls_new(struct tls_config *c, int fd, const char *name, char *err,
		    size_t errlen);

/* Drive the handshake. Returns 1 once done, 0 to be called again when
 * *WANT is ready, -1 on failure with ERR filled (for a certificate that
 * failed verification: the reason and what to configure). */
int tls_handshake(struct tls *t, short *want, char *err, size_t errlen);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for logs; static per session. */
const char *tls_describe(struct tls *t, char *buf, size_t len);

/* Read up to LEN bytes: a count, 0 when the peer closed, TLS_AGAIN with
 * *WANT set, or TLS_FAILED. */
ssize_t tls_read(struct tls *t, void *buf, size_t len, short *want);

/* Write up to LEN bytes (LEN > 0): a count, TLS_AGAIN with *WANT set, or
 * TLS_FAILED. After TLS_AGAIN call again with at least the same bytes (the
 * buffer may have moved). */
ssize_t tls_write(struct tls *t, const void *buf, size_t len, short *want);

/* True when decrypted bytes wait inside the session (poll won't show them). */
int tls_pending(struct tls *t);

/* Why the last call failed, for logs; static per session. */
const char *tls_error(struct tls *t);

/* Send close_notify if possible (never blocks) and free the session. */
void tls_free(struct tls *t);

#endif
