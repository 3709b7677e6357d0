/* SPDX-License-Identifier: MIT */
/* report.h: print ope-client's results: replies, failures and the --count summary. */
#ifndef OPE_CLIENT_REPORT_H
#define OPE_CLIENT_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <strophe.h>

#include "check.h"
#include "opts.h"
#include "stats.h"

/* Text from the reply is quoted with log_quote() (log.h). */

/* Print the successful REPLY to OUT for O's mode: raw XML with O->xml,
 * else e.g. `reply from ope.localhost: another="some" data="stuff"
 * text="OUR_MESSAGE"` and its child elements. RTT_MS is the round trip. */
void client_report_reply(FILE *out, xmpp_stanza_t *reply,
			 const struct client_opts *o, double rtt_ms);

/* Print why REPLY failed (C is its MISMATCH, ERROR or NOMEM verdict) to OUT. */
void client_report_failure(FILE *out, xmpp_stanza_t *reply,
			   const struct client_check *c);

/* Print the one-line summary of a --count run to OUT. */
void client_report_summary(FILE *out, const struct client_stats *s,
			   const struct client_summary *sum);

/* The same summary as one JSON object on one line (--json): the counters,
 * "count" (the requests asked for), "rate" (replies a second), "p50_ms",
 * "p99_ms" and "elapsed_s". */
void client_report_summary_json(FILE *out, const struct client_stats *s,
				const struct client_summary *sum,
				unsigned long count);

/* One progress line of a --count run, for a terminal: "\r", the text
 * (sent, answered, errors, rate so far, estimated time left) and an
 * erase to the end of the line, no newline. NOW_NS is monotonic. */
void client_report_progress(FILE *out, const struct client_stats *s,
			    unsigned long count, uint64_t now_ns);

/* Erase what client_report_progress() left on the line. */
void client_report_progress_clear(FILE *out);

#endif
