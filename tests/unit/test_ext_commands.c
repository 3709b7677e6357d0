/* SPDX-License-Identifier: MIT */
/* test_ext_commands.c: XEP-0050 ad-hoc commands: admins only, each command's handler, disco items, the dispatch path, commands.admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "access.h"
#include "config.h"
#include "dispatch.h"
#include "ext.h"
#include "guard.h"
#include "ns.h"
#include "testutil.h"

#define ADMIN "boss@example.org/laptop"
#define OTHER "eve@example.org/phone"
#define DOMAIN "ope.example.org"

static char admin_bare[] = "boss@example.org";
static char *admin_list[] = { admin_bare };

/* testutil_config() with boss@example.org as the one admin. */
static void admin_config(struct config *cfg)
{
	testutil_config(cfg);
	cfg->admins.list = admin_list;
	cfg->admins.n = 1;
}

/* A fake runtime: fixed status, forgive() records its argument. */
static char forgiven[ACCESS_BARE_MAX];
static int forgive_answer;

static void fake_status(const struct ext_runtime *rt, struct ext_status *out)
{
	(void)rt;
	out->pid = 4242;
	out->uptime_s = 61.4;
	out->link_state = "up";
	out->server = "127.0.0.1:5347";
	out->link_up_s = 30;
	out->tls = 0;
	out->requests = 17;
	out->refused = 3;
	out->pending = 1;
	out->queue_bytes = 99;
}

static int fake_forgive(const struct ext_runtime *rt, const char *bare)
{
	(void)rt;
	snprintf(forgiven, sizeof(forgiven), "%s", bare);
	return forgive_answer;
}

static const struct ext_runtime fake_rt = { fake_status, fake_forgive, NULL };

/* A command request from FROM for NODE with FORM (XML of an <x/>, or "")
 * and ACTION (NULL: none). */
static xmpp_stanza_t *command_iq(xmpp_ctx_t *ctx, const char *from,
				 const char *node, const char *action,
				 const char *form)
{
	char xml[2048];

	snprintf(xml, sizeof(xml), "<iq type='set' id='c1' to='" DOMAIN "' "
		 "from='%s'><command xmlns='" NS_COMMANDS "' node='%s'%s%s%s>"
		 "%s</command></iq>", from, node, action ? " action='" : "",
		 action ? action : "", action ? "'" : "", form);
	return testutil_parse(ctx, xml);
}

struct outcome {
	const char *text;
	int ok;
};

/* Run ext_commands on a request; the reply lands in REPLY (payload owned
 * by the caller). OUT: the outcome of an action, or NULL. */
static void run_cmd(xmpp_ctx_t *ctx, const struct config *cfg,
		    xmpp_stanza_t *iq, const struct outcome *out,
		    struct ext_reply *reply)
{
	struct ext_request req = { .ctx = ctx, .stanza = iq, .kind = EXT_IQ_SET,
				   .cfg = cfg, .rt = &fake_rt };

	req.payload = stanza_first_element(iq);
	if (out != NULL) {
		req.outcome = out->text;
		req.outcome_ok = out->ok;
	}
	memset(reply, 0, sizeof(*reply));
	CU_ASSERT_EQUAL(ext_commands.handle(&req, reply), 0);
}

/* The value of field VAR in the <x/> of command reply CMD, or NULL. */
static const char *field(xmpp_stanza_t *cmd, const char *var)
{
	xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(cmd, "x", NS_DATA);
	xmpp_stanza_t *f, *v;

	for (f = x ? xmpp_stanza_get_children(x) : NULL; f;
	     f = xmpp_stanza_get_next(f)) {
		if (!xmpp_stanza_is_tag(f) ||
		    strcmp(xmpp_stanza_get_name(f), "field") != 0 ||
		    strcmp(xmpp_stanza_get_attribute(f, "var"), var) != 0)
			continue;
		v = xmpp_stanza_get_child_by_name(f, "value");
		if (v == NULL)
			return NULL;
		return xmpp_stanza_get_children(v) ?
		       xmpp_stanza_get_text_ptr(xmpp_stanza_get_children(v)) : "";
	}
	return NULL;
}

static void test_not_admin_forbidden(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg, none;
	struct ext_reply reply;
	xmpp_stanza_t *iq;

	admin_config(&cfg);
	testutil_config(&none);
	iq = command_iq(ctx, OTHER, "status", NULL, "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_FORBIDDEN);
	CU_ASSERT_PTR_NULL(reply.payload);
	xmpp_stanza_release(iq);
	/* No admins configured: nobody, not even boss. */
	iq = command_iq(ctx, ADMIN, "status", NULL, "");
	run_cmd(ctx, &none, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_FORBIDDEN);
	xmpp_stanza_release(iq);
	/* The bare JID matches case-insensitively, resource or not. */
	CU_ASSERT_TRUE(ext_commands_is_admin(&cfg, "BOSS@Example.ORG"));
	CU_ASSERT_TRUE(ext_commands_is_admin(&cfg, "boss@example.org/x"));
	CU_ASSERT_FALSE(ext_commands_is_admin(&cfg, "boss@example.org.evil"));
	CU_ASSERT_FALSE(ext_commands_is_admin(&cfg, "example.org"));
	testutil_ctx_free(ctx);
}

static void test_unknown_and_cancel(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct ext_reply reply;
	xmpp_stanza_t *iq;

	admin_config(&cfg);
	iq = command_iq(ctx, ADMIN, "nope", NULL, "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_ITEM_NOT_FOUND);
	xmpp_stanza_release(iq);
	iq = command_iq(ctx, ADMIN, "stop", "cancel", "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_NONE);
	CU_ASSERT_EQUAL(reply.action, EXT_ACTION_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "status"),
			       "canceled");
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(iq);
	iq = command_iq(ctx, ADMIN, "stop", "jump", "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_BAD_REQUEST);
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

static void test_status(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct ext_reply reply;
	xmpp_stanza_t *iq;

	admin_config(&cfg);
	iq = command_iq(ctx, ADMIN, "status", "execute", "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "status"),
			       "completed");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "node"),
			       "status");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload,
							 "sessionid"), "c1");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "pid"), "4242");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "uptime"), "61");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "domain"), DOMAIN);
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "link"), "up");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "link_server"), "127.0.0.1:5347");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "link_up"), "30");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "link_tls"), "none");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "requests"), "17");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "refused"), "3");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "password_checks"), "1");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "queue_bytes"), "99");
	CU_ASSERT_PTR_NOT_NULL(field(reply.payload, "version"));
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

/* NODE asks the loop for WANT first, then answers with the outcome. */
static void expect_action(const char *node, enum ext_action want)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct outcome ok = { "reloaded x; changed: log.level", 1 };
	struct outcome bad = { "refused: x.conf:3: bad", 0 };
	struct config cfg;
	struct ext_reply reply;
	xmpp_stanza_t *iq, *note;

	admin_config(&cfg);
	iq = command_iq(ctx, ADMIN, node, NULL, "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_NONE);
	CU_ASSERT_EQUAL(reply.action, want);
	CU_ASSERT_PTR_NULL(reply.payload);

	run_cmd(ctx, &cfg, iq, &ok, &reply);
	CU_ASSERT_EQUAL(reply.action, EXT_ACTION_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "status"),
			       "completed");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "result"), "ok");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "detail"), ok.text);
	note = xmpp_stanza_get_child_by_name(reply.payload, "note");
	CU_ASSERT_PTR_NOT_NULL_FATAL(note);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(note), "info");
	xmpp_stanza_release(reply.payload);

	run_cmd(ctx, &cfg, iq, &bad, &reply);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "result"), "failed");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "detail"), bad.text);
	note = xmpp_stanza_get_child_by_name(reply.payload, "note");
	CU_ASSERT_PTR_NOT_NULL_FATAL(note);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(note), "error");
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

static void test_reload(void)
{
	expect_action("reload", EXT_ACTION_RELOAD);
}

static void test_restart(void)
{
	expect_action("restart", EXT_ACTION_RESTART);
}

static void test_stop(void)
{
	expect_action("stop", EXT_ACTION_STOP);
}

#define JID_FORM(jid) "<x xmlns='jabber:x:data' type='submit'><field var='jid'>" \
	"<value>" jid "</value></field></x>"

/* "who" for JID under CFG: the completed reply (caller releases). */
static xmpp_stanza_t *who(xmpp_ctx_t *ctx, const struct config *cfg,
			  const char *form)
{
	struct ext_reply reply;
	xmpp_stanza_t *iq = command_iq(ctx, ADMIN, "who", NULL, form);

	run_cmd(ctx, cfg, iq, NULL, &reply);
	xmpp_stanza_release(iq);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_NONE);
	return reply.payload;
}

static void test_who(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct ext_reply reply;
	xmpp_stanza_t *r, *iq, *x;
	char err[200];

	admin_config(&cfg);
	/* No form: ask for the JID. */
	r = who(ctx, &cfg, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(r, "status"), "executing");
	x = xmpp_stanza_get_child_by_name_and_ns(r, "x", NS_DATA);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(x), "form");
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(x, "field"));
	xmpp_stanza_release(r);

	/* No access section. */
	r = who(ctx, &cfg, JID_FORM("Alice@Example.org/res"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(field(r, "jid"), "alice@example.org");
	CU_ASSERT_STRING_EQUAL(field(r, "action"), "allow");
	CU_ASSERT_STRING_EQUAL(field(r, "password"), "false");
	CU_ASSERT_STRING_EQUAL(field(r, "admin"), "false");
	xmpp_stanza_release(r);

	cfg.access = access_table_new(ACCESS_DENY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "*@example.org", ACCESS_ALLOW,
					 "$y$j9T$abc$def", "t.conf:7", err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "bad.example", ACCESS_DENY,
					 NULL, "t.conf:9", err, sizeof(err)), 0);
	r = who(ctx, &cfg, JID_FORM("alice@example.org"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(field(r, "rule"), "t.conf:7");
	CU_ASSERT_STRING_EQUAL(field(r, "action"), "allow");
	CU_ASSERT_STRING_EQUAL(field(r, "password"), "true");
	xmpp_stanza_release(r);
	r = who(ctx, &cfg, JID_FORM("x@bad.example"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(field(r, "rule"), "t.conf:9");
	CU_ASSERT_STRING_EQUAL(field(r, "action"), "deny");
	CU_ASSERT_STRING_EQUAL(field(r, "password"), "false");
	xmpp_stanza_release(r);
	r = who(ctx, &cfg, JID_FORM("boss@elsewhere.net"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(field(r, "rule"), "access.default");
	CU_ASSERT_STRING_EQUAL(field(r, "action"), "deny");
	xmpp_stanza_release(r);
	r = who(ctx, &cfg, JID_FORM("boss@example.org"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(field(r, "admin"), "true");
	xmpp_stanza_release(r);
	access_table_free(cfg.access);

	iq = command_iq(ctx, ADMIN, "who", NULL, JID_FORM("@@"));
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_BAD_REQUEST);
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

static void test_forgive(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct ext_reply reply;
	xmpp_stanza_t *iq;

	admin_config(&cfg);
	iq = command_iq(ctx, ADMIN, "forgive", NULL, "");
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "status"),
			       "executing");
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(iq);

	forgive_answer = 1;
	forgiven[0] = '\0';
	iq = command_iq(ctx, ADMIN, "forgive", "complete",
			JID_FORM("Noisy@Example.org/r"));
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_STRING_EQUAL(forgiven, "noisy@example.org");
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "status"),
			       "completed");
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "forgiven"), "true");
	xmpp_stanza_release(reply.payload);
	forgive_answer = 0;
	run_cmd(ctx, &cfg, iq, NULL, &reply);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(field(reply.payload, "forgiven"), "false");
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

/* The guard's side of forgive: a sender over its rate passes again. */
static void test_guard_forgive(void)
{
	struct config cfg;
	struct guard *g = guard_new(16);
	struct guard_job *job;
	const char *why;
	int i;

	testutil_config(&cfg);
	cfg.limit_sender.rate = 0.001;
	cfg.limit_sender.burst = 2;
	cfg.limit_total.rate = 1000;
	cfg.limit_total.burst = 1000;
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(guard_forgive(g, "noisy@example.org"), 0);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(guard_check(g, &cfg, "noisy@example.org/r", 0, NULL,
					    10.0, &why, &job), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(guard_check(g, &cfg, "noisy@example.org/r", 0, NULL,
				    10.0, &why, &job), STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(guard_forgive(g, "noisy@example.org"), 1);
	CU_ASSERT_EQUAL(guard_check(g, &cfg, "noisy@example.org/r", 0, NULL,
				    10.0, &why, &job), STANZA_COND_NONE);
	guard_free(g);
}

static void test_disco_items(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct ext_request req = { .ctx = ctx, .kind = EXT_IQ_GET, .cfg = &cfg };
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL, EXT_ACTION_NONE };
	xmpp_stanza_t *item;
	size_t n = 0, want;

	admin_config(&cfg);
	ext_registry_commands(&want);
	req.stanza = testutil_parse(ctx, "<iq type='get' id='d' to='" DOMAIN "' "
				    "from='" ADMIN "'><query xmlns='"
				    XMPP_NS_DISCO_ITEMS "' node='" NS_COMMANDS
				    "'/></iq>");
	req.payload = stanza_first_element(req.stanza);
	CU_ASSERT_EQUAL(ext_disco_items.handle(&req, &reply), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(reply.payload, "node"),
			       NS_COMMANDS);
	for (item = xmpp_stanza_get_children(reply.payload); item;
	     item = xmpp_stanza_get_next(item), n++) {
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(item, "jid"), DOMAIN);
		CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_attribute(item, "name"));
	}
	CU_ASSERT_EQUAL(n, want);
	CU_ASSERT_EQUAL(want, 6);
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(req.stanza);

	/* Anyone else: an empty list. */
	req.stanza = testutil_parse(ctx, "<iq type='get' id='d' to='" DOMAIN "' "
				    "from='" OTHER "'><query xmlns='"
				    XMPP_NS_DISCO_ITEMS "' node='" NS_COMMANDS
				    "'/></iq>");
	req.payload = stanza_first_element(req.stanza);
	reply.payload = NULL;
	CU_ASSERT_EQUAL(ext_disco_items.handle(&req, &reply), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply.payload);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(reply.payload));
	xmpp_stanza_release(reply.payload);
	xmpp_stanza_release(req.stanza);
	testutil_ctx_free(ctx);
}

/* The loop's side, for the dispatch test. */
static enum ext_action acted;
static int act_calls;

static void loop_act(void *arg, enum ext_action action)
{
	(void)arg;
	acted = action;
	act_calls++;
}

static void loop_status(void *arg, struct ext_status *out)
{
	(void)arg;
	out->pid = 7;
	out->link_state = "up";
}

static const char *error_cond(xmpp_stanza_t *st)
{
	xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(st, "error");
	xmpp_stanza_t *c = e ? xmpp_stanza_get_children(e) : NULL;

	return c ? xmpp_stanza_get_name(c) : NULL;
}

static void test_dispatched(void)
{
	struct testutil_sent sent = { { NULL }, 0 };
	struct dispatch_admin admin = { loop_status, loop_act, NULL };
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *iq, *cmd;
	struct config cfg;
	struct dispatch *d;
	char err[200];

	admin_config(&cfg);
	d = dispatch_new(ctx, &cfg, NULL, testutil_capture, &sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* Without the loop's side, actions are refused. */
	iq = command_iq(ctx, ADMIN, "reload", NULL, "");
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_ERROR_SENT);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(error_cond(sent.stanza[0]), "service-unavailable");
	testutil_sent_clear(&sent);

	dispatch_set_admin(d, &admin);
	act_calls = 0;
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_PENDING);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(act_calls, 1);
	CU_ASSERT_EQUAL(acted, EXT_ACTION_RELOAD);
	CU_ASSERT_TRUE(dispatch_action_waiting(d));
	/* One at a time. */
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_ERROR_SENT);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(error_cond(sent.stanza[0]), "resource-constraint");
	testutil_sent_clear(&sent);
	CU_ASSERT_EQUAL(act_calls, 1);
	dispatch_action_done(d, 1, "reloaded t.conf; changed: log.level");
	CU_ASSERT_FALSE(dispatch_action_waiting(d));
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(sent.stanza[0]), "result");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(sent.stanza[0]), "c1");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(sent.stanza[0]), ADMIN);
	cmd = xmpp_stanza_get_child_by_name_and_ns(sent.stanza[0], "command",
						   NS_COMMANDS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(field(cmd, "detail"),
			       "reloaded t.conf; changed: log.level");
	testutil_sent_clear(&sent);
	/* A second done is a no-op. */
	dispatch_action_done(d, 1, "again");
	CU_ASSERT_EQUAL(sent.n, 0);
	xmpp_stanza_release(iq);

	/* The status carries dispatch's counters and the loop's part. */
	iq = command_iq(ctx, ADMIN, "status", NULL, "");
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	cmd = xmpp_stanza_get_child_by_name_and_ns(sent.stanza[0], "command",
						   NS_COMMANDS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(field(cmd, "pid"), "7");
	CU_ASSERT_STRING_EQUAL(field(cmd, "requests"), "4");
	CU_ASSERT_STRING_EQUAL(field(cmd, "refused"), "2");
	testutil_sent_clear(&sent);
	xmpp_stanza_release(iq);

	/* A non-admin is refused, and never reaches the loop. */
	iq = command_iq(ctx, OTHER, "stop", NULL, "");
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_ERROR_SENT);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(error_cond(sent.stanza[0]), "forbidden");
	CU_ASSERT_EQUAL(act_calls, 1);
	testutil_sent_clear(&sent);
	xmpp_stanza_release(iq);

	/* The access table applies to admins too. */
	cfg.access = access_table_new(ACCESS_ALLOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "boss@example.org",
					 ACCESS_DENY, NULL, "t.conf:2", err,
					 sizeof(err)), 0);
	iq = command_iq(ctx, ADMIN, "status", NULL, "");
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_ERROR_SENT);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(error_cond(sent.stanza[0]), "forbidden");
	testutil_sent_clear(&sent);
	xmpp_stanza_release(iq);
	access_table_free(cfg.access);

	/* A command is an IQ set: a get is not served. */
	iq = testutil_parse(ctx, "<iq type='get' id='g' to='" DOMAIN "' from='"
			    ADMIN "'><command xmlns='" NS_COMMANDS "' "
			    "node='status'/></iq>");
	CU_ASSERT_EQUAL(dispatch_stanza(d, iq), DISPATCH_ERROR_SENT);
	testutil_sent_clear(&sent);
	xmpp_stanza_release(iq);
	dispatch_free(d);
	testutil_ctx_free(ctx);
}

/* Write TEXT to a fresh temporary file; its name lands in PATH. */
static int write_temp(char path[32], const char *text)
{
	int fd;
	FILE *fp;

	strcpy(path, "/tmp/ope-cmdXXXXXX");
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

#define BASE "component = { domain = \"ope.example.org\"; secret = \"s\"; };\n"

static void test_config_admins(void)
{
	char path[32], err[1024];
	struct config cfg;
	const char *at;

	CU_ASSERT_EQUAL_FATAL(write_temp(path, BASE), 0);
	CU_ASSERT_EQUAL(config_load(path, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.admins.n, 0);
	config_free(&cfg);
	unlink(path);

	CU_ASSERT_EQUAL_FATAL(write_temp(path, BASE "commands = { admins = "
					 "( \"Boss@Example.ORG\", \"ops.example.net\" ); };\n"),
			      0);
	CU_ASSERT_EQUAL(config_load(path, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.admins.n, 2);
	CU_ASSERT_STRING_EQUAL(cfg.admins.list[0], "boss@example.org");
	CU_ASSERT_STRING_EQUAL(cfg.admins.list[1], "ops.example.net");
	CU_ASSERT_TRUE(ext_commands_is_admin(&cfg, "boss@example.org/x"));
	config_free(&cfg);
	unlink(path);

	CU_ASSERT_EQUAL_FATAL(write_temp(path, BASE "commands = {\n admins = "
					 "( \"boss@example.org/laptop\" ); };\n"), 0);
	CU_ASSERT_EQUAL(config_load(path, &cfg, err, sizeof(err)), -1);
	/* FILE:LINE: what is wrong. */
	at = strstr(err, ":3: ");
	CU_ASSERT_PTR_NOT_NULL(at);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a bare JID"));
	CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
	unlink(path);

	CU_ASSERT_EQUAL_FATAL(write_temp(path, BASE "commands = { admins = "
					 "( 7 ); };\n"), 0);
	CU_ASSERT_EQUAL(config_load(path, &cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "commands.admins"));
	unlink(path);
}

/* config_reload_changes() names what changed, admins included. */
static void test_reload_changes(void)
{
	char path[32], err[1024], kept[256], changed[256];
	struct config cfg;
	FILE *fp;

	CU_ASSERT_EQUAL_FATAL(write_temp(path, BASE "commands = { admins = "
					 "( \"a@example.org\" ); };\n"), 0);
	CU_ASSERT_EQUAL_FATAL(config_load(path, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(config_reload_changes(&cfg, err, sizeof(err), kept,
					      sizeof(kept), changed,
					      sizeof(changed)), 0);
	CU_ASSERT_STRING_EQUAL(changed, "");
	CU_ASSERT_STRING_EQUAL(kept, "");
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs(BASE "commands = { admins = ( \"b@example.org\" ); };\n"
	      "log = { level = \"warning\"; };\n", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(config_reload_changes(&cfg, err, sizeof(err), kept,
					      sizeof(kept), changed,
					      sizeof(changed)), 0);
	CU_ASSERT_STRING_EQUAL(changed, "log.level, commands.admins");
	CU_ASSERT_EQUAL_FATAL(cfg.admins.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg.admins.list[0], "b@example.org");
	config_free(&cfg);
	unlink(path);
}

static int test_ext_commands_register(void)
{
	static const struct testutil_test tests[] = {
		{ "non-admins get forbidden", test_not_admin_forbidden },
		{ "unknown node, cancel, bad action", test_unknown_and_cancel },
		{ "status", test_status },
		{ "reload", test_reload },
		{ "restart", test_restart },
		{ "stop", test_stop },
		{ "who", test_who },
		{ "forgive", test_forgive },
		{ "guard_forgive refills a sender", test_guard_forgive },
		{ "disco#items of the commands node", test_disco_items },
		{ "through dispatch", test_dispatched },
		{ "commands.admins", test_config_admins },
		{ "reload names the changes", test_reload_changes },
	};

	return testutil_add_tests("ext_commands", tests,
				  sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_ext_commands_register)
