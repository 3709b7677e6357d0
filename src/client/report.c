/* SPDX-License-Identifier: MIT */
/* report.c: human-readable (or raw XML) output of ope-client's results. */
#include <string.h>

#include "report.h"
#include "log.h"
#include "ns.h"
#include "request.h"

static const char *who(xmpp_stanza_t *reply)
{
	const char *from = xmpp_stanza_get_from(reply);

	return from != NULL ? from : "(no from)";
}

static void print_xml(FILE *out, xmpp_stanza_t *st)
{
	char *buf = NULL;
	size_t len;

	if (xmpp_stanza_to_text(st, &buf, &len) == XMPP_EOK) {
		fprintf(out, "%s\n", buf);
		xmpp_free(xmpp_stanza_get_context(st), buf);
	} else {
		fprintf(out, "(cannot serialise the reply: out of memory)\n");
	}
}

static void print_example(FILE *out, xmpp_stanza_t *reply)
{
	xmpp_stanza_t *tag, *child;
	char a[512], d[512], t[2048];
	char *owned = NULL;
	const char *text;

	tag = xmpp_stanza_get_child_by_name_and_ns(reply, "example_tag",
						   NS_EXAMPLE);
	if (tag == NULL)
		return;
	text = client_check_text(tag, &owned);
	fprintf(out, "reply from %s: another=%s data=%s text=%s\n", who(reply),
		log_quote(a, sizeof(a),
				    xmpp_stanza_get_attribute(tag, "another")),
		log_quote(d, sizeof(d),
				    xmpp_stanza_get_attribute(tag, "data")),
		log_quote(t, sizeof(t), text));
	if (owned != NULL)
		xmpp_free(xmpp_stanza_get_context(reply), owned);
	for (child = xmpp_stanza_get_children(tag); child != NULL;
	     child = xmpp_stanza_get_next(child)) {
		if (xmpp_stanza_is_text(child))
			continue;
		fprintf(out, "  child: ");
		print_xml(out, child);
	}
}

static void print_disco(FILE *out, xmpp_stanza_t *reply)
{
	xmpp_stanza_t *query, *c;
	char q1[256], q2[256], q3[512];

	fprintf(out, "disco#info of %s:\n", who(reply));
	query = xmpp_stanza_get_child_by_name_and_ns(reply, "query",
						     XMPP_NS_DISCO_INFO);
	if (query == NULL)
		return;
	for (c = xmpp_stanza_get_children(query); c != NULL;
	     c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (xmpp_stanza_is_text(c) || name == NULL)
			continue;
		if (strcmp(name, "identity") == 0)
			fprintf(out, "  identity: category=%s type=%s name=%s\n",
				log_quote(q1, sizeof(q1),
					xmpp_stanza_get_attribute(c, "category")),
				log_quote(q2, sizeof(q2),
					xmpp_stanza_get_attribute(c, "type")),
				log_quote(q3, sizeof(q3),
					xmpp_stanza_get_attribute(c, "name")));
		else if (strcmp(name, "feature") == 0)
			fprintf(out, "  feature: %s\n",
				log_quote(q3, sizeof(q3),
					xmpp_stanza_get_attribute(c, "var")));
	}
}

/* The text of QUERY's child NAME, quoted into BUF. */
static const char *field(xmpp_stanza_t *query, const char *name, char *buf,
			 size_t len)
{
	xmpp_stanza_t *el = query ? xmpp_stanza_get_child_by_name(query, name)
				  : NULL;
	char *owned = NULL;
	const char *text = el ? client_check_text(el, &owned) : NULL;

	log_quote(buf, len, text);
	if (owned != NULL)
		xmpp_free(xmpp_stanza_get_context(el), owned);
	return buf;
}

static void print_version(FILE *out, xmpp_stanza_t *reply)
{
	xmpp_stanza_t *query;
	char n[256], v[256], os[256];

	query = xmpp_stanza_get_child_by_name_and_ns(reply, "query",
						     NS_VERSION);
	fprintf(out, "software version of %s: name=%s version=%s os=%s\n",
		who(reply), field(query, "name", n, sizeof(n)),
		field(query, "version", v, sizeof(v)),
		field(query, "os", os, sizeof(os)));
}

static void print_time(FILE *out, xmpp_stanza_t *reply)
{
	xmpp_stanza_t *el;
	char utc[256], tzo[256];

	el = xmpp_stanza_get_child_by_name_and_ns(reply, "time", NS_TIME);
	fprintf(out, "entity time of %s: utc=%s tzo=%s\n", who(reply),
		field(el, "utc", utc, sizeof(utc)),
		field(el, "tzo", tzo, sizeof(tzo)));
}

/* An ad-hoc command's answer: each form field as NAME=VALUE on OUT (values
 * of a multi-valued field joined by ", "), its notes on stderr. */
static void print_command(FILE *out, xmpp_stanza_t *reply)
{
	xmpp_stanza_t *cmd, *c, *x, *f, *v;
	char name[256], value[1024];

	cmd = xmpp_stanza_get_child_by_name_and_ns(reply, "command", NS_COMMANDS);
	if (cmd == NULL)
		return;
	for (c = xmpp_stanza_get_children(cmd); c; c = xmpp_stanza_get_next(c)) {
		char *owned = NULL;
		const char *text;

		if (!xmpp_stanza_is_tag(c) ||
		    strcmp(xmpp_stanza_get_name(c), "note") != 0)
			continue;
		text = client_check_text(c, &owned);
		fprintf(stderr, "note (%s): %s\n",
			log_escape(name, sizeof(name), xmpp_stanza_get_type(c)),
			log_escape(value, sizeof(value), text));
		if (owned != NULL)
			xmpp_free(xmpp_stanza_get_context(c), owned);
	}
	x = xmpp_stanza_get_child_by_name_and_ns(cmd, "x", NS_DATA);
	for (f = x ? xmpp_stanza_get_children(x) : NULL; f;
	     f = xmpp_stanza_get_next(f)) {
		int first = 1;

		if (!xmpp_stanza_is_tag(f) ||
		    strcmp(xmpp_stanza_get_name(f), "field") != 0 ||
		    xmpp_stanza_get_attribute(f, "var") == NULL)
			continue;
		fprintf(out, "%s=", log_escape(name, sizeof(name),
					       xmpp_stanza_get_attribute(f, "var")));
		for (v = xmpp_stanza_get_children(f); v; v = xmpp_stanza_get_next(v)) {
			char *owned = NULL;
			const char *text;

			if (!xmpp_stanza_is_tag(v) ||
			    strcmp(xmpp_stanza_get_name(v), "value") != 0)
				continue;
			text = client_check_text(v, &owned);
			fprintf(out, "%s%s", first ? "" : ", ",
				log_escape(value, sizeof(value), text));
			first = 0;
			if (owned != NULL)
				xmpp_free(xmpp_stanza_get_context(v), owned);
		}
		fputc('\n', out);
	}
}

void client_report_reply(FILE *out, xmpp_stanza_t *reply,
			 const struct client_opts *o, double rtt_ms)
{
	if (o->xml) {
		print_xml(out, reply);
		return;
	}
	switch (o->mode) {
	case CLIENT_MODE_MESSAGE:
	case CLIENT_MODE_IQ:
		print_example(out, reply);
		break;
	case CLIENT_MODE_PING:
		fprintf(out, "pong from %s in %.3f ms\n", who(reply), rtt_ms);
		break;
	case CLIENT_MODE_DISCO:
		print_disco(out, reply);
		break;
	case CLIENT_MODE_VERSION:
		print_version(out, reply);
		break;
	case CLIENT_MODE_TIME:
		print_time(out, reply);
		break;
	case CLIENT_MODE_COMMAND:
		print_command(out, reply);
		break;
	}
}

void client_report_failure(FILE *out, xmpp_stanza_t *reply,
			   const struct client_check *c)
{
	char q1[512], q2[512];

	if (c->outcome == CLIENT_REPLY_NOMEM) {
		fprintf(out, "cannot check the reply from %s: out of memory\n",
			who(reply));
		return;
	}
	if (c->outcome == CLIENT_REPLY_ERROR) {
		const struct client_error *e = &c->error;

		fprintf(out, "error reply (%s) from %s: type=%s condition=%s",
			xmpp_stanza_get_name(reply), who(reply),
			e->type ? e->type : "(none)",
			e->condition ? e->condition : "(none)");
		if (e->app_condition != NULL)
			fprintf(out, " (%s)", e->app_condition);
		if (e->text != NULL)
			fprintf(out, " text=%s",
				log_quote(q1, sizeof(q1), e->text));
		fputc('\n', out);
		return;
	}
	if (c->expected == NULL && c->got == NULL) {
		fprintf(out, "mismatch in reply from %s: it has no %s element\n",
			who(reply), c->field);
		return;
	}
	fprintf(out, "mismatch in reply from %s: %s: sent %s, got %s\n",
		who(reply), c->field,
		log_quote(q1, sizeof(q1), c->expected),
		log_quote(q2, sizeof(q2), c->got));
}

void client_report_summary(FILE *out, const struct client_stats *s,
			   const struct client_summary *sum)
{
	fprintf(out, "sent=%lu ok=%lu errors=%lu timeouts=%lu duplicates=%lu "
		"mismatches=%lu late=%lu rate=%.1f/s p50=%.3fms p99=%.3fms "
		"elapsed=%.3fs\n", s->sent, s->ok, s->errors, s->timeouts,
		s->duplicates, s->mismatches, s->late, sum->rate, sum->p50_ms,
		sum->p99_ms, sum->elapsed_s);
}

void client_report_summary_json(FILE *out, const struct client_stats *s,
				const struct client_summary *sum,
				unsigned long count)
{
	fprintf(out, "{\"count\":%lu,\"sent\":%lu,\"ok\":%lu,\"errors\":%lu,"
		"\"timeouts\":%lu,\"duplicates\":%lu,\"mismatches\":%lu,"
		"\"late\":%lu,\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
		"\"elapsed_s\":%.3f}\n", count, s->sent, s->ok, s->errors,
		s->timeouts, s->duplicates, s->mismatches, s->late, sum->rate,
		sum->p50_ms, sum->p99_ms, sum->elapsed_s);
}

void client_report_progress(FILE *out, const struct client_stats *s,
			    unsigned long count, uint64_t now_ns)
{
	unsigned long answered = s->ok + s->errors + s->mismatches;
	double elapsed = s->start_ns != 0 && now_ns > s->start_ns ?
			 (double)(now_ns - s->start_ns) / 1e9 : 0.0;
	double rate = elapsed > 0 ? (double)answered / elapsed : 0.0;
	unsigned long left = count > answered + s->timeouts ?
			     count - answered - s->timeouts : 0;

	fprintf(out, "\rsent %lu/%lu  answered %lu  errors %lu  %.0f/s",
		s->sent, count, answered, s->errors + s->mismatches, rate);
	if (rate > 0)
		fprintf(out, "  about %.0f s left", (double)left / rate);
	fputs("\033[K", out);
	fflush(out);
}

void client_report_progress_clear(FILE *out)
{
	fputs("\r\033[K", out);
	fflush(out);
}
