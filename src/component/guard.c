/* SPDX-License-Identifier: MIT */
/* guard.c: who may ask, and how often: rate limits, the permission table and service passwords, in one decision. */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "access.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "pwcheck.h"
#include "ratelimit.h"
#include "util.h"

/* Verified passwords remembered; 32 bytes each. */
#define PW_CACHE_SLOTS 8192
/* At most one log line per sender and kind of refusal this often. */
#define LOG_EVERY_S 60.0
/* A rule's wrong passwords are counted over this window
 * (limits.password.rule_failures of them before it backs off). */
#define RULE_WINDOW_S 60.0
/* Back-off delays double from this. */
#define RULE_FIRST_DELAY_S 1.0

/* The failure budget of one rule password, shared by everyone who tries
 * it: keyed by the hash, so two rules with the same password share it.
 * Entries come from the configuration only (one per distinct hash ever
 * loaded), never from what senders send. */
struct budget {
	char *hash;
	char *where;                 /* FILE:LINE of the last rule seen with it */
	struct ratelimit_bucket fails;
	unsigned level;              /* 0: calm; else the last delay was
	                                RULE_FIRST_DELAY_S * 2^(level - 1) */
	double not_before;           /* backing off: no hash starts earlier */
	unsigned running;            /* hashes admitted, not finished */
	double logged;
	unsigned long quiet;         /* refusals since the last log line */
};

struct guard_job {
	char hash[CRYPT_OUTPUT_SIZE];
	char password[PWCHECK_PASSWORD_MAX + 1];
	char bare[ACCESS_BARE_MAX];
	struct pwcheck_key key;
	struct budget *budget;
	int right;                   /* guard_job_run()'s result */
};

struct guard {
	struct ratelimit_table *senders;
	struct ratelimit_bucket total;      /* every request */
	struct ratelimit_bucket hashes;     /* slow password hashes */
	double total_logged, hashes_logged;
	unsigned long total_quiet, hashes_quiet;
	struct pwcheck *pw;
	unsigned long hashed, cache_hits, backoff_refused;
	struct budget **budgets;
	size_t nbudgets, budgets_cap;
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
	size_t i;

	if (g == NULL)
		return;
	ratelimit_table_free(g->senders);
	pwcheck_free(g->pw);
	for (i = 0; i < g->nbudgets; i++) {
		free(g->budgets[i]->hash);
		free(g->budgets[i]->where);
		free(g->budgets[i]);
	}
	free(g->budgets);
	free(g);
}

int guard_forgive(struct guard *g, const char *bare)
{
	struct ratelimit_sender *s = ratelimit_table_find(g->senders, bare,
							  strlen(bare));

	if (s == NULL)
		return 0;
	/* An unprimed bucket starts full. */
	memset(&s->requests, 0, sizeof(s->requests));
	memset(&s->attempts, 0, sizeof(s->attempts));
	return 1;
}

void guard_stats(const struct guard *g, struct guard_stats *out)
{
	size_t i;

	out->hashed = g->hashed;
	out->cache_hits = g->cache_hits;
	out->senders = ratelimit_table_count(g->senders);
	out->backoff_refused = g->backoff_refused;
	out->rules_backing_off = 0;
	for (i = 0; i < g->nbudgets; i++)
		out->rules_backing_off += g->budgets[i]->level > 0;
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
		log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", bare }, { "rule", where }),
		       "access: %s %s%s%s (and %lu more in the last minute)",
		       what, log_escape(esc, sizeof(esc), bare),
		       where ? " by rule " : "", where ? where : "", *quiet);
	else
		log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", bare }, { "rule", where }),
		       "access: %s %s%s%s", what,
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

/* The budget of RULE's password, created at its first slow check; NULL
 * when out of memory. A linear search: there is one entry per distinct
 * configured hash, and it runs only before a hash of tens of ms. */
static struct budget *budget_of(struct guard *g, const struct access_rule *rule)
{
	struct budget *b = NULL;
	size_t i;

	for (i = 0; i < g->nbudgets; i++)
		if (strcmp(g->budgets[i]->hash, rule->password) == 0) {
			b = g->budgets[i];
			break;
		}
	if (b == NULL) {
		if (util_grow(&g->budgets, &g->budgets_cap, g->nbudgets + 1,
			      sizeof(*g->budgets), 8) < 0)
			return NULL;
		if ((b = calloc(1, sizeof(*b))) == NULL ||
		    (b->hash = strdup(rule->password)) == NULL) {
			free(b);
			return NULL;
		}
		g->budgets[g->nbudgets++] = b;
	}
	/* Logs name the rule the latest request matched. */
	if (b->where == NULL || strcmp(b->where, rule->where) != 0) {
		char *w = strdup(rule->where);

		if (w == NULL)
			return NULL;
		free(b->where);
		b->where = w;
	}
	return b;
}

/* Whether B refuses to start a hash now. Calm: no more hashes at once
 * than wrong passwords left in the budget (at least one), since each may
 * turn out wrong. After the budget ran out: one at a time, each after the
 * back-off delay. */
static int backing_off(const struct budget *b, const struct config *cfg,
		       double now)
{
	double left = cfg->limit_rule_failures;

	if (b->level > 0)
		return b->running > 0 || now < b->not_before;
	if (b->fails.primed) {
		left = b->fails.tokens + (now - b->fails.stamp) *
		       cfg->limit_rule_failures / RULE_WINDOW_S;
		if (left > cfg->limit_rule_failures)
			left = cfg->limit_rule_failures;
	}
	return b->running > 0 && b->running >= left;
}

/* A hash admitted by B ended: RIGHT 1 (right), 0 (wrong) or -1 (not
 * computed: counts as neither). */
static void budget_done(struct budget *b, const struct config *cfg, int right,
			double now)
{
	struct ratelimit_rate rate = {
		cfg->limit_rule_failures / RULE_WINDOW_S,
		cfg->limit_rule_failures,
	};
	double delay = RULE_FIRST_DELAY_S, max = cfg->limit_rule_backoff_ms / 1000.0;
	unsigned i;

	b->running--;
	if (right == 1) {
		/* The delay starts afresh; the failures counted stay, so the
		 * next wrong one backs off again at once. */
		b->level = 0;
		return;
	}
	if (right < 0)
		return;
	/* Within the budget: calm, or calm again once the budget was full,
	 * i.e. no wrong password for a whole window. Otherwise every wrong
	 * one doubles the delay, so guessing at the budget's own rate does
	 * not get out of the back-off. */
	if (ratelimit_take(&b->fails, &rate, now) == 0 &&
	    (b->level == 0 || b->fails.tokens >= rate.burst - 1 - 1e-9)) {
		b->level = 0;
		return;
	}
	if (b->level < 64)
		b->level++;
	for (i = 1; i < b->level && delay < max; i++)
		delay *= 2;
	b->not_before = now + (delay < max ? delay : max);
}

static void log_backoff(struct budget *b, const struct config *cfg, double now)
{
	if (!ratelimit_due(&b->logged, now, LOG_EVERY_S)) {
		b->quiet++;
		return;
	}
	log_warn("access: rule %s: password checks slowed down after %u wrong "
		 "passwords within a minute (limits.password.rule_failures): "
		 "one at a time, at most %.0f s apart, until one is right or "
		 "none is wrong for a minute; %lu more refused in the last "
		 "minute", b->where, cfg->limit_rule_failures,
		 cfg->limit_rule_backoff_ms / 1000.0, b->quiet);
	b->quiet = 0;
}

/* The password step of an allowing rule with a password hash. */
static enum stanza_cond check_password(struct guard *g, const struct config *cfg,
				       struct ratelimit_sender *s,
				       const struct access_rule *rule,
				       const char *bare, const char *password,
				       double now, const char **text,
				       struct guard_job **job)
{
	struct pwcheck_key key;
	struct budget *b;
	struct guard_job *j;
	int r;

	if (password == NULL || *password == '\0') {
		*text = "this service needs a password: give example_tag a "
			"password attribute";
		log_refusal(&s->deny_logged, &s->deny_quiet, now, bare,
			    "no password from", rule->where);
		return STANZA_COND_NOT_AUTHORIZED;
	}
	/* A sender whose password was verified before passes whatever the
	 * budgets below say: guesses spend them, not the users they lock
	 * out. */
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
	 * free. The rule's failure budget, the sender's rate, then everyone's
	 * rate; only then the hash. */
	if ((b = budget_of(g, rule)) == NULL) {
		*text = "out of memory";
		return STANZA_COND_RESOURCE_CONSTRAINT;
	}
	if (backing_off(b, cfg, now)) {
		g->backoff_refused++;
		*text = "too many wrong passwords for this service lately: "
			"password checks are slowed down; retry later";
		log_backoff(b, cfg, now);
		return STANZA_COND_RATE_LIMITED;
	}
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
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		*text = "out of memory";
		return STANZA_COND_RESOURCE_CONSTRAINT;
	}
	/* Lengths were checked by pwcheck_lookup(). */
	memcpy(j->hash, rule->password, strlen(rule->password) + 1);
	memcpy(j->password, password, strlen(password) + 1);
	memcpy(j->bare, bare, strlen(bare) + 1);
	j->key = key;
	j->budget = b;
	b->running++;
	g->hashed++;
	*job = j;
	return STANZA_COND_NONE;
}

void guard_job_run(struct guard_job *job)
{
	job->right = pwcheck_matches(job->hash, job->password);
	OPENSSL_cleanse(job->password, sizeof(job->password));
}

static void job_free(struct guard_job *job)
{
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

enum stanza_cond guard_job_finish(struct guard *g, const struct config *cfg,
				  struct guard_job *job, double now,
				  const char **text)
{
	struct ratelimit_sender *s;
	enum stanza_cond cond = STANZA_COND_NONE;

	*text = NULL;
	budget_done(job->budget, cfg, job->right, now);
	if (job->right == 1) {
		pwcheck_remember(g->pw, &job->key);
	} else if (job->right < 0) {
		log_error("access: cannot compute the password hash of rule %s",
			  job->budget->where);
		cond = STANZA_COND_INTERNAL_SERVER_ERROR;
	} else {
		*text = "wrong password";
		cond = STANZA_COND_NOT_AUTHORIZED;
		s = ratelimit_table_get(g->senders, job->bare, strlen(job->bare));
		if (s != NULL)
			log_refusal(&s->deny_logged, &s->deny_quiet, now,
				    job->bare, "wrong password from",
				    job->budget->where);
	}
	job_free(job);
	return cond;
}

void guard_job_cancel(struct guard *g, struct guard_job *job)
{
	(void)g;
	job->budget->running--;
	job_free(job);
}

enum stanza_cond guard_check(struct guard *g, const struct config *cfg,
			     const char *from, int controlled,
			     const char *password, double now,
			     const char **text, struct guard_job **job)
{
	char bare[ACCESS_BARE_MAX];
	const struct access_table *table = controlled ? cfg->access : NULL;
	const struct access_rule *rule;
	struct ratelimit_sender *s;
	enum access_action action;

	*text = NULL;
	*job = NULL;
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
	return check_password(g, cfg, s, rule, bare, password, now, text, job);
}
