/* SPDX-License-Identifier: MIT */
/* drain.h: a planned stop without losing requests: ask the server's mod_ope to unroute this link, answer until quiet, then close. */
#ifndef OPE_DRAIN_H
#define OPE_DRAIN_H

#include <stddef.h>
#include <stdint.h>

/* The unroute request's namespace (doc/pool-protocol.md, section 7). */
#define DRAIN_NS "urn:xmpp:ope:drain:0"

/* Settings (drain.quiet, drain.maximum, drain.answer), in milliseconds. */
struct drain_opts {
	unsigned quiet_ms;   /* close once no request came for this long */
	unsigned max_ms;     /* close at the latest this long after the start */
	unsigned answer_ms;  /* no answer to the unroute IQ by then: fall back */
};

enum drain_phase {
	DRAIN_IDLE,      /* not draining */
	DRAIN_ASKED,     /* unroute IQ sent, no answer yet */
	DRAIN_UNROUTED,  /* the server no longer routes to us: wait for quiet */
	DRAIN_FALLBACK,  /* no module (error or no answer): close as before */
};

/* What the caller does next (drain_poll). */
enum drain_action {
	DRAIN_WAIT,            /* keep serving; poll again within *WAIT_MS */
	DRAIN_CLOSE,           /* quiet (or the maximum reached): close now */
	DRAIN_CLOSE_FALLBACK,  /* close now and warn: mod_ope is missing */
};

/* One drain of one link; plain data, no allocation. */
struct drain {
	struct drain_opts opts;
	enum drain_phase phase;
	uint64_t started_ms;       /* when drain_start() ran */
	uint64_t last_request_ms;  /* last request seen (or the unroute answer) */
	char id[48];               /* the unroute IQ's id: "drain-" + 32 random hex */
	char server[256];          /* where it went: its answer must come from there */
	int answer_was_error;      /* for the fallback's message */
	struct link *link;         /* drain_attach(); borrowed, or NULL */
};

struct link;

/* Reset D to idle with OPTS (the link of drain_attach() stays). */
void drain_init(struct drain *d, const struct drain_opts *opts);

/* Start draining at NOW_MS: write the unroute IQ from DOMAIN (the
 * component) to SERVER (the server's domain) into BUF (LEN bytes,
 * NUL-terminated), with an id of 128 bits from getrandom() so that nobody
 * can answer it but the server that got it. Returns its length, or -1 if
 * BUF is too small, a domain has a quote or '<' in it or is too long, or
 * no random bytes are to be had (D then stays idle). */
int drain_start(struct drain *d, const char *domain, const char *server,
		uint64_t now_ms, char *buf, size_t len);

/* A stanza arrived while draining: NAME, TYPE, ID and FROM are its
 * element name and attributes (NULL when absent). Returns 1 when it is the
 * answer to the unroute IQ: its id, and from the server it was sent to
 * (the caller drops it); 0 for anything else (a request: the quiet period
 * starts again). */
int drain_on_stanza(struct drain *d, const char *name, const char *type,
		    const char *id, const char *from, uint64_t now_ms);

/* Decide at NOW_MS; for DRAIN_WAIT, *WAIT_MS (may be NULL) is set to the
 * longest the caller may wait before polling again. */
enum drain_action drain_poll(struct drain *d, uint64_t now_ms,
			     unsigned *wait_ms);

/* ---- on a live link (main.c) ---- */

/* Let D take the unroute IQ's answer from L (borrowed, must outlive D)
 * with a claim (link_add_claim): while draining, every stanza read goes
 * to drain_on_stanza() (a request restarts the quiet period). Add it
 * before other claimers, so that it sees their answers too. Returns 0,
 * or -1 when L has no room for another claimer. */
int drain_attach(struct drain *d, struct link *l);

/* Start draining the attached link at NOW_MS (drain_init() with OPTS,
 * drain_start() for DOMAIN to its parent domain, link_send_raw()).
 * Returns 0, or -1 when the link is not up or the IQ cannot be built or
 * queued (D is then idle). */
int drain_begin(struct drain *d, const struct drain_opts *opts,
		const char *domain, uint64_t now_ms);

#endif
