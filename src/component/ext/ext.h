/* SPDX-License-Identifier: MIT */
/* ext.h: the interface every protocol extension implements (one file each), and their registry. */
#ifndef OPE_EXT_H
#define OPE_EXT_H

#include <stddef.h>
#include <time.h>
#include <strophe.h>

#include "ns.h"
#include "stanza.h"

struct config;
struct config_row;
struct ext_runtime;

/* Which stanzas an extension's payload is accepted in. */
enum ext_kind {
	EXT_MESSAGE = 1 << 0,
	EXT_IQ_GET = 1 << 1,
	EXT_IQ_SET = 1 << 2,
};

/* What a handler sees of a request. Everything is borrowed for the call. */
struct ext_request {
	xmpp_ctx_t *ctx;
	xmpp_stanza_t *stanza;           /* the whole <message/> or <iq/> */
	xmpp_stanza_t *payload;          /* the child element that matched */
	enum ext_kind kind;              /* how it came */
	const struct config *cfg;
	time_t (*clock)(void);           /* UTC now, or -1; tests inject one */
	const struct ext_runtime *rt;    /* the running process, for admin
	                                    commands; NULL: not available */
	const char *outcome;             /* NULL, or how the action the
	                                    handler asked for ended (below) */
	int outcome_ok;                  /* whether it succeeded */
};

/* What a handler may ask the event loop to do before it answers, as the
 * signals do: the loop acts on it, then calls the handler again with
 * ext_request.outcome set to build the answer. */
enum ext_action {
	EXT_ACTION_NONE = 0,
	EXT_ACTION_RELOAD,     /* as SIGHUP */
	EXT_ACTION_RESTART,    /* as SIGUSR2: a takeover */
	EXT_ACTION_STOP,       /* as SIGTERM: drain and stop */
};

/* What a handler answers: a payload for an <iq type="result"/> (NULL for an
 * empty result) or an error condition. */
struct ext_reply {
	xmpp_stanza_t *payload;   /* new stanza, owned by the caller on return */
	enum stanza_cond cond;    /* STANZA_COND_NONE unless refusing */
	const char *text;         /* optional static text for the error */
	enum ext_action action;   /* EXT_ACTION_NONE, or do this first and
	                             ask again (payload must be NULL) */
};

/* Handlers are pure: they build the reply and never send. Return 0 (REPLY
 * filled) or -1 when out of memory. */
typedef int (*ext_handler_fn)(const struct ext_request *req,
			      struct ext_reply *reply);

struct ext {
	const char *name;        /* payload element name */
	const char *ns;          /* payload namespace */
	const char *feature;     /* disco#info feature to advertise, or NULL */
	unsigned kinds;          /* mask of enum ext_kind */
	ext_handler_fn handle;
	int guarded;             /* the access table and service passwords
	                            apply (dispatch decides before handle()) */
	/* The settings this extension owns, or NULL: rows written with
	 * config.h's CONFIG_ROW_* macros, stored in struct config. The
	 * engine puts them after the core rows, in registry order, for the
	 * file, the environment, reload and the generated docs alike. */
	const struct config_row *settings;
	size_t nsettings;
};

/* What the status command reports; filled by the runtime. Strings are
 * borrowed for the call. */
struct ext_status {
	long pid;
	double uptime_s;
	const char *instance;         /* the instance name (pool.h), or NULL */
	const char *link_state;       /* "up", "connecting", ... */
	const char *server;           /* "host:port" of the link, or NULL */
	double link_up_s;             /* for how long it is up; <0: not up */
	int tls;                      /* direct TLS */
	unsigned long requests;       /* stanzas handled since start */
	unsigned long refused;        /* error replies since start */
	size_t pending;               /* requests waiting for a password hash */
	size_t queue_bytes;           /* output queue */
	const char *links;            /* server.connect "all": every link,
	                                 "host:port state; ...", or NULL */
};

/* The running process as admin commands see it; tests pass fakes. */
struct ext_runtime {
	/* Fill OUT with the process's state now. */
	void (*status)(const struct ext_runtime *rt, struct ext_status *out);
	/* Clear the rate and password buckets of BARE (normalised bare
	 * JID). Returns 1 when it had any, 0 when it was not known. */
	int (*forgive)(const struct ext_runtime *rt, const char *bare);
	void *arg;
};

/* The payload attribute carrying the service password of a guarded
 * extension. Handlers never copy it into a reply. */
#define EXT_PASSWORD_ATTR "password"

/* XEP-0050 ad-hoc commands: one file each (ext/cmd_<name>.c), listed
 * once in registry.c, served by ext_commands to the admins. */
struct ext_command {
	const char *node;        /* "status" */
	const char *name;        /* human-readable, for disco#items */
	/* Build the completed (or input-asking) reply of a request: FORM is
	 * the submitted data form (jabber:x:data, type submit) or NULL.
	 * Same contract as ext_handler_fn; the payload is the <command/>
	 * reply built with the ext_command_* helpers below. */
	int (*run)(const struct ext_request *req, xmpp_stanza_t *form,
		   struct ext_reply *reply);
};

/* Helpers for commands (commands.c). A reply <command/> for REQ with
 * STATUS ("completed", "executing") and a sessionid; NULL when out of
 * memory. */
xmpp_stanza_t *ext_command_reply(const struct ext_request *req,
				 const char *status);
/* Add <note type=TYPE>TEXT</note> to CMD. Returns 0 or -1 (no memory). */
int ext_command_note(xmpp_stanza_t *cmd, const char *type, const char *text);
/* Add a data form of TYPE ("result", "form") with TITLE to CMD; returns
 * the <x/> (borrowed from CMD) or NULL when out of memory. */
xmpp_stanza_t *ext_form_add(xmpp_stanza_t *cmd, const char *type,
			    const char *title);
/* Add a field VAR (of TYPE, or NULL) with LABEL (or NULL) and VALUE (or
 * NULL: none) to form X. Returns 0 or -1 (no memory). */
int ext_form_field(xmpp_stanza_t *x, const char *var, const char *type,
		   const char *label, const char *value);
/* The whole of a command that asks the loop for ACTION: first the
 * request (REPLY->action), then, with REQ->outcome, a completed reply
 * whose note (info, or error when it failed) and "result" field say how
 * it ended. Returns 0 or -1 (no memory). */
int ext_command_act(const struct ext_request *req, enum ext_action action,
		    struct ext_reply *reply);
/* Ask for a JID: an "executing" reply with a form whose one field is
 * "jid", titled TITLE. Returns 0 or -1 (no memory). */
int ext_command_ask_jid(const struct ext_request *req, const char *title,
			struct ext_reply *reply);
/* The first value of field VAR in the submitted FORM (may be NULL), or
 * NULL; borrowed from FORM. */
const char *ext_form_value(xmpp_stanza_t *form, const char *var);

/* The extensions ope ships; each lives in its own ext/<name>.c and is
 * listed once in registry.c. */
extern const struct ext ext_example;
extern const struct ext ext_disco_info;
extern const struct ext ext_disco_items;
extern const struct ext ext_ping;
extern const struct ext ext_version;
extern const struct ext ext_time;
extern const struct ext ext_commands;

extern const struct ext_command ext_cmd_status;
extern const struct ext_command ext_cmd_reload;
extern const struct ext_command ext_cmd_restart;
extern const struct ext_command ext_cmd_stop;
extern const struct ext_command ext_cmd_who;
extern const struct ext_command ext_cmd_forgive;

/* The registry holds at most this many extensions (checked at build time). */
#define EXT_REGISTRY_MAX 16

/* Every registered extension, in registration order: *COUNT entries, static. */
const struct ext *const *ext_registry_list(size_t *count);

/* The disco#info features of the registered extensions, in registration
 * order (extensions without one are skipped): *COUNT static strings. */
const char *const *ext_registry_features(size_t *count);

/* Every registered command, in registration order: *COUNT entries. */
const struct ext_command *const *ext_registry_commands(size_t *count);

/* Whether FROM (a full or bare JID) is one of CFG's admins. */
int ext_commands_is_admin(const struct config *cfg, const char *from);

/* disco#items for the commands node: the commands for an admin, nothing
 * for anyone else. Same contract as ext_handler_fn. */
int ext_commands_items(const struct ext_request *req, struct ext_reply *reply);

#endif
