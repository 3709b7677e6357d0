/* SPDX-License-Identifier: MIT */
/* tls.c: direct TLS for the component link (OpenSSL, non-blocking, verified). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

struct tls_config {
	SSL_CTX *ctx;
};

struct tls {
	SSL *ssl;
	char error[300];
};

/* The oldest OpenSSL error queued, as text, or FALLBACK; clears the queue. */
static const char *openssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();

	if (e == 0) {
		snprintf(buf, len, "%s", fallback);
	} else {
		const char *r = ERR_reason_error_string(e);

		snprintf(buf, len, "%s", r ? r : "unknown OpenSSL error");
	}
	ERR_clear_error();
	return buf;
}

struct tls_config *tls_config_new(const char *ca_file, char *err, size_t errlen)
{
	struct tls_config *c = calloc(1, sizeof(*c));
	char why[200];

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		snprintf(err, errlen, "cannot set up TLS: %s",
			 openssl_reason(why, sizeof(why), "OpenSSL failed"));
		goto fail;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* The output queue may move or grow between two tries of a write. */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A server that closes without close_notify has still closed. */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
			snprintf(err, errlen, "server.tls.ca_file '%s': cannot load "
				 "CA certificates (%s); give a readable PEM file",
				 ca_file, openssl_reason(why, sizeof(why),
							 "no certificate found"));
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		snprintf(err, errlen, "cannot load the system's CA certificates "
			 "(%s); install ca-certificates or set server.tls.ca_file",
			 openssl_reason(why, sizeof(why), "OpenSSL failed"));
		goto fail;
	}
	return c;
fail:
	tls_config_free(c);
	return NULL;
}

void tls_config_free(struct tls_config *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

static int is_ip_address(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 ||
	       inet_pton(AF_INET6, name, addr) == 1;
}

struct tls *tls_new(struct tls_config *c, int fd, const char *name, char *err,
		    size_t errlen)
{
	struct tls *t = calloc(1, sizeof(*t));
	char why[200];
	int ok;

	if (t == NULL || (t->ssl = SSL_new(c->ctx)) == NULL) {
		snprintf(err, errlen, "cannot start TLS: %s",
			 openssl_reason(why, sizeof(why), "out of memory"));
		goto fail;
	}
	if (is_ip_address(name)) {
		/* No SNI for an address (RFC 6066); check the IP SAN instead. */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
	} else {
		ok = SSL_set_tlsext_host_name(t->ssl, name) == 1 &&
		     SSL_set1_host(t->ssl, name) == 1;
	}
	if (!ok || SSL_set_fd(t->ssl, fd) != 1) {
		snprintf(err, errlen, "cannot start TLS for '%s': %s", name,
			 openssl_reason(why, sizeof(why), "bad name"));
		goto fail;
	}
	SSL_set_connect_state(t->ssl);
	return t;
fail:
	if (t != NULL)
		SSL_free(t->ssl);
	free(t);
	return NULL;
}

/* Map SSL_get_error() for RC to TLS_AGAIN (with *WANT) or TLS_FAILED. */
static int classify(struct tls *t, int rc, short *want)
{
	int e = SSL_get_error(t->ssl, rc);
	char why[200];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		return TLS_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		return TLS_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(t->error, sizeof(t->error), "closed by the server");
		ERR_clear_error();
		return TLS_FAILED;
	case SSL_ERROR_SYSCALL:
		if (errno != 0 && ERR_peek_error() == 0) {
			snprintf(t->error, sizeof(t->error), "%s", strerror(errno));
			return TLS_FAILED;
		}
		snprintf(t->error, sizeof(t->error), "%s", openssl_reason(why,
			 sizeof(why), "closed by the server"));
		return TLS_FAILED;
	default:
		snprintf(t->error, sizeof(t->error), "%s", openssl_reason(why,
			 sizeof(why), "TLS protocol error"));
		return TLS_FAILED;
	}
}

int tls_handshake(struct tls *t, short *want, char *err, size_t errlen)
{
	long verify;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(t->ssl);
	if (rc == 1)
		return 1;
	if (classify(t, rc, want) == TLS_AGAIN)
		return 0;
	verify = SSL_get_verify_result(t->ssl);
	if (verify != X509_V_OK)
		snprintf(err, errlen, "certificate verification failed: %s",
			 X509_verify_cert_error_string(verify));
	else
		snprintf(err, errlen, "TLS handshake failed: %s", t->error);
	return -1;
}

const char *tls_describe(struct tls *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", SSL_get_version(t->ssl),
		 SSL_get_cipher_name(t->ssl));
	return buf;
}

ssize_t tls_read(struct tls *t, void *buf, size_t len, short *want)
{
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	if (SSL_get_error(t->ssl, n) == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 0;
	}
	return classify(t, n, want);
}

ssize_t tls_write(struct tls *t, const void *buf, size_t len, short *want)
{
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	return classify(t, n, want);
}

int tls_pending(struct tls *t)
{
	return SSL_pending(t->ssl) > 0;
}

const char *tls_error(struct tls *t)
{
	return t->error;
}

void tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	/* Best effort: one non-blocking try, no wait for the peer's answer. */
	if (SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}
