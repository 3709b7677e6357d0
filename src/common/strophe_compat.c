/* SPDX-License-Identifier: MIT */
/* strophe_compat.c: what ope works around in libstrophe 0.12 (Debian bookworm's 0.12.2), in one place: a function or a note per work-around. */
#include <signal.h>
#include <string.h>

#include <strophe.h>

#include "strophe_compat.h"
#include "util.h"

/*
 * Work-arounds that need no code here, and where they live:
 *
 * - Quadratic child append and attribute table (xmpp_stanza_add_child_ex
 *   walks the siblings; attributes go into 8 hash buckets that never
 *   grow), recursive release and copy (deep trees): stanzas are built
 *   through the public API only, and xmlstream.h's XMLSTREAM_MAX_DEPTH,
 *   _CHILDREN and _ATTRS cap what a stanza can make those calls cost.
 * - The component does not connect through libstrophe: its stream, TLS,
 *   handshake, parser and send queue are ope's own (link.c, xmlstream.c,
 *   obuf.c). That avoids, on the component side, the crash on a component
 *   connection's missing XEP-0198 state (sm_state, allocated only by
 *   xmpp_connect_client()), the dropped attribute prefixes (xml:lang,
 *   forged ns:from), the wedge after a parse error, the unbounded send
 *   queue, the per-stanza debug serialisation (and its stack overflow on
 *   deep stanzas), xmpp_send_raw()'s strlen() and global timed handlers
 *   that xmpp_ctx_free() leaks: ope calls neither.
 * - ope-client does connect through libstrophe, with
 *   xmpp_connect_client() (which allocates sm_state), and drives it with
 *   xmpp_run_once() so its signal flags are seen (xmpp_run() never looks).
 *   It reads its own replies only; their size and depth are the server's.
 * - Name resolution stops at the first address whose connect starts (::1
 *   for localhost): ope-client's --help says to give an address.
 */

int strophe_compat_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGPIPE, &sa, NULL);
}

/* At debug level libstrophe logs raw traffic and its own steps: the
 * XEP-0114 handshake digest (with the stream id it allows an offline
 * dictionary attack on the secret), both as traffic and in its "Digest:"
 * line, SASL exchanges, and an example_tag's service password attribute
 * (either quote). */
static const char *const secret_marks[] = {
	"<handshake", "Digest:", "<auth", "<response", "<challenge", "<success",
	"password=",
};

size_t strophe_compat_secret_at(const char *msg)
{
	const char *first = NULL;
	size_t i, len = 0;

	/* The earliest mark in the line, whichever comes first in the list:
	 * what follows it is cut. */
	for (i = 0; i < ARRAY_SIZE(secret_marks); i++) {
		const char *mark = strstr(msg, secret_marks[i]);

		if (mark != NULL && (first == NULL || mark < first)) {
			first = mark;
			len = strlen(secret_marks[i]);
		}
	}
	return first != NULL ? (size_t)(first - msg) + len : 0;
}

/* libstrophe 0.12 has no public call that tells why SASL failed: user
 * handlers never see a stanza before authentication (handler.c skips them
 * while the connection is not authenticated), <failure/> is no stream
 * error, and the connection handler only learns that the stream ended.
 * The received-traffic line of its debug log is the one place the
 * condition shows, so ope-client reads it there. */
int strophe_compat_sasl_condition(const char *msg, char *buf, size_t len)
{
	static const char recv[] = "RECV: <failure";
	const char *p, *end;
	size_t n;

	if (strncmp(msg, recv, sizeof(recv) - 1) != 0 ||
	    strstr(msg, XMPP_NS_SASL) == NULL)
		return -1;
	p = strchr(msg + sizeof(recv) - 1, '>');
	if (p == NULL || p[-1] == '/' || p[1] != '<' || p[2] == '/')
		return -1;
	p += 2;
	end = p + strcspn(p, " />");
	n = (size_t)(end - p);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}
