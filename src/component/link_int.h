/* SPDX-License-Identifier: MIT */
/* link_int.h: the link's inside, shared by link.c (the transport) and link_handover.c (its takeover half); nothing else includes it. */
#ifndef OPE_LINK_INT_H
#define OPE_LINK_INT_H

#include <netdb.h>
#include <stdint.h>

#include "backoff.h"
#include "component_exit.h"
#include "link.h"
#include "log.h"
#include "obuf.h"

struct loop_hook;
struct loop_io;
struct loop_timer;
struct resolve;
struct tls;
struct tls_config;
struct xmlstream;

/* One read: big enough for many pipelined stanzas, small enough that the
 * replies to it stay a bounded addition to the output queue. */
#define IN_SIZE 65536

enum phase {
	P_WAITING,     /* back-off timer running, no socket */
	P_RESOLVING,   /* the server's name is being looked up (resolve.h) */
	P_CONNECTING,  /* non-blocking connect() to ai_cur */
	P_TLS,         /* TLS handshake */
	P_OPENING,     /* our stream header sent, waiting for the server's */
	P_HANDSHAKE,   /* <handshake> sent, waiting for <handshake/> */
	P_UP,          /* serving */
	P_CLOSING,     /* our </stream:stream> sent, waiting for the server's */
	P_STOPPED,     /* finished */
};

/* Why a connection ends, decided inside parser callbacks and acted on once
 * the parser has returned. */
enum ending {
	END_NONE,
	END_RETRY,     /* reconnect with back-off (reason in `reason`) */
	END_QUIET_RETRY, /* the same, the error line was already written */
	END_REFUSED,   /* stop for good: exit 3 */
	END_FINISHED,  /* the server closed after our close: done */
};

/* Holding the stream still for a takeover (link_hold). */
enum hold {
	HOLD_NONE,
	HOLD_WAIT,     /* reading on until the next stanza boundary */
	HOLD_STILL,    /* parser paused at a boundary; no more reading */
};

/* How a stream header looks when the server's own could not be kept. */
#define DEFAULT_HEADER "<stream:stream xmlns='jabber:component:accept' " \
	"xmlns:stream='" XMPP_NS_STREAMS "'>"

struct link {
	struct loop_io *io;       /* the socket, or the lookup's descriptor */
	struct loop_timer *timer; /* next_timer() */
	struct loop_hook *prepare;
	xmpp_ctx_t *ctx;
	const struct config *cfg;
	struct link_upper upper;  /* who stanzas go to (link_set_upper) */
	struct metrics *metrics;  /* NULL: off */
	struct metrics_link *ml;  /* link_set_metrics_link(); NULL: default */
	link_state_fn on_state;
	void *state_arg;
	enum link_state pub_state;
	struct tls_config *tls_cfg;

	enum phase phase;
	enum component_exit exit_status;
	int stopping;

	size_t server;            /* index into the configured servers */
	int pinned;               /* link_pin(): server never changes */
	unsigned round;           /* failures since the last back-off */
	char where[300];          /* "host:port" of the current server */
	struct backoff backoff;
	uint32_t rng;             /* xorshift state for jitter */
	uint64_t retry_at;

	struct resolve *lookup;   /* while P_RESOLVING */
	resolve_fn resolver;      /* NULL: getaddrinfo (link_set_resolver) */
	struct addrinfo *ai_list, *ai_cur;
	char attempts[400];       /* per-address failures of this attempt */
	uint64_t deadline;       /* of the connect or the opening */

	int fd;
	struct tls *tls;
	short tls_want;           /* what the TLS session waits for, or 0 */
	struct xmlstream *xs;
	char stream_id[256];
	uint64_t up_at;          /* 0 while not up */

	char *in;                 /* IN_SIZE bytes: the last read */
	size_t in_len;            /* bytes in it */
	struct obuf out;
	struct log_mask rx_mask, tx_mask; /* traffic log state per direction */
	uint64_t tx_at;           /* last write progress, or queue empty */

	enum ending ending;
	char reason[400];

	uint64_t last_rx;        /* last byte from the server */
	uint64_t ping_sent;      /* 0: no ping outstanding */
	unsigned long ping_seq;
	char ping_to[256];

	unsigned long late;         /* requests read after our close */
	struct {                    /* link_add_claim() */
		link_claim_fn fn;
		void *arg;
	} claims[LINK_CLAIMS_MAX];
	size_t nclaims;

	int suspended;              /* adopted, the old process not gone yet */
	enum hold hold;             /* a takeover in progress (link_hold) */
	char *leftover;             /* bytes read past the held boundary */
	size_t leftover_len;
};

/* Tell the observer about state S with a printf-style detail; repeated
 * states are told once (LINK_WAITING every time). */
void link_set_state(struct link *l, enum link_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Close the socket and forget the connection's state (no word to the
 * server); the layer above forgets requests in flight. */
void link_close(struct link *l);

/* The connection failed for a printf-style reason: log, then fail over
 * or back off. */
void link_lose(struct link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse the LEN bytes at l->in and act on what they hold. */
void link_parse_input(struct link *l, size_t len);

/* A parser for the link's stream with its callbacks; NULL when out of
 * memory. */
struct xmlstream *link_parser_new(struct link *l);

#endif
