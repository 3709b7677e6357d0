/* SPDX-License-Identifier: MIT */
/* guard.c: who may ask, and how often: rate limits, the permission table and service passwords, in one decision. */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "pwcheck.h"
#include "ratelimit.h"

/* Verified passwords remembered; 32 bytes each. */
#define PW_CACHE_SLOTS 8192
/* At most one log line per sender and kind of refusal this often. */
#define LOG_EVERY_S 60.0

struct guard {
	struct ratelimit_table *senders;
	struct ratelimit_bucket total;      /* every request */
	struct ratelimit_bucket hashes;     /* slow password hashes */
	double total_logged, hashes_logged;
	unsigned long total_quiet, hashes_quiet;
	struct pwcheck *pw;
	unsigned long hashed, cache_hits;
};

struct guard *guard_new(size_t max_senders)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->senders = ratelimit_table_new(max_senders ? max_senders : 1);
	g->pw = pwcheck_new(PW_CACHE_SLOTS);
	if (g->senders == NULL || g->pw == NULL) {
		guard_free(g);
		return NULL;
	}
	return g;
}

void guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	ratelimit_table_free(g->senders);
	pwcheck_free(g->pw);
	free(g);
}

void guard_stats(const struct guard *g, struct guard_stats *out)
{
	out->hashed = g->hashed;
	out->cache_hits = g->cache_hits;
	out->senders = ratelimit_table_count(g->senders);
}

/* One line for a refusal of BARE, at most once a minute per sender and
 * kind; the lines in between are counted into the next one. */
static void log_refusal(double *last, unsigned long *quiet, double now,
			const char *bare, const char *what, const char *where)
{
	char esc[300];

	if (!ratelimit_due(last, now, LOG_EVERY_S)) {
		(*quiet)++;
		return;
	}
	if (*quiet > 0)
		log_info("access: %s %s%s%s (and %lu more in the last minute)",
			 what, log_escape(esc, sizeof(esc), bare),
			 where ? " by rule " : "", where ? where : "", *quiet);
	else
		log_info("access: %s %s%s%s", what,
			 log_escape(esc, sizeof(esc), bare),
			 where ? " by rule " : "", where ? where : "");
	*quiet = 0;
}

/* A global bucket ran dry: one line a minute for everyone. */
static void log_global(double *last, unsigned long *quiet, double now,
		       const char *what)
{
	if (!ratelimit_due(last, now, LOG_EVERY_S)) {
		(*quiet)++;
		return;
	}
	log_warn("limits: %s (%lu more refusals in the last minute)", what, *quiet);
	*quiet = 0;
}

static int limited(const struct config *cfg)
{
	return cfg->limit_sender.rate > 0 || cfg->limit_total.rate > 0;
}

/* The password step of an allowing rule with a password hash. */
static enum stanza_cond check_password(struct guard *g, const struct config *cfg,
				       struct ratelimit_sender *s,
				       const struct access_rule *rule,
				       const char *bare, const char *password,
				       double now, const char **text)
{
	struct pwcheck_key key;
	int r;

	if (password == NULL || *password == '\0') {
		*text = "this service needs a password: give example_tag a "
			"password attribute";
		log_refusal(&s->deny_logged, &s->deny_quiet, now, bare,
			    "no password from", rule->where);
		return STANZA_COND_NOT_AUTHORIZED;
	}
	r = pwcheck_lookup(g->pw, rule->password, bare, password, &key);
	if (r == 1) {
		g->cache_hits++;
		return STANZA_COND_NONE;
	}
	if (r < 0) {
		/* Longer than any password ope accepts. */
		*text = "wrong password";
		return STANZA_COND_NOT_AUTHORIZED;
	}
	/* Not known to be right: a slow hash, which guesses must not get for
	 * free. Rate limits first, then the hash. */
	if (ratelimit_take(&s->attempts, &cfg->limit_password, now) != 0) {
		*text = "rate limit: too many password attempts from your "
			"address; wait and retry";
		log_refusal(&s->limit_logged, &s->limit_quiet, now, bare,
			    "too many password attempts from", NULL);
		return STANZA_COND_RATE_LIMITED;
	}
	if (ratelimit_take(&g->hashes, &cfg->limit_hashes, now) != 0) {
		*text = "the service is checking too many passwords; retry later";
		log_global(&g->hashes_logged, &g->hashes_quiet, now,
			   "limits.password.total reached: password checks refused");
		return STANZA_COND_RESOURCE_CONSTRAINT;
	}
	g->hashed++;
	r = pwcheck_verify(g->pw, rule->password, password, &key);
	if (r == 1)
		return STANZA_COND_NONE;
	if (r < 0) {
		log_error("access: cannot compute the password hash of rule %s",
			  rule->where);
		*text = NULL;
		return STANZA_COND_INTERNAL_SERVER_ERROR;
	}
	*text = "wrong password";
	log_refusal(&s->deny_logged, &s->deny_quiet, now, bare,
		    "wrong password from", rule->where);
	return STANZA_COND_NOT_AUTHORIZED;
}

enum stanza_cond guard_check(struct guard *g, const struct config *cfg,
			     const char *from, int controlled,
			     const char *password, double now,
			     const char **text)
{
	char bare[ACCESS_BARE_MAX];
	const struct access_table *table = controlled ? cfg->access : NULL;
	const struct access_rule *rule;
	struct ratelimit_sender *s;
	enum access_action action;

	*text = NULL;
	if (table == NULL && !limited(cfg))
		return STANZA_COND_NONE;
	if (access_normalise(from, bare, sizeof(bare)) < 0) {
		*text = "unusable sender address";
		return STANZA_COND_FORBIDDEN;
	}
	s = ratelimit_table_get(g->senders, bare, strlen(bare));
	if (s == NULL) {
		*text = "out of memory";
		return STANZA_COND_RESOURCE_CONSTRAINT;
	}
	if (ratelimit_take(&s->requests, &cfg->limit_sender, now) != 0) {
		*text = "rate limit: too many requests from your address; slow "
			"down and retry";
		log_refusal(&s->limit_logged, &s->limit_quiet, now, bare,
			    "over its rate limit:", NULL);
		return STANZA_COND_RATE_LIMITED;
	}
	if (ratelimit_take(&g->total, &cfg->limit_total, now) != 0) {
		*text = "the service is over its total rate; retry later";
		log_global(&g->total_logged, &g->total_quiet, now,
			   "limits.total reached: requests refused");
		return STANZA_COND_RESOURCE_CONSTRAINT;
	}
	if (table == NULL)
		return STANZA_COND_NONE;
	rule = access_table_match(table, bare);
	action = rule ? rule->action : access_table_default(table);
	if (action == ACCESS_DENY) {
		*text = "you may not use this service";
		log_refusal(&s->deny_logged, &s->deny_quiet, now, bare,
			    "denied", rule ? rule->where : "access.default");
		return STANZA_COND_FORBIDDEN;
	}
	if (rule == NULL || rule->password == NULL)
		return STANZA_COND_NONE;
	return check_password(g, cfg, s, rule, bare, password, now, text);
}
