/* SPDX-License-Identifier: MIT */
/* config.h: ope-component's libconfig file: one table of settings drives schema, defaults, checks, reload and docs. */
#ifndef OPE_CONFIG_H
#define OPE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>
#include "log.h"
#include "ratelimit.h"
#include "xmlstream.h"

struct access_table;

/* Where ope-component looks when -c is not given. */
#define CONFIG_DEFAULT_PATH OPE_SYSCONFDIR "/ope/ope-component.conf"

/* One entry of server.hosts (or server.host and server.port). */
struct config_server {
	char *host;                 /* an IPv6 literal without its brackets */
	unsigned port;
};

/* The most links server.connect "all" keeps (metrics.h's
 * METRICS_LINKS_MAX). */
#define CONFIG_LINKS_MAX 16

/* The servers to try, in order (at least one). */
struct config_servers {
	struct config_server *list;
	size_t n;
	int derived;                /* built from server.host and server.port */
};

/* commands.admins: normalised bare JIDs (access_normalise()). */
struct config_admins {
	char **list;
	size_t n;
};

/* The whole configuration. Every field but `path` is described by one row
 * of the settings table in config_table.c or of an extension (its name,
 * default, bounds and doc live there, not here). Strings are owned by the struct and freed by
 * config_free(). Durations are in milliseconds. */
struct config {
	char *path;                 /* the file it was read from */

	char *server_host;          /* an IPv6 literal without its brackets */
	unsigned server_port;
	struct config_servers servers; /* server.hosts, else host and port */
	int connect_all;            /* server.connect "all": a link to each
	                               of servers (at most CONFIG_LINKS_MAX) */
	unsigned connect_timeout_ms;
	int tls_direct;             /* server.tls.mode "direct" */
	char *tls_ca_file;          /* NULL: the system's CAs */
	char *tls_name;             /* NULL: the host connected to */

	char *domain;
	char *secret;               /* component.secret, or the contents of
	                               component.secret_file */
	char *secret_file;          /* as written in the file; NULL if none */
	char *instance;             /* component.instance; NULL: the default
	                               (pool.h) */

	enum log_level log_level;
	int log_timestamps;
	enum log_format log_format;

	unsigned reconnect_initial_ms;
	unsigned reconnect_max_ms;

	char *service_name;
	int service_show_os;
	size_t max_payload;

	struct xmlstream_limits limits;  /* of what the server sends */
	size_t queue_max;           /* output queue high-water mark */

	unsigned liveness_idle_ms;  /* 0: no pings */
	unsigned liveness_timeout_ms;

	char *metrics_listen;       /* NULL: no HTTP endpoint */

	struct access_table *access; /* NULL: no access section, all allowed */
	int access_default;          /* enum access_action, as written */

	struct ratelimit_rate limit_sender;   /* per bare JID, every request */
	struct ratelimit_rate limit_total;    /* all senders together */
	struct ratelimit_rate limit_password; /* per bare JID, password hashes */
	struct ratelimit_rate limit_hashes;   /* all senders, password hashes */
	size_t limit_senders;                 /* senders remembered at once */
	unsigned limit_rule_failures;         /* wrong passwords a minute one
	                                         rule takes before backing off */
	unsigned limit_rule_backoff_ms;       /* its longest back-off delay */

	unsigned drain_quiet_ms;    /* drain on SIGTERM (drain.h) */
	unsigned drain_max_ms;
	unsigned drain_answer_ms;

	char *control_path;         /* takeover socket; NULL: see takeover.h */
	struct config_admins admins; /* who may run ad-hoc commands */
};

/* How a setting is stored in struct config. */
enum config_kind {
	CONFIG_STRING,   /* char *, owned */
	CONFIG_UINT,     /* unsigned, from an integer */
	CONFIG_SIZE,     /* size_t, from an integer */
	CONFIG_MS,       /* unsigned milliseconds, from seconds (int or decimal) */
	CONFIG_DOUBLE,   /* double, from a number */
	CONFIG_BOOL,     /* int 0/1 */
	CONFIG_ENUM,     /* int, from one of the row's names (a string) */
	CONFIG_CUSTOM,   /* parsed by the row's hook alone */
};

/* Row flags. */
#define CONFIG_RELOAD   1u  /* SIGHUP applies a new value at once */
#define CONFIG_REQUIRED 2u  /* no default: the file must give it */
#define CONFIG_SECRET   4u  /* never shown; wiped when freed */
#define CONFIG_UNCOMPARED 8u /* re-read on every reload, never reported
                                as changed (the access rules) */

struct config_loader;
struct config_row;

/* A row's hook. For CONFIG_CUSTOM rows it parses setting S (NULL: the file
 * does not give it, so apply the default) into CFG. For other kinds it
 * runs after the value was stored, to check or convert it (S NULL: the
 * default was stored). Returns 0, or -1 after config_fail(). */
typedef int (*config_hook_fn)(struct config_loader *ld,
			      const struct config_row *row,
			      const config_setting_t *s, struct config *cfg);

/* One name of a CONFIG_ENUM row and the value stored for it. A row's list
 * ends with { NULL, 0 }. */
struct config_enum {
	const char *name;
	int value;
};

/* A row's typed default; the member read is the one of its kind. */
union config_default {
	const char *s;          /* STRING, ENUM (a name), NULL: none */
	unsigned long long u;   /* UINT, SIZE */
	double d;               /* MS (seconds), DOUBLE */
	int b;                  /* BOOL */
};

/* One setting: everything the parser, the defaults, the range checks, the
 * reload and the generated documentation know about it. Write rows with
 * the CONFIG_ROW_* macros below, one row each. */
struct config_row {
	const char *group;      /* dotted group path: "server", "server.tls" */
	const char *name;       /* "port" */
	enum config_kind kind;
	int file_type;          /* CONFIG_CUSTOM: libconfig's CONFIG_TYPE_*
	                           expected in the file (0: any) */
	size_t offset;          /* offsetof(struct config, field) */
	size_t size;            /* sizeof the field */
	union config_default def;
	const char *def_text;   /* the default as written in the row, for
	                           the docs ("10.0", "true"); NULL: none */
	double min, max;        /* bounds for numbers (min > max: none) */
	const char *unit;       /* for range messages ("bytes"), or NULL */
	unsigned flags;         /* CONFIG_RELOAD, CONFIG_REQUIRED, ... */
	const struct config_enum *names; /* CONFIG_ENUM: the names taken */
	config_hook_fn hook;    /* see config_hook_fn, or NULL */
	void (*release)(void *field); /* CONFIG_CUSTOM: free what the field
	                                 owns, or NULL */
	/* CONFIG_CUSTOM: whether two fields hold the same value, for the
	 * reload's report; NULL: compared byte by byte, unless the row is
	 * CONFIG_UNCOMPARED. */
	int (*same)(const void *a, const void *b);
	/* CONFIG_RELOAD rows: the work a new value needs once a reload
	 * swapped it into the running CFG (called only when it changed), or
	 * NULL when readers pick it up from the struct. */
	void (*apply)(const struct config *cfg);
	const char *doc;        /* one line for docs and --help of settings */
};

/* Rows, one a setting: CONFIG_ROW_<KIND>(group, name, field of struct
 * config, typed default, [bounds,] flags, doc, optional extras), where the
 * extras are designated initializers: .hook = check_it, .apply = use_it,
 * .unit = "bytes". A numeric default is written as a literal (or a macro
 * for one); the docs show it as written. */
#define CONFIG_FIELD_(f) \
	.offset = offsetof(struct config, f), \
	.size = sizeof(((struct config *)0)->f)
#define CONFIG_TEXT_(x) #x
#define CONFIG_TEXT(x) CONFIG_TEXT_(x)
#define CONFIG_NO_BOUNDS_ .min = 1, .max = 0

/* A string; DEF is a string literal or NULL (no default). */
#define CONFIG_ROW_STRING(g, n, f, def_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_STRING, CONFIG_FIELD_(f), \
	  .def.s = def_, .def_text = def_, CONFIG_NO_BOUNDS_, .flags = fl, \
	  .doc = __VA_ARGS__ }
/* An unsigned int from an integer in [LO, HI]. */
#define CONFIG_ROW_UINT(g, n, f, def_, lo, hi, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_UINT, CONFIG_FIELD_(f), \
	  .def.u = def_, .def_text = CONFIG_TEXT(def_), .min = lo, .max = hi, \
	  .flags = fl, .doc = __VA_ARGS__ }
/* A size_t from an integer in [LO, HI] UNIT ("bytes"). */
#define CONFIG_ROW_SIZE(g, n, f, def_, lo, hi, unit_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_SIZE, CONFIG_FIELD_(f), \
	  .def.u = def_, .def_text = CONFIG_TEXT(def_), .min = lo, .max = hi, \
	  .unit = unit_, .flags = fl, .doc = __VA_ARGS__ }
/* Seconds in [LO, HI] (integer or decimal), stored as unsigned ms. */
#define CONFIG_ROW_SECONDS(g, n, f, def_, lo, hi, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_MS, CONFIG_FIELD_(f), \
	  .def.d = def_, .def_text = CONFIG_TEXT(def_), .min = lo, .max = hi, \
	  .unit = "s", .flags = fl, .doc = __VA_ARGS__ }
/* A double in [LO, HI] UNIT ("requests/s"). */
#define CONFIG_ROW_DOUBLE(g, n, f, def_, lo, hi, unit_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_DOUBLE, CONFIG_FIELD_(f), \
	  .def.d = def_, .def_text = CONFIG_TEXT(def_), .min = lo, .max = hi, \
	  .unit = unit_, .flags = fl, .doc = __VA_ARGS__ }
/* A boolean; DEF is true or false. */
#define CONFIG_ROW_BOOL(g, n, f, def_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_BOOL, CONFIG_FIELD_(f), \
	  .def.b = def_, .def_text = #def_, CONFIG_NO_BOUNDS_, .flags = fl, \
	  .doc = __VA_ARGS__ }
/* One of NAMES (a struct config_enum list), stored as its value in an
 * int-sized field; DEF is a name of the list. */
#define CONFIG_ROW_ENUM(g, n, f, names_, def_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_ENUM, CONFIG_FIELD_(f), \
	  .names = names_, .def.s = def_, .def_text = def_, \
	  CONFIG_NO_BOUNDS_, .flags = fl, .doc = __VA_ARGS__ }
/* Parsed by HOOK alone from a value of libconfig type FTYPE (0: any);
 * DEF_TEXT is the default the docs show, or NULL. Give .release and
 * .same when the field owns memory. */
#define CONFIG_ROW_CUSTOM(g, n, f, ftype, def_text_, hook_, fl, ...) \
	{ .group = g, .name = n, .kind = CONFIG_CUSTOM, .file_type = ftype, \
	  CONFIG_FIELD_(f), .def.s = def_text_, .def_text = def_text_, \
	  CONFIG_NO_BOUNDS_, .hook = hook_, .flags = fl, .doc = __VA_ARGS__ }

/* The settings table holds at most this many rows, extensions' included. */
#define CONFIG_ROWS_MAX 128

/* The settings table, in documentation order: the core rows, then each
 * registered extension's (ext.h), *N rows, static. */
const struct config_row *config_rows(size_t *n);

/* ROW's environment variable into BUF (size LEN, cut to fit): "OPE_", the
 * group and the name upper-cased, joined by '_', dots and dashes as '_'
 * ("OPE_LIMITS_SENDER_RATE"). */
void config_env_name(const struct config_row *row, char *buf, size_t len);

/* Write "FILE:LINE: message" for setting S (NULL: "PATH: message";
 * a setting from the environment: "OPE_VARIABLE: message") into the
 * loader's error buffer; for row hooks. Always returns -1. */
int config_fail(struct config_loader *ld, const config_setting_t *s,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fill CFG with every row's default (no domain, no secret); CFG must be
 * zeroed or freed. Returns 0, or -1 when out of memory. */
int config_defaults(struct config *cfg);

/* Read, check and apply PATH over the defaults into CFG (whose old contents
 * are overwritten, not freed), then the environment over both: each row's
 * variable (config_env_name()) replaces the file's setting. PATH NULL: the
 * environment alone (CFG->path stays NULL). A variable starting with
 * "OPE_<GROUP>_" for a group of the table that names no row, or that names
 * a secret row (only its _FILE form is taken), is an error; other OPE_
 * variables are left alone. On success returns 0 and CFG owns its
 * strings; free with config_free(). On any error returns -1, leaves CFG
 * zeroed and writes "PATH:LINE: what is wrong" (or "PATH: ..." when no
 * line applies, "OPE_VARIABLE: ..." for a variable's value) into ERR
 * (size ERRLEN). A relative secret_file or @include is taken from PATH's
 * directory (the working directory without a file). After a successful
 * load, warns through the log module when the file holding the secret is
 * readable by group or others. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* SIGHUP: read RUNNING->path (NULL: none) and the environment into a
 * fresh configuration and, only when it is valid, swap it into RUNNING in
 * place: rows flagged CONFIG_RELOAD take their new values; the others
 * keep the running ones (the stream was set up with them). Returns 0, or -1 with RUNNING untouched and ERR filled as
 * config_load() does. On success KEPT (size KEPTLEN) lists the settings
 * whose change waits for a restart ("server.port, component.domain"), or
 * is empty. Pointers into RUNNING taken before the call are invalid after
 * it; readers must go through the struct. */
int config_reload(struct config *running, char *err, size_t errlen,
		  char *kept, size_t keptlen);

/* For tests: config_load() reads ENVP ("NAME=value" strings, ended by
 * NULL; borrowed until the next call) instead of environ; NULL: environ
 * again. */
void config_use_environment(char *const *envp);

/* config_reload(), and CHANGED (size CHANGEDLEN) lists the settings that
 * changed and took effect ("limits.sender.rate, commands.admins"; the
 * access rules are not compared: they are always re-read), or is empty. */
int config_reload_changes(struct config *running, char *err, size_t errlen,
			  char *kept, size_t keptlen, char *changed,
			  size_t changedlen);

/* Free what CFG owns (secrets wiped) and zero it. Safe on a zeroed struct. */
void config_free(struct config *cfg);

#endif
