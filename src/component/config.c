/* SPDX-License-Identifier: MIT */
/* config.c: ope-component's settings table and the libconfig loader, checks and reload it drives. */
#include "build_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>

#include "access.h"
#include "config.h"
#include "jid.h"
#include "pwcheck.h"
#include "metrics.h"
#include "secretfile.h"
#include "util.h"

/* State of one config_load() call. */
struct config_loader {
	const char *path;
	char *dir;                  /* PATH's directory, for relative paths */
	config_t lc;
	mode_t conf_mode;           /* the config file's permission bits */
	char *err;
	size_t errlen;
	char warning[2 * PATH_MAX + 200];
};

/* The variables ope's other programs read that look like settings ones;
 * ope-component leaves them alone (README, "Settings from the environment"). */
static const char *const env_foreign[] = {
	"OPE_SERVICE_PASSWORD",   /* ope-client's service password */
};

static int hook_host(struct config_loader *, const struct config_row *,
		     const config_setting_t *, struct config *);
static int hook_domain(struct config_loader *, const struct config_row *,
		       const config_setting_t *, struct config *);
static int hook_secret(struct config_loader *, const struct config_row *,
		       const config_setting_t *, struct config *);
static int hook_secret_file(struct config_loader *, const struct config_row *,
			    const config_setting_t *, struct config *);
static int hook_log_level(struct config_loader *, const struct config_row *,
			  const config_setting_t *, struct config *);
static int hook_log_format(struct config_loader *, const struct config_row *,
			   const config_setting_t *, struct config *);
static int hook_not_empty(struct config_loader *, const struct config_row *,
			  const config_setting_t *, struct config *);
static int hook_hosts(struct config_loader *, const struct config_row *,
		      const config_setting_t *, struct config *);
static void release_servers(void *field);
static int same_servers(const void *a, const void *b);
/* Without server.hosts the one server is server.host and server.port. */
static int servers_from_host(struct config *cfg)
{
	struct config_servers *ss = &cfg->servers;

	if (ss->n > 0)
		return 0;
	ss->list = calloc(1, sizeof(*ss->list));
	if (ss->list == NULL ||
	    (ss->list[0].host = strdup(cfg->server_host)) == NULL) {
		free(ss->list);
		ss->list = NULL;
		return -1;
	}
	ss->list[0].port = cfg->server_port;
	ss->n = 1;
	ss->derived = 1;
	return 0;
}

static int hook_tls_mode(struct config_loader *, const struct config_row *,
			 const config_setting_t *, struct config *);
static int hook_tls_ca_file(struct config_loader *, const struct config_row *,
			    const config_setting_t *, struct config *);
static int hook_tls_name(struct config_loader *, const struct config_row *,
			 const config_setting_t *, struct config *);
static int hook_access_default(struct config_loader *, const struct config_row *,
			       const config_setting_t *, struct config *);
static int hook_access_rules(struct config_loader *, const struct config_row *,
			     const config_setting_t *, struct config *);
static void release_access(void *field);
static int hook_hashes_total(struct config_loader *, const struct config_row *,
			     const config_setting_t *, struct config *);
static int hook_metrics_listen(struct config_loader *, const struct config_row *,
			       const config_setting_t *, struct config *);
static int hook_control_path(struct config_loader *, const struct config_row *,
			     const config_setting_t *, struct config *);
static int hook_admins(struct config_loader *, const struct config_row *,
		       const config_setting_t *, struct config *);
static void release_admins(void *field);
static int same_admins(const void *a, const void *b);

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define NO_BOUNDS 1, 0
#define STR_(x) #x
#define STR(x) STR_(x)

/* Every setting, once. The parser, the defaults, the range errors, the
 * reload and the generated documentation all read these rows; adding a
 * setting is one row here plus its use. */
static const struct config_row rows[] = {
	{ "server", "host", CONFIG_STRING, 0, FIELD(server_host), "127.0.0.1",
	  NO_BOUNDS, NULL, 0, hook_host, NULL,
	  "the server's component listener: a host name, an IPv4 or an IPv6 "
	  "address (\"::1\" or \"[::1]\")" },
	{ "server", "port", CONFIG_UINT, 0, FIELD(server_port), "5347",
	  1, 65535, NULL, 0, NULL, NULL,
	  "TCP port of the server's component listener" },
	{ "server", "hosts", CONFIG_CUSTOM, 0, FIELD(servers), NULL,
	  NO_BOUNDS, NULL, 0, hook_hosts, release_servers,
	  "instead of host and port: several listeners tried in order, "
	  "( \"10.0.0.1:5347\", \"[2001:db8::2]:5347\", \"xmpp.example.org\" ); "
	  "a missing port is server.port's default" },
	{ "server", "connect_timeout", CONFIG_MS, 0, FIELD(connect_timeout_ms),
	  "10.0", 0.1, 600, "s", 0, NULL, NULL,
	  "seconds allowed for looking the host name up, for each address's "
	  "TCP connect, and again for TLS, the stream header and the "
	  "handshake" },
	{ "server.tls", "mode", CONFIG_CUSTOM, CONFIG_TYPE_STRING,
	  FIELD(tls_direct), "none", NO_BOUNDS, NULL, 0, hook_tls_mode, NULL,
	  "\"none\" (plain TCP) or \"direct\" (TLS from the first byte, as "
	  "ejabberd_service's tls: true)" },
	{ "server.tls", "ca_file", CONFIG_STRING, 0, FIELD(tls_ca_file), NULL,
	  NO_BOUNDS, NULL, 0, hook_tls_ca_file, NULL,
	  "PEM file of the CAs that may sign the server's certificate "
	  "(relative to the config file's directory); default: the system's CAs" },
	{ "server.tls", "name", CONFIG_STRING, 0, FIELD(tls_name), NULL,
	  NO_BOUNDS, NULL, 0, hook_tls_name, NULL,
	  "the name the server's certificate must carry, also sent as SNI; "
	  "default: the host connected to" },
	{ "component", "domain", CONFIG_STRING, 0, FIELD(domain), NULL,
	  NO_BOUNDS, NULL, CONFIG_REQUIRED, hook_domain, NULL,
	  "the component's XMPP domain, e.g. \"ope.example.org\"" },
	{ "component", "secret", CONFIG_STRING, 0, FIELD(secret), NULL,
	  NO_BOUNDS, NULL, CONFIG_SECRET, hook_secret, NULL,
	  "the shared secret (Prosody's component_secret, ejabberd's "
	  "password); give this or secret_file" },
	{ "component", "secret_file", CONFIG_STRING, 0, FIELD(secret_file), NULL,
	  NO_BOUNDS, NULL, 0, hook_secret_file, NULL,
	  "a file holding the secret on one line (relative to the config "
	  "file's directory)" },
	{ "log", "level", CONFIG_CUSTOM, CONFIG_TYPE_STRING, FIELD(log_level),
	  "info", NO_BOUNDS, NULL, CONFIG_RELOAD, hook_log_level, NULL,
	  "error, warning, info or debug; -d and -q override it" },
	{ "log", "timestamps", CONFIG_BOOL, 0, FIELD(log_timestamps), "true",
	  NO_BOUNDS, NULL, CONFIG_RELOAD, NULL, NULL,
	  "ISO 8601 UTC time stamps on log lines" },
	{ "log", "format", CONFIG_CUSTOM, CONFIG_TYPE_STRING, FIELD(log_format),
	  "text", NO_BOUNDS, NULL, CONFIG_RELOAD, hook_log_format, NULL,
	  "\"text\" (one line each, as ever), \"json\" (one object a line: "
	  "ts, level, pid, msg and the line's fields such as jid, rule, link; "
	  "to the journal with those fields when stderr is the journal) or "
	  "\"journal\" (always to the journal, with its fields)" },
	{ "reconnect", "initial", CONFIG_MS, 0, FIELD(reconnect_initial_ms),
	  "1.0", 0.001, 3600, "s", 0, NULL, NULL,
	  "first reconnect delay in seconds (doubling, with up to 25 % jitter)" },
	{ "reconnect", "maximum", CONFIG_MS, 0, FIELD(reconnect_max_ms),
	  "60.0", 0.001, 3600, "s", 0, NULL, NULL,
	  "longest reconnect delay in seconds" },
	{ "service", "name", CONFIG_STRING, 0, FIELD(service_name), "ope",
	  NO_BOUNDS, NULL, CONFIG_RELOAD, hook_not_empty, NULL,
	  "the service discovery identity's name (XEP-0030)" },
	{ "service", "show_os", CONFIG_BOOL, 0, FIELD(service_show_os), "true",
	  NO_BOUNDS, NULL, CONFIG_RELOAD, NULL, NULL,
	  "include the operating system in software version replies (XEP-0092)" },
	{ "service", "max_payload", CONFIG_SIZE, 0, FIELD(max_payload), "65536",
	  256, 16777216, "bytes", CONFIG_RELOAD, NULL, NULL,
	  "bytes above which a request gets policy-violation" },
	/* Applied at each new connection. Upper bounds keep libstrophe's
	 * recursive and quadratic paths (release, append, attributes) cheap:
	 * xmlstream.h's XMLSTREAM_MAX_*. */
	{ "limits", "stanza_bytes", CONFIG_SIZE, 0, FIELD(limits.stanza_bytes),
	  STR(XMLSTREAM_DEFAULT_STANZA_BYTES), 1024, 16777216, "bytes", 0,
	  NULL, NULL,
	  "bytes of one stanza from the server; a bigger one is skipped whole" },
	{ "limits", "depth", CONFIG_UINT, 0, FIELD(limits.depth),
	  STR(XMLSTREAM_DEFAULT_DEPTH), 2, XMLSTREAM_MAX_DEPTH, NULL, 0, NULL, NULL,
	  "element nesting in one stanza (the stanza itself is 1)" },
	{ "limits", "children", CONFIG_UINT, 0, FIELD(limits.children),
	  STR(XMLSTREAM_DEFAULT_CHILDREN), 1, XMLSTREAM_MAX_CHILDREN, NULL, 0, NULL, NULL,
	  "child elements of one element" },
	{ "limits", "elements", CONFIG_UINT, 0, FIELD(limits.elements),
	  STR(XMLSTREAM_DEFAULT_ELEMENTS), 1, 1048576, NULL, 0, NULL, NULL,
	  "elements in one stanza, the stanza included" },
	{ "limits", "attributes", CONFIG_UINT, 0, FIELD(limits.attrs),
	  STR(XMLSTREAM_DEFAULT_ATTRS), 1, XMLSTREAM_MAX_ATTRS, NULL, 0, NULL, NULL,
	  "attributes of one element (namespace declarations not counted)" },
	{ "limits", "attribute_bytes", CONFIG_SIZE, 0, FIELD(limits.attr_bytes),
	  STR(XMLSTREAM_DEFAULT_ATTR_BYTES), 16, 16777216, "bytes", 0,
	  NULL, NULL, "bytes of one attribute value" },
	{ "limits", "text_bytes", CONFIG_SIZE, 0, FIELD(limits.text_bytes),
	  STR(XMLSTREAM_DEFAULT_TEXT_BYTES), 16, 16777216, "bytes", 0,
	  NULL, NULL, "bytes of text directly inside one element" },
	{ "limits", "output_queue", CONFIG_SIZE, 0, FIELD(queue_max), "4194304",
	  65536, 1073741824, "bytes", 0, NULL, NULL,
	  "replies waiting for the server above which ope stops reading "
	  "requests until the server reads again; if it takes nothing for "
	  "1 s meanwhile, ope reads on and answers resource-constraint, up "
	  "to 4 times this" },
	{ "liveness", "idle", CONFIG_MS, 0, FIELD(liveness_idle_ms), "60.0",
	  0, 86400, "s", 0, NULL, NULL,
	  "seconds of silence from the server before ope pings it (XEP-0199); "
	  "0 turns pings off" },
	{ "liveness", "timeout", CONFIG_MS, 0, FIELD(liveness_timeout_ms),
	  "20.0", 0.1, 3600, "s", 0, NULL, NULL,
	  "seconds to wait for any answer to that ping before reconnecting" },
	{ "access", "default", CONFIG_CUSTOM, CONFIG_TYPE_STRING,
	  FIELD(access_default), "deny", NO_BOUNDS, NULL, CONFIG_RELOAD,
	  hook_access_default, NULL,
	  "\"allow\" or \"deny\": what a sender that matches no rule gets "
	  "(without an access section everyone is allowed)" },
	{ "access", "rules", CONFIG_CUSTOM, CONFIG_TYPE_LIST, FIELD(access),
	  NULL, NO_BOUNDS, NULL, CONFIG_RELOAD, hook_access_rules,
	  release_access,
	  "( { match = \"...\"; action = \"allow\"|\"deny\"; [password = "
	  "\"$y$...\";] }, ... ): tried in order, the first match wins" },
	{ "limits.sender", "rate", CONFIG_DOUBLE, 0, FIELD(limit_sender.rate),
	  "20.0", 0, 1e9, "requests/s", CONFIG_RELOAD, NULL, NULL,
	  "requests a second one bare JID may make (0: no limit)" },
	{ "limits.sender", "burst", CONFIG_DOUBLE, 0, FIELD(limit_sender.burst),
	  "40", 1, 1e9, "requests", CONFIG_RELOAD, NULL, NULL,
	  "requests one bare JID may make at once before its rate applies" },
	{ "limits.total", "rate", CONFIG_DOUBLE, 0, FIELD(limit_total.rate),
	  "50000.0", 0, 1e9, "requests/s", CONFIG_RELOAD, NULL, NULL,
	  "requests a second from everyone together (0: no limit)" },
	{ "limits.total", "burst", CONFIG_DOUBLE, 0, FIELD(limit_total.burst),
	  "100000", 1, 1e9, "requests", CONFIG_RELOAD, NULL, NULL,
	  "requests from everyone at once before the total rate applies" },
	{ "limits.password", "rate", CONFIG_DOUBLE, 0,
	  FIELD(limit_password.rate), "0.2", 0, 1e6, "checks/s", CONFIG_RELOAD,
	  NULL, NULL,
	  "password checks a second one bare JID may cause (only new or "
	  "wrong passwords are checked; 0: no limit)" },
	{ "limits.password", "burst", CONFIG_DOUBLE, 0,
	  FIELD(limit_password.burst), "3", 1, 1e6, "checks", CONFIG_RELOAD,
	  NULL, NULL, "password checks one bare JID may cause at once" },
	{ "limits.password", "total", CONFIG_DOUBLE, 0,
	  FIELD(limit_hashes.rate), "2.0", 0, 1e6, "checks/s", CONFIG_RELOAD,
	  hook_hashes_total, NULL,
	  "password checks a second for everyone together, each a hash of up "
	  "to 250 ms on a worker thread (must be above 0)" },
	{ "limits.password", "rule_failures", CONFIG_UINT, 0,
	  FIELD(limit_rule_failures), "10", 1, 1000000, "failures",
	  CONFIG_RELOAD, NULL, NULL,
	  "wrong passwords a minute one rule's password takes, from everyone "
	  "together, before its checks back off: one at a time, 1 s apart, "
	  "doubling with each further wrong one" },
	{ "limits.password", "rule_backoff", CONFIG_MS, 0,
	  FIELD(limit_rule_backoff_ms), "60.0", 1, 86400, "s", CONFIG_RELOAD,
	  NULL, NULL,
	  "the longest wait, in seconds, between two checks of a backing-off "
	  "rule's password (senders whose password was verified before are "
	  "never held up)" },
	{ "limits", "senders", CONFIG_SIZE, 0, FIELD(limit_senders), "100000",
	  1, 1e8, "senders", 0, NULL, NULL,
	  "most senders whose rates are tracked at once; the least recently "
	  "seen are forgotten first" },
	{ "metrics", "listen", CONFIG_STRING, 0, FIELD(metrics_listen), NULL,
	  NO_BOUNDS, NULL, 0, hook_metrics_listen, NULL,
	  "where to serve /metrics and /health over HTTP: \"127.0.0.1:9347\", "
	  "\"[::1]:9347\" or a port (on 127.0.0.1); unset: no endpoint" },
	{ "drain", "quiet", CONFIG_MS, 0, FIELD(drain_quiet_ms), "0.5",
	  0.01, 60, "s", CONFIG_RELOAD, NULL, NULL,
	  "on SIGTERM behind ejabberd with mod_ope_drain: close once no "
	  "request came for this many seconds" },
	{ "drain", "maximum", CONFIG_MS, 0, FIELD(drain_max_ms), "10.0",
	  0.1, 3600, "s", CONFIG_RELOAD, NULL, NULL,
	  "the longest a drain on SIGTERM lasts, in seconds" },
	{ "drain", "answer", CONFIG_MS, 0, FIELD(drain_answer_ms), "1.0",
	  0.05, 60, "s", CONFIG_RELOAD, NULL, NULL,
	  "seconds to wait for mod_ope_drain's answer before closing as "
	  "without it (with a warning)" },
	{ "control", "path", CONFIG_STRING, 0, FIELD(control_path), NULL,
	  NO_BOUNDS, NULL, 0, hook_control_path, NULL,
	  "the unix socket (mode 0600; only our uid or root may use it, "
	  "checked both ways) a new ope-component takes the link over "
	  "through (SIGUSR2, --takeover); keep its directory private (0700, "
	  "never /tmp); unset: $RUNTIME_DIRECTORY/control.sock under systemd, "
	  "else none" },
	{ "commands", "admins", CONFIG_CUSTOM, CONFIG_TYPE_LIST, FIELD(admins),
	  NULL, NO_BOUNDS, NULL, CONFIG_RELOAD, hook_admins, release_admins,
	  "( \"admin@example.org\", ... ): the bare JIDs that may list and run "
	  "the XEP-0050 ad-hoc commands (status, reload, restart, stop, who, "
	  "forgive); empty: no command is offered to anyone" },
};

const struct config_row *config_rows(size_t *n)
{
	*n = ARRAY_SIZE(rows);
	return rows;
}

void config_env_name(const struct config_row *row, char *buf, size_t len)
{
	size_t o = 0;
	const char *parts[2] = { row->group, row->name };
	int i;

	if (len == 0)
		return;
	o = (size_t)snprintf(buf, len, "OPE_");
	for (i = 0; i < 2 && o < len; i++) {
		const char *p = parts[i];

		if (*p == '\0')
			continue;
		if (o > 4 && o + 1 < len)
			buf[o++] = '_';
		for (; *p && o + 1 < len; p++)
			buf[o++] = *p == '.' || *p == '-' ? '_' :
				   (char)toupper((unsigned char)*p);
	}
	buf[o < len ? o : len - 1] = '\0';
}

/* The row whose variable set S or the group S lies in, or NULL when S
 * came from the file. Settings made from the environment carry their row
 * as libconfig's per-setting hook pointer. */
static const struct config_row *env_row_of(const config_setting_t *s)
{
	for (; s != NULL; s = config_setting_parent(s))
		if (config_setting_get_hook(s) != NULL)
			return config_setting_get_hook(s);
	return NULL;
}

/* Where S was given, for messages: "FILE:LINE", or the variable's name. */
static void where_of(struct config_loader *ld, const config_setting_t *s,
		     char *buf, size_t len)
{
	const struct config_row *row = env_row_of(s);

	if (row != NULL)
		config_env_name(row, buf, len);
	else
		snprintf(buf, len, "%s:%u", config_setting_source_file(s) ?
			 config_setting_source_file(s) : ld->path,
			 (unsigned)config_setting_source_line(s));
}

/* "PREFIX: message" into the loader's error buffer. */
static int vfail(struct config_loader *ld, const char *prefix,
		 const char *fmt, va_list ap)
{
	int n;

	if (ld->errlen == 0)
		return -1;
	n = snprintf(ld->err, ld->errlen, "%s: ", prefix);
	if (n < 0 || (size_t)n >= ld->errlen)
		return -1;
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	return -1;
}

int config_fail(struct config_loader *ld, const config_setting_t *s,
		const char *fmt, ...)
{
	char where[PATH_MAX + 16];
	va_list ap;

	if (s != NULL && (env_row_of(s) != NULL ||
			  config_setting_source_line(s) > 0))
		where_of(ld, s, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "%s", ld->path);
	va_start(ap, fmt);
	vfail(ld, where, fmt, ap);
	va_end(ap);
	return -1;
}

/* "OPE_NAME: message", for a variable no setting was made from yet. */
static int env_fail(struct config_loader *ld, const char *name,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int env_fail(struct config_loader *ld, const char *name,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ld, name, fmt, ap);
	va_end(ap);
	return -1;
}

const config_setting_t *config_lookup_setting(struct config_loader *ld,
					      const char *path)
{
	return config_lookup(&ld->lc, path);
}

const char *config_loader_dir(const struct config_loader *ld)
{
	return ld->dir;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a decimal number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	default: return "an unknown type";
	}
}

/* What a row wants in the file, as its type error says it. */
static const char *wanted_name(const struct config_row *row)
{
	switch (row->kind) {
	case CONFIG_STRING: return "a string in double quotes";
	case CONFIG_UINT:
	case CONFIG_SIZE: return "an integer";
	case CONFIG_MS:
	case CONFIG_DOUBLE: return "a number";
	case CONFIG_BOOL: return "a boolean (true or false)";
	case CONFIG_CUSTOM: break;
	}
	switch (row->file_type) {
	case CONFIG_TYPE_STRING: return "a string in double quotes";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_BOOL: return "a boolean (true or false)";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	default: return "a value";
	}
}

static int type_matches(const struct config_row *row, const config_setting_t *s)
{
	int t = config_setting_type(s);

	switch (row->kind) {
	case CONFIG_STRING: return t == CONFIG_TYPE_STRING;
	case CONFIG_UINT:
	case CONFIG_SIZE: return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case CONFIG_MS:
	case CONFIG_DOUBLE: return config_setting_is_number(s);
	case CONFIG_BOOL: return t == CONFIG_TYPE_BOOL;
	case CONFIG_CUSTOM: break;
	}
	if (row->file_type == 0)
		return 1;
	if (row->file_type == CONFIG_TYPE_INT || row->file_type == CONFIG_TYPE_INT64)
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	if (row->file_type == CONFIG_TYPE_FLOAT)
		return config_setting_is_number(s);
	return t == row->file_type;
}

/* True when PATH ("server", "server.tls") is a group some row lives in or
 * under. */
static int group_known(const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (strncmp(rows[i].group, path, n) == 0 &&
		    (rows[i].group[n] == '\0' || rows[i].group[n] == '.'))
			return 1;
	return 0;
}

static const struct config_row *row_find(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (strcmp(group, rows[i].group) == 0 &&
		    strcmp(name, rows[i].name) == 0)
			return &rows[i];
	return NULL;
}

/* Call FN(NAME, ARG) once for each name known directly inside group PATH
 * ("" for the top level): its settings, then its subgroups, in table
 * order. Stops and returns 1 when FN does. */
static int each_child(const char *path, int (*fn)(const char *, size_t, void *),
		      void *arg)
{
	size_t i, j, n = strlen(path);

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (n > 0 && strcmp(rows[i].group, path) == 0 &&
		    fn(rows[i].name, strlen(rows[i].name), arg))
			return 1;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *g = rows[i].group, *sub, *end;
		size_t len;
		int seen = 0;

		if (n > 0 && (strncmp(g, path, n) != 0 || g[n] != '.'))
			continue;
		sub = n > 0 ? g + n + 1 : g;
		end = strchr(sub, '.');
		len = end ? (size_t)(end - sub) : strlen(sub);
		/* Each subgroup once, at its first row. */
		for (j = 0; j < i && !seen; j++) {
			const char *h = rows[j].group;

			if (n > 0 && (strncmp(h, path, n) != 0 || h[n] != '.'))
				continue;
			h = n > 0 ? h + n + 1 : h;
			seen = strncmp(h, sub, len) == 0 &&
			       (h[len] == '\0' || h[len] == '.');
		}
		if (!seen && fn(sub, len, arg))
			return 1;
	}
	return 0;
}

struct near_search {
	const char *typed;
	char found[64];
};

/* Edit distance counting a transposition as one edit (optimal string
 * alignment); names longer than 39 bytes count as far from everything. */
static size_t edit_distance(const char *a, const char *b, size_t lb)
{
	size_t la = strlen(a), i, j;
	size_t d[40][40];

	if (la >= 40 || lb >= 40)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* A near miss: few edits relative to the length of the known name. */
static int near_fn(const char *name, size_t len, void *arg)
{
	struct near_search *ns = arg;

	if (edit_distance(ns->typed, name, len) > (len <= 4 ? 1u : 2u) ||
	    len >= sizeof(ns->found))
		return 0;
	memcpy(ns->found, name, len);
	ns->found[len] = '\0';
	return 1;
}

struct name_list {
	char text[512];
	size_t used;
};

static int list_fn(const char *name, size_t len, void *arg)
{
	struct name_list *nl = arg;
	int n = snprintf(nl->text + nl->used, sizeof(nl->text) - nl->used,
			 "%s%.*s", nl->used ? ", " : "", (int)len, name);

	if (n > 0 && nl->used + (size_t)n < sizeof(nl->text))
		nl->used += (size_t)n;
	return 0;
}

/* Report an unknown setting NAME inside group PATH ("" for the top level),
 * with the closest known name or, failing that, the names known there. */
static int fail_unknown(struct config_loader *ld, const config_setting_t *s,
			const char *path, const char *name)
{
	struct near_search ns = { .typed = name };
	struct name_list nl = { .used = 0 };
	const char *dot = *path ? "." : "";
	size_t i;

	nl.text[0] = '\0';
	if (each_child(path, near_fn, &ns))
		return config_fail(ld, s, "unknown setting '%s%s%s' (did you "
				   "mean '%s%s%s'?)", path, dot, name, path,
				   dot, ns.found);
	/* A setting put in the wrong group (or at the top level). */
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (strcmp(name, rows[i].name) == 0)
			return config_fail(ld, s, "unknown setting '%s%s%s' "
					   "(did you mean '%s.%s'?)", path, dot,
					   name, rows[i].group, rows[i].name);
	each_child(path, list_fn, &nl);
	if (*path == '\0')
		return config_fail(ld, s, "unknown setting '%s' (known groups: "
				   "%s)", name, nl.text);
	return config_fail(ld, s, "unknown setting '%s.%s' (known in %s: %s)",
			   path, name, path, nl.text);
}

/* Reject unknown names and wrong types in group G (at PATH, "" for the
 * root), in file order. */
static int check_group(struct config_loader *ld, const config_setting_t *g,
		       const char *path)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct config_row *row = row_find(path, name);
		char sub[128];

		if (row != NULL) {
			if (!type_matches(row, s))
				return config_fail(ld, s, "%s.%s must be %s, not %s",
						   path, name, wanted_name(row),
						   type_name(s));
			continue;
		}
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", path,
				     *path ? "." : "", name) >= sizeof(sub) ||
		    !group_known(sub))
			return fail_unknown(ld, s, path, name);
		if (!config_setting_is_group(s))
			return config_fail(ld, s, "'%s' must be a group { ... }, "
					   "not %s", sub, type_name(s));
		if (check_group(ld, s, sub) < 0)
			return -1;
	}
	return 0;
}

/* Queue a warning line; config_load() logs them only when the load
 * succeeds. One that does not fit is cut. */
__attribute__((format(printf, 2, 3)))
static void add_warning(struct config_loader *ld, const char *fmt, ...)
{
	size_t used = strlen(ld->warning);
	va_list ap;

	if (used > 0 && used + 1 < sizeof(ld->warning))
		ld->warning[used++] = '\n';
	if (used + 1 >= sizeof(ld->warning))
		return;
	va_start(ap, fmt);
	vsnprintf(ld->warning + used, sizeof(ld->warning) - used, fmt, ap);
	va_end(ap);
}

/* ---- settings from the environment ----------------------------------- */

extern char **environ;

/* config_use_environment(): what to read instead of environ, or NULL. */
static char *const *env_override;

void config_use_environment(char *const *envp)
{
	env_override = envp;
}

/* When a variable gives one of two settings that may not be given
 * together, the file's other one gives way. */
static const char *const env_replaces[][2] = {
	{ "component.secret_file", "component.secret" },
	{ "server.hosts", "server.host" },
	{ "server.hosts", "server.port" },
	{ "server.host", "server.hosts" },
	{ "server.port", "server.hosts" },
};

/* True when NAME is one of ours to check: it starts with OPE_ and a
 * settings group ("OPE_LIMITS_...") and no other ope program reads it. */
static int env_checked(const char *name)
{
	char prefix[80];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(env_foreign); i++)
		if (strcmp(name, env_foreign[i]) == 0)
			return 0;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct config_row top = { .group = "", .name = "" };
		char group[64];
		size_t n = strcspn(rows[i].group, ".");

		/* "OPE_" and the top group, upper-cased, then '_'. */
		snprintf(group, sizeof(group), "%.*s", (int)n, rows[i].group);
		top.name = group;
		config_env_name(&top, prefix, sizeof(prefix) - 1);
		strcat(prefix, "_");
		if (n > 0 && strncmp(name, prefix, strlen(prefix)) == 0)
			return 1;
	}
	return 0;
}

/* An unknown OPE_<GROUP>_ variable NAME: the nearest known one, or those
 * of its group. */
static int env_unknown(struct config_loader *ld, const char *name)
{
	struct name_list nl = { .used = 0 };
	char var[80];
	size_t i, best = 99, at = 0, glen = strcspn(name + 4, "_") + 5;

	nl.text[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t d;

		config_env_name(&rows[i], var, sizeof(var));
		d = edit_distance(name + 4, var + 4, strlen(var + 4));
		if (d < best) {
			best = d;
			at = i;
		}
		if (strncmp(var, name, glen) == 0)
			list_fn(var, strlen(var), &nl);
	}
	config_env_name(&rows[at], var, sizeof(var));
	if (best <= (strlen(var + 4) <= 4 ? 1u : 2u))
		return env_fail(ld, name, "unknown setting variable (did you mean "
				"%s?)", var);
	return env_fail(ld, name, "unknown setting variable (known: %s)",
			nl.text);
}

static int env_int(const char *v, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	return *v != '\0' && !isspace((unsigned char)*v) && *end == '\0' &&
	       errno == 0 ? 0 : -1;
}

static int env_double(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return *v != '\0' && !isspace((unsigned char)*v) && *end == '\0' &&
	       errno == 0 ? 0 : -1;
}

static int env_bool(const char *v, int *out)
{
	static const char *const words[] = { "false", "no", "off", "0",
					     "true", "yes", "on", "1" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(v, words[i]) == 0) {
			*out = i >= 4;
			return 0;
		}
	return -1;
}

/* Copy SRC as NAME (NULL in a list or array) into PARENT. NULL when out of
 * memory. */
static config_setting_t *copy_setting(config_setting_t *parent,
				      const char *name,
				      const config_setting_t *src)
{
	int type = config_setting_type(src), i, ok = CONFIG_TRUE;
	config_setting_t *d = config_setting_add(parent, name, type);

	if (d == NULL)
		return NULL;
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		ok = config_setting_set_int64(d, config_setting_get_int64(src));
		break;
	case CONFIG_TYPE_FLOAT:
		ok = config_setting_set_float(d, config_setting_get_float(src));
		break;
	case CONFIG_TYPE_STRING:
		ok = config_setting_set_string(d, config_setting_get_string(src));
		break;
	case CONFIG_TYPE_BOOL:
		ok = config_setting_set_bool(d, config_setting_get_bool(src));
		break;
	default:
		for (i = 0; i < config_setting_length(src); i++) {
			const config_setting_t *e =
				config_setting_get_elem(src, (unsigned)i);

			if (copy_setting(d, config_setting_is_group(src) ?
					 config_setting_name(e) : NULL, e) == NULL)
				return NULL;
		}
	}
	return ok == CONFIG_TRUE ? d : NULL;
}

/* A list or array VALUE for ROW: in the file's syntax when it starts with
 * '(' or '[', else strings separated by commas. */
static config_setting_t *env_aggregate(struct config_loader *ld,
				       const struct config_row *row,
				       const char *var, config_setting_t *parent,
				       const char *value)
{
	const char *v = value + strspn(value, " \t\n");
	int type = row->file_type == CONFIG_TYPE_ARRAY ? CONFIG_TYPE_ARRAY :
		   CONFIG_TYPE_LIST;
	config_setting_t *d = NULL;

	if (*v == '(' || *v == '[' || *v == '{') {
		config_t tmp;
		size_t n = strlen(v) + 8;
		char *text = malloc(n);

		if (text == NULL) {
			config_fail(ld, NULL, "out of memory");
			return NULL;
		}
		snprintf(text, n, "v = %s;", v);
		config_init(&tmp);
		if (config_read_string(&tmp, text) != CONFIG_TRUE)
			env_fail(ld, var, "syntax error in the value: %s (write "
				 "it as in the file, e.g. ( \"a\", \"b\" ))",
				 config_error_text(&tmp) ? config_error_text(&tmp)
							 : "syntax error");
		else if ((d = copy_setting(parent, row->name,
					   config_lookup(&tmp, "v"))) == NULL)
			config_fail(ld, NULL, "out of memory");
		config_destroy(&tmp);
		free(text);
		return d;
	}
	if ((d = config_setting_add(parent, row->name, type)) == NULL)
		goto oom;
	while (*v) {
		size_t n = strcspn(v, ","), len = n;
		char *item;
		config_setting_t *e;

		while (len > 0 && strchr(" \t\n", v[len - 1]))
			len--;
		if (len > 0) {
			if ((item = strndup(v, len)) == NULL)
				goto oom;
			e = config_setting_add(d, NULL, CONFIG_TYPE_STRING);
			if (e == NULL ||
			    config_setting_set_string(e, item) != CONFIG_TRUE) {
				free(item);
				goto oom;
			}
			free(item);
		}
		v += n + (v[n] == ',');
		v += strspn(v, " \t\n");
	}
	return d;
oom:
	config_fail(ld, NULL, "out of memory");
	return NULL;
}

/* The group at dotted PATH, made when missing. NULL after config_fail(). */
static config_setting_t *env_group(struct config_loader *ld, const char *path)
{
	config_setting_t *g = config_root_setting(&ld->lc);
	const char *p = path;
	char part[64];

	while (*p) {
		size_t n = strcspn(p, ".");
		config_setting_t *m;

		if (n >= sizeof(part))
			n = sizeof(part) - 1;
		memcpy(part, p, n);
		part[n] = '\0';
		m = config_setting_get_member(g, part);
		if (m != NULL && !config_setting_is_group(m)) {
			config_fail(ld, m, "'%s' must be a group { ... }, not %s",
				    part, type_name(m));
			return NULL;
		}
		if (m == NULL &&
		    (m = config_setting_add(g, part, CONFIG_TYPE_GROUP)) == NULL) {
			config_fail(ld, NULL, "out of memory");
			return NULL;
		}
		g = m;
		p += n + (p[n] == '.');
	}
	return g;
}

/* Variable VAR=VALUE for ROW: a setting in place of the file's, marked as
 * the variable's (config_fail() names it). */
static int env_set(struct config_loader *ld, const struct config_row *row,
		   const char *var, const char *value)
{
	config_setting_t *parent, *s = NULL;
	int kind_type = row->kind == CONFIG_CUSTOM ? row->file_type : 0;
	char q[120], file_var[80];
	long long i;
	double d;
	int b;

	if (row->flags & CONFIG_SECRET) {
		const struct config_row *f;
		char fname[64];

		snprintf(fname, sizeof(fname), "%s_file", row->name);
		f = row_find(row->group, fname);
		if (f == NULL)
			return env_fail(ld, var, "a secret is not taken from "
					"the environment; give it in the file");
		config_env_name(f, file_var, sizeof(file_var));
		return env_fail(ld, var, "a secret is not taken from the "
				"environment (other processes and crash reports "
				"may read it); write it to a file only ope's "
				"user can read and set %s to its path", file_var);
	}
	if ((parent = env_group(ld, row->group)) == NULL)
		return -1;
	if (config_setting_get_member(parent, row->name) != NULL)
		config_setting_remove(parent, row->name);
	log_quote(q, sizeof(q), value);
	if (row->kind == CONFIG_STRING || kind_type == CONFIG_TYPE_STRING) {
		s = config_setting_add(parent, row->name, CONFIG_TYPE_STRING);
		if (s != NULL &&
		    config_setting_set_string(s, value) != CONFIG_TRUE)
			s = NULL;
	} else if (row->kind == CONFIG_UINT || row->kind == CONFIG_SIZE ||
		   kind_type == CONFIG_TYPE_INT || kind_type == CONFIG_TYPE_INT64) {
		if (env_int(value, &i) < 0)
			goto bad;
		s = config_setting_add(parent, row->name, CONFIG_TYPE_INT64);
		if (s != NULL && config_setting_set_int64(s, i) != CONFIG_TRUE)
			s = NULL;
	} else if (row->kind == CONFIG_MS || row->kind == CONFIG_DOUBLE ||
		   kind_type == CONFIG_TYPE_FLOAT) {
		if (env_double(value, &d) < 0)
			goto bad;
		s = config_setting_add(parent, row->name, CONFIG_TYPE_FLOAT);
		if (s != NULL && config_setting_set_float(s, d) != CONFIG_TRUE)
			s = NULL;
	} else if (row->kind == CONFIG_BOOL || kind_type == CONFIG_TYPE_BOOL) {
		if (env_bool(value, &b) < 0)
			return env_fail(ld, var, "%s is not a boolean (true or "
					"false, yes or no, on or off, 1 or 0) "
					"for %s.%s", q, row->group, row->name);
		s = config_setting_add(parent, row->name, CONFIG_TYPE_BOOL);
		if (s != NULL && config_setting_set_bool(s, b) != CONFIG_TRUE)
			s = NULL;
	} else {
		s = env_aggregate(ld, row, var, parent, value);
		if (s == NULL)
			return -1;
	}
	if (s == NULL)
		return config_fail(ld, NULL, "out of memory");
	/* libconfig keeps a plain void * per setting: the row is only read. */
	config_setting_set_hook(s, (void *)(uintptr_t)row);
	return 0;
bad:
	return env_fail(ld, var, "%s is not %s for %s.%s (%s)", q,
			wanted_name(row), row->group, row->name, row->doc);
}

/* Apply every settings variable of the environment over the file's
 * settings; an unknown one in a settings group, or a secret itself, is an
 * error naming it. */
static int apply_env(struct config_loader *ld)
{
	char name[128], var[80];
	char *const *e;
	size_t i;

	for (e = env_override ? env_override : environ; e != NULL && *e != NULL;
	     e++) {
		const char *eq = strchr(*e, '=');
		size_t n;
		int done = 0;

		if (eq == NULL || strncmp(*e, "OPE_", 4) != 0)
			continue;
		n = (size_t)(eq - *e);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, *e, n);
		name[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(rows) && !done; i++) {
			config_env_name(&rows[i], var, sizeof(var));
			if (strcmp(var, name) != 0)
				continue;
			if (env_set(ld, &rows[i], name, eq + 1) < 0)
				return -1;
			done = 1;
		}
		if (!done && env_checked(name))
			return env_unknown(ld, name);
	}
	for (i = 0; i < ARRAY_SIZE(env_replaces); i++) {
		config_setting_t *a = config_lookup(&ld->lc, env_replaces[i][0]);
		config_setting_t *b = config_lookup(&ld->lc, env_replaces[i][1]);

		if (a != NULL && b != NULL && env_row_of(a) != NULL &&
		    env_row_of(b) == NULL) {
			snprintf(var, sizeof(var), "%s", config_setting_name(b));
			config_setting_remove(config_setting_parent(b), var);
		}
	}
	return 0;
}

/* Queue a warning when FILE, which holds the component secret, is readable
 * by group or others. */
static void warn_mode(struct config_loader *ld, const char *where, const char *what,
		      const char *file, mode_t mode)
{
	if (mode & (S_IRGRP | S_IROTH))
		add_warning(ld, "%s: %s is readable by group or others (mode "
			    "%03o) but holds the component secret; run 'chmod "
			    "600 %s'", where, what, (unsigned)(mode & 0777),
			    file);
}

/* Secrets shorter than this are guessable offline from one recorded
 * handshake (SHA-1 of the public stream id and the secret): warn. */
#define SECRET_MIN_BYTES 16

/* Values that ope's samples and docs show in place of a secret: public, so
 * never accepted as one (compared without regard to case). */
static const char *const placeholder_secrets[] = {
	"change-this-secret", "change-me", "changeme",
	"a long random secret", "the secret", "the same secret",
	"the same secret as below",
};

/* Refuse SECRET, set by setting S, when it is a placeholder from the
 * samples; warn when it is short. WHAT says where the secret is
 * ("component.secret", "component.secret_file '/etc/ope/secret'"). */
static int check_secret(struct config_loader *ld, const config_setting_t *s,
			const char *what, const char *secret)
{
	char where[PATH_MAX + 32];
	size_t i, n = strlen(secret);

	for (i = 0; i < ARRAY_SIZE(placeholder_secrets); i++)
		if (strcasecmp(secret, placeholder_secrets[i]) == 0)
			return config_fail(ld, s, "%s holds the placeholder "
					   "\"%s\" from the samples, which anyone "
					   "can read; set a real secret (e.g. "
					   "'openssl rand -hex 24') here and the "
					   "same in the server's component "
					   "settings", what, placeholder_secrets[i]);
	if (n < SECRET_MIN_BYTES) {
		where_of(ld, s, where, sizeof(where));
		add_warning(ld, "%s: %s is only %zu bytes long; use at least %d "
			    "random bytes (e.g. 'openssl rand -hex 24')", where,
			    what, n, SECRET_MIN_BYTES);
	}
	return 0;
}

/* Read the secret from FILE (relative to the config file's directory)
 * named by setting S into *OUT. */
static int read_secret_file(struct config_loader *ld, const config_setting_t *s,
			    const char *file, char **out)
{
	char where[PATH_MAX + 32], what[PATH_MAX + 40];
	struct secretfile sf;
	char *path;
	int ret = -1;

	if (*file == '\0') {
		config_fail(ld, s, "component.secret_file is empty; give the path "
		     "of a file holding the secret");
		return -1;
	}
	if (file[0] == '/') {
		path = strdup(file);
	} else {
		size_t n = strlen(ld->dir) + 1 + strlen(file) + 1;

		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/%s", ld->dir, file);
	}
	if (path == NULL) {
		config_fail(ld, NULL, "out of memory");
		return -1;
	}
	switch (secretfile_read(path, &sf)) {
	case SECRETFILE_OK:
		break;
	case SECRETFILE_UNREADABLE:
		config_fail(ld, s, "cannot read component.secret_file '%s': %s",
		     path, strerror(sf.errnum));
		goto out;
	case SECRETFILE_NOT_REGULAR:
		config_fail(ld, s, "component.secret_file '%s' is not a regular file",
		     path);
		goto out;
	case SECRETFILE_TOO_LARGE:
		config_fail(ld, s, "component.secret_file '%s' is larger than %d bytes; "
		     "it must hold only the secret", path, SECRETFILE_MAX);
		goto out;
	case SECRETFILE_EMPTY:
		config_fail(ld, s, "component.secret_file '%s' is empty; write the "
		     "secret into it", path);
		goto out;
	case SECRETFILE_LINES:
		config_fail(ld, s, "component.secret_file '%s' must hold the secret "
		     "on one line (found a line break or NUL byte inside)", path);
		goto out;
	case SECRETFILE_NOMEM:
		config_fail(ld, NULL, "out of memory");
		goto out;
	}
	where_of(ld, s, where, sizeof(where));
	snprintf(what, sizeof(what), "component.secret_file '%s'", path);
	if (check_secret(ld, s, what, sf.secret) < 0) {
		secretfile_free(sf.secret);
		goto out;
	}
	warn_mode(ld, where, what, path, sf.mode);
	*out = sf.secret;
	ret = 0;
out:
	free(path);
	return ret;
}

static void *field_of(const struct config_row *row, struct config *cfg)
{
	return (char *)cfg + row->offset;
}

static void release_field(const struct config_row *row, struct config *cfg)
{
	void *field = field_of(row, cfg);

	if (row->kind == CONFIG_STRING) {
		char **p = field;

		if (*p && (row->flags & CONFIG_SECRET))
			explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	} else if (row->kind == CONFIG_CUSTOM && row->release != NULL) {
		row->release(field);
	}
}

static int out_of_range(struct config_loader *ld, const struct config_row *row,
			const config_setting_t *s, double v)
{
	if (row->kind == CONFIG_MS)
		return config_fail(ld, s, "%s.%s %g is out of range; give seconds "
				   "from %g to %g", row->group, row->name, v,
				   row->min, row->max);
	return config_fail(ld, s, "%s.%s %.15g is out of range (%.15g..%.15g%s%s)",
			   row->group, row->name, v, row->min, row->max,
			   row->unit ? " " : "", row->unit ? row->unit : "");
}

/* Store ROW's value from setting S (NULL: its default) into CFG, check its
 * bounds, then run its hook. */
static int apply_row(struct config_loader *ld, const struct config_row *row,
		     const config_setting_t *s, struct config *cfg)
{
	void *field = field_of(row, cfg);
	const char *def = row->def;
	int bounded = !(row->min > row->max);
	double v = 0;

	switch (row->kind) {
	case CONFIG_STRING: {
		const char *text = s ? config_setting_get_string(s) : def;
		char *copy = NULL;

		if (text != NULL && (copy = strdup(text)) == NULL)
			return config_fail(ld, NULL, "out of memory");
		release_field(row, cfg);
		*(char **)field = copy;
		break;
	}
	case CONFIG_UINT:
	case CONFIG_SIZE:
		v = s ? (double)config_setting_get_int64(s) : strtod(def, NULL);
		if (bounded && (v < row->min || v > row->max))
			return out_of_range(ld, row, s, v);
		if (row->kind == CONFIG_UINT)
			*(unsigned *)field = (unsigned)v;
		else
			*(size_t *)field = (size_t)v;
		break;
	case CONFIG_MS:
	case CONFIG_DOUBLE:
		v = s ? (config_setting_type(s) == CONFIG_TYPE_FLOAT ?
			 config_setting_get_float(s) :
			 (double)config_setting_get_int64(s)) : strtod(def, NULL);
		/* The negated form also refuses NaN. */
		if (bounded && !(v >= row->min && v <= row->max))
			return out_of_range(ld, row, s, v);
		if (row->kind == CONFIG_MS)
			*(unsigned *)field = (unsigned)(v * 1000.0 + 0.5);
		else
			*(double *)field = v;
		break;
	case CONFIG_BOOL:
		*(int *)field = s ? config_setting_get_bool(s) != 0 :
				    strcmp(def, "true") == 0;
		break;
	case CONFIG_CUSTOM:
		break;
	}
	return row->hook ? row->hook(ld, row, s, cfg) : 0;
}

static int hook_host(struct config_loader *ld, const struct config_row *row,
		     const config_setting_t *s, struct config *cfg)
{
	char *host = cfg->server_host, esc[300];
	size_t len = strlen(host);

	(void)row;
	if (!jid_host_valid(host))
		return config_fail(ld, s, "server.host '%s' is not a valid host "
				   "name, IPv4 or IPv6 address",
				   log_escape(esc, sizeof(esc), host));
	/* Connecting wants the bare address, not the URI form. */
	if (host[0] == '[') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	return 0;
}

static int hook_domain(struct config_loader *ld, const struct config_row *row,
		       const config_setting_t *s, struct config *cfg)
{
	char esc[300];

	(void)row;
	if (cfg->domain != NULL && !jid_domain_valid(cfg->domain))
		return config_fail(ld, s, "component.domain '%s' is not a valid "
				   "domain name",
				   log_escape(esc, sizeof(esc), cfg->domain));
	return 0;
}

static int hook_secret(struct config_loader *ld, const struct config_row *row,
		       const config_setting_t *s, struct config *cfg)
{
	(void)row;
	if (s == NULL)
		return 0;
	if (*cfg->secret == '\0')
		return config_fail(ld, s, "component.secret is empty; set it to "
				   "the server's component_secret");
	if (check_secret(ld, s, "component.secret", cfg->secret) < 0)
		return -1;
	warn_mode(ld, ld->path, "this file", ld->path, ld->conf_mode);
	return 0;
}

static int hook_secret_file(struct config_loader *ld,
			    const struct config_row *row,
			    const config_setting_t *s, struct config *cfg)
{
	const config_setting_t *secret;

	(void)row;
	if (s == NULL)
		return 0;
	secret = config_lookup(&ld->lc, "component.secret");
	if (secret != NULL)
		return config_fail(ld, config_setting_source_line(s) >
					   config_setting_source_line(secret) ?
					   s : secret,
				   "give only one of component.secret and "
				   "component.secret_file, not both");
	return read_secret_file(ld, s, cfg->secret_file, &cfg->secret);
}

static int hook_log_level(struct config_loader *ld, const struct config_row *row,
			  const config_setting_t *s, struct config *cfg)
{
	const char *text = s ? config_setting_get_string(s) : row->def;
	char esc[100];

	if (log_level_parse(text, &cfg->log_level) < 0)
		return config_fail(ld, s, "log.level '%s' is unknown; use one of "
				   "error, warning, info, debug",
				   log_escape(esc, sizeof(esc), text));
	return 0;
}

static int hook_log_format(struct config_loader *ld,
			   const struct config_row *row,
			   const config_setting_t *s, struct config *cfg)
{
	const char *text = s ? config_setting_get_string(s) : row->def;
	char esc[100];

	if (log_format_parse(text, &cfg->log_format) < 0)
		return config_fail(ld, s, "log.format '%s' is unknown; use "
				   "\"text\", \"json\" or \"journal\"",
				   log_escape(esc, sizeof(esc), text));
#ifndef HAVE_SYSTEMD
	if (cfg->log_format == LOG_FORMAT_JOURNAL)
		return config_fail(ld, s, "log.format \"journal\" needs "
				   "ope-component built with libsystemd; use "
				   "\"json\" (under systemd it reaches the "
				   "journal as lines)");
#endif
	return 0;
}

static int hook_not_empty(struct config_loader *ld, const struct config_row *row,
			  const config_setting_t *s, struct config *cfg)
{
	const char *value = *(char **)field_of(row, cfg);

	if (value != NULL && *value == '\0')
		return config_fail(ld, s, "%s.%s is empty; it is %s (default "
				   "\"%s\")", row->group, row->name, row->doc,
				   row->def ? row->def : "");
	return 0;
}

static void release_servers(void *field)
{
	struct config_servers *ss = field;
	size_t i;

	for (i = 0; i < ss->n; i++)
		free(ss->list[i].host);
	free(ss->list);
	ss->list = NULL;
	ss->n = 0;
	ss->derived = 0;
}

static int same_servers(const void *a, const void *b)
{
	const struct config_servers *x = a, *y = b;
	size_t i;

	/* Derived from host and port, whose own rows report a change. */
	if (x->derived && y->derived)
		return 1;
	if (x->n != y->n || x->derived != y->derived)
		return 0;
	for (i = 0; i < x->n; i++)
		if (x->list[i].port != y->list[i].port ||
		    strcmp(x->list[i].host, y->list[i].host) != 0)
			return 0;
	return 1;
}

/* Parse "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address
 * into SRV (host malloc'd). Returns 0, or -1 after config_fail(). */
static int parse_host_port(struct config_loader *ld, const config_setting_t *s,
			   const char *text, unsigned def_port,
			   struct config_server *srv)
{
	const char *host = text, *port = NULL, *colon = strrchr(text, ':');
	size_t hlen = strlen(text);
	char esc[300], *end;
	unsigned long p = def_port;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			goto bad;
		host = text + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
	} else if (colon != NULL && strchr(text, ':') == colon) {
		hlen = (size_t)(colon - text);
		port = colon + 1;
	}
	if (port != NULL) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || p < 1 ||
		    p > 65535)
			return config_fail(ld, s, "server.hosts entry '%s' has a "
					   "bad port; give host:port with a port "
					   "from 1 to 65535",
					   log_escape(esc, sizeof(esc), text));
	}
	srv->host = strndup(host, hlen);
	if (srv->host == NULL)
		return config_fail(ld, NULL, "out of memory");
	if (!jid_host_valid(srv->host)) {
		free(srv->host);
		srv->host = NULL;
		goto bad;
	}
	srv->port = (unsigned)p;
	return 0;
bad:
	return config_fail(ld, s, "server.hosts entry '%s' is not host:port "
			   "(a host name, an IPv4 address or a bracketed IPv6 "
			   "address, then an optional :port)",
			   log_escape(esc, sizeof(esc), text));
}

static int hook_hosts(struct config_loader *ld, const struct config_row *row,
		      const config_setting_t *s, struct config *cfg)
{
	struct config_servers *ss = &cfg->servers;
	const config_setting_t *other;
	int i, n;

	(void)row;
	release_servers(ss);
	/* Without server.hosts, servers_from_host() fills it in once host
	 * and port are known. */
	if (s == NULL)
		return 0;
	other = config_lookup(&ld->lc, "server.host");
	if (other == NULL)
		other = config_lookup(&ld->lc, "server.port");
	if (other != NULL)
		return config_fail(ld, other, "give either server.hosts or "
				   "server.host and server.port, not both");
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return config_fail(ld, s, "server.hosts must be a list of strings, "
				   "e.g. ( \"10.0.0.1:5347\", \"10.0.0.2:5347\" )");
	n = config_setting_length(s);
	if (n < 1)
		return config_fail(ld, s, "server.hosts is empty; list at least "
				   "one \"host:port\"");
	ss->list = calloc((size_t)n, sizeof(*ss->list));
	if (ss->list == NULL)
		return config_fail(ld, NULL, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *text = config_setting_get_string(e);

		if (text == NULL)
			return config_fail(ld, e, "server.hosts entries must be "
					   "strings in double quotes");
		if (parse_host_port(ld, e, text, cfg->server_port,
				    &ss->list[i]) < 0)
			return -1;
		ss->n++;
	}
	return 0;
}

static int hook_tls_mode(struct config_loader *ld, const struct config_row *row,
			 const config_setting_t *s, struct config *cfg)
{
	const char *text = s ? config_setting_get_string(s) : row->def;
	char esc[100];

	if (strcmp(text, "none") == 0)
		cfg->tls_direct = 0;
	else if (strcmp(text, "direct") == 0)
		cfg->tls_direct = 1;
	else
		return config_fail(ld, s, "server.tls.mode '%s' is unknown; use "
				   "\"none\" or \"direct\"",
				   log_escape(esc, sizeof(esc), text));
	return 0;
}

static int hook_tls_ca_file(struct config_loader *ld,
			    const struct config_row *row,
			    const config_setting_t *s, struct config *cfg)
{
	char *file = cfg->tls_ca_file, *path;
	size_t n;

	(void)row;
	if (s == NULL || file == NULL)
		return 0;
	if (*file == '\0')
		return config_fail(ld, s, "server.tls.ca_file is empty; give a "
				   "PEM file or leave it out for the system's CAs");
	if (file[0] == '/')
		return 0;
	n = strlen(ld->dir) + 1 + strlen(file) + 1;
	if ((path = malloc(n)) == NULL)
		return config_fail(ld, NULL, "out of memory");
	snprintf(path, n, "%s/%s", ld->dir, file);
	free(file);
	cfg->tls_ca_file = path;
	return 0;
}

static int hook_tls_name(struct config_loader *ld, const struct config_row *row,
			 const config_setting_t *s, struct config *cfg)
{
	char *name = cfg->tls_name, esc[300];
	size_t len;

	(void)row;
	if (s == NULL || name == NULL)
		return 0;
	if (!jid_host_valid(name))
		return config_fail(ld, s, "server.tls.name '%s' is not a valid "
				   "host name or address",
				   log_escape(esc, sizeof(esc), name));
	len = strlen(name);
	if (name[0] == '[') {
		memmove(name, name + 1, len - 2);
		name[len - 2] = '\0';
	}
	return 0;
}

static void release_access(void *field)
{
	struct access_table **t = field;

	access_table_free(*t);
	*t = NULL;
}

static int hook_access_default(struct config_loader *ld,
			       const struct config_row *row,
			       const config_setting_t *s, struct config *cfg)
{
	const char *text = s ? config_setting_get_string(s) : "allow";
	char esc[100];

	/* Without the file (defaults only) nothing is locked down; with an
	 * access section but no default, check_across() picks "deny". */
	(void)row;
	if (strcmp(text, "allow") == 0)
		cfg->access_default = ACCESS_ALLOW;
	else if (strcmp(text, "deny") == 0)
		cfg->access_default = ACCESS_DENY;
	else
		return config_fail(ld, s, "access.default '%s' is unknown; use "
				   "\"allow\" or \"deny\"",
				   log_escape(esc, sizeof(esc), text));
	return 0;
}

/* One rule of access.rules (setting R) into T. */
static int parse_rule(struct config_loader *ld, const config_setting_t *r,
		      struct access_table *t)
{
	static const char *const known[] = { "match", "action", "password" };
	const config_setting_t *m, *a, *p;
	const char *why;
	char where[PATH_MAX + 16], esc[300], err[600];
	enum access_action action;
	int i, j, ret;

	if (!config_setting_is_group(r))
		return config_fail(ld, r, "an access rule must be a group "
				   "{ match = \"...\"; action = \"...\"; }, not %s",
				   type_name(r));
	for (i = 0; i < config_setting_length(r); i++) {
		const config_setting_t *e = config_setting_get_elem(r, (unsigned)i);
		const char *name = config_setting_name(e);

		for (j = 0; j < 3 && strcmp(name, known[j]) != 0; j++)
			;
		if (j == 3)
			return config_fail(ld, e, "unknown setting '%s' in an "
					   "access rule (known: match, action, "
					   "password)", name);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return config_fail(ld, e, "access rule %s must be a "
					   "string in double quotes, not %s",
					   name, type_name(e));
	}
	m = config_setting_get_member(r, "match");
	a = config_setting_get_member(r, "action");
	p = config_setting_get_member(r, "password");
	if (m == NULL)
		return config_fail(ld, r, "an access rule needs match = "
				   "\"user@domain\", \"*@domain\", \"domain\", "
				   "\"*.domain\" or \"*\"");
	if (a == NULL)
		return config_fail(ld, r, "an access rule needs action = "
				   "\"allow\" or \"deny\"");
	if (strcmp(config_setting_get_string(a), "allow") == 0)
		action = ACCESS_ALLOW;
	else if (strcmp(config_setting_get_string(a), "deny") == 0)
		action = ACCESS_DENY;
	else
		return config_fail(ld, a, "unknown action '%s'; use \"allow\" "
				   "or \"deny\"",
				   log_escape(esc, sizeof(esc),
					      config_setting_get_string(a)));
	if (p != NULL && action == ACCESS_DENY)
		return config_fail(ld, p, "a password on a deny rule is never "
				   "asked for; remove it or make the rule allow");
	if (p != NULL &&
	    pwcheck_hash_valid(config_setting_get_string(p), &why) != 0)
		/* Never echo it: it may be a plaintext password by mistake. */
		return config_fail(ld, p, "access rule password is %s", why);
	where_of(ld, r, where, sizeof(where));
	ret = access_table_add(t, config_setting_get_string(m), action,
			       p ? config_setting_get_string(p) : NULL, where,
			       err, sizeof(err));
	if (ret == -2)
		return config_fail(ld, NULL, "out of memory");
	if (ret != 0)
		return config_fail(ld, m, "%s", err);
	return 0;
}

static int hook_access_rules(struct config_loader *ld,
			     const struct config_row *row,
			     const config_setting_t *s, struct config *cfg)
{
	struct access_table *t;
	int i;

	(void)row;
	if (s == NULL)
		return 0;
	t = access_table_new(ACCESS_DENY);
	if (t == NULL)
		return config_fail(ld, NULL, "out of memory");
	release_access(&cfg->access);
	cfg->access = t;
	for (i = 0; i < config_setting_length(s); i++)
		if (parse_rule(ld, config_setting_get_elem(s, (unsigned)i), t) < 0)
			return -1;
	return 0;
}

/* An access section turns the table on: its default is "deny" unless it
 * says otherwise, even with no rules. */
static int finish_access(struct config_loader *ld, struct config *c)
{
	const config_setting_t *def = config_lookup(&ld->lc, "access.default");

	if (config_lookup(&ld->lc, "access") == NULL)
		return 0;
	if (def == NULL)
		c->access_default = ACCESS_DENY;
	if (c->access == NULL &&
	    (c->access = access_table_new(ACCESS_DENY)) == NULL)
		return config_fail(ld, NULL, "out of memory");
	access_table_set_default(c->access, (enum access_action)c->access_default);
	return 0;
}

/* 0 used to mean "no limit" on hashing; now a limit is required. */
static int hook_hashes_total(struct config_loader *ld,
			     const struct config_row *row,
			     const config_setting_t *s, struct config *cfg)
{
	(void)row;
	if (cfg->limit_hashes.rate <= 0)
		return config_fail(ld, s, "limits.password.total must be above "
				   "0: every check is a slow hash, and 0 no "
				   "longer means \"no limit\" (the default is "
				   "2.0 checks a second)");
	return 0;
}

/* The global password-check bucket holds two seconds' worth. */
static void finish_limits(struct config *c)
{
	c->limit_hashes.burst = c->limit_hashes.rate * 2;
	if (c->limit_hashes.burst < 1)
		c->limit_hashes.burst = 1;
}

static int hook_metrics_listen(struct config_loader *ld,
			       const struct config_row *row,
			       const config_setting_t *s, struct config *cfg)
{
	char err[400];

	(void)row;
	if (cfg->metrics_listen != NULL &&
	    metrics_listen_check(cfg->metrics_listen, err, sizeof(err)) != 0)
		return config_fail(ld, s, "%s", err);
	return 0;
}

static int hook_control_path(struct config_loader *ld,
			     const struct config_row *row,
			     const config_setting_t *s, struct config *cfg)
{
	struct sockaddr_un sa;
	const char *p = cfg->control_path;

	(void)row;
	if (p == NULL)
		return 0;
	if (p[0] != '/')
		return config_fail(ld, s, "control.path must be an absolute "
				   "path (\"/run/ope-component/control.sock\"), "
				   "not \"%s\"", p);
	if (strlen(p) >= sizeof(sa.sun_path))
		return config_fail(ld, s, "control.path is %zu bytes long; a "
				   "unix socket path takes at most %zu",
				   strlen(p), sizeof(sa.sun_path) - 1);
	return 0;
}

/* Checks that involve more than one row. */
static int check_across(struct config_loader *ld, struct config *c)
{
	const config_setting_t *ini = config_lookup(&ld->lc, "reconnect.initial");
	const config_setting_t *max = config_lookup(&ld->lc, "reconnect.maximum");

	finish_limits(c);
	if (finish_access(ld, c) < 0)
		return -1;
	if (c->secret == NULL)
		return config_fail(ld, config_lookup(&ld->lc, "component"),
				   "missing required setting: give one of "
				   "'component.secret' or 'component.secret_file' "
				   "(or the variable OPE_COMPONENT_SECRET_FILE)");
	if (servers_from_host(c) < 0)
		return config_fail(ld, NULL, "out of memory");
	if (!c->tls_direct && (c->tls_ca_file != NULL || c->tls_name != NULL))
		return config_fail(ld, config_lookup(&ld->lc, "server.tls"),
				   "server.tls.ca_file and server.tls.name apply "
				   "only with server.tls.mode = \"direct\"");
	if (c->reconnect_max_ms < c->reconnect_initial_ms)
		return config_fail(ld, max ? max : ini, "reconnect.maximum "
				   "(%.3g s) is less than reconnect.initial "
				   "(%.3g s)", c->reconnect_max_ms / 1000.0,
				   c->reconnect_initial_ms / 1000.0);
	return 0;
}

/* Apply every row: the file's value where it gives one, else the default;
 * a required row the file lacks is an error. DEFAULTS_ONLY skips the file. */
static int apply_rows(struct config_loader *ld, struct config *c,
		      int defaults_only)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct config_row *row = &rows[i];
		const config_setting_t *s = NULL;
		char path[160], var[160];

		if (!defaults_only) {
			snprintf(path, sizeof(path), "%s.%s", row->group, row->name);
			s = config_lookup(&ld->lc, path);
			config_env_name(row, var, sizeof(var));
			if (s == NULL && (row->flags & CONFIG_REQUIRED))
				return config_fail(ld, config_lookup(&ld->lc,
								     row->group),
						   "missing required setting "
						   "'%s' (%s); give it in the "
						   "file or as %s", path,
						   row->doc, var);
			if (s == NULL)
				continue;
		}
		if (apply_row(ld, row, s, c) < 0)
			return -1;
	}
	return 0;
}

int config_defaults(struct config *cfg)
{
	struct config_loader ld = { .path = "(defaults)" };
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	config_init(&ld.lc);
	ret = apply_rows(&ld, cfg, 1);
	config_destroy(&ld.lc);
	if (ret < 0)
		config_free(cfg);
	return ret;
}

/* PATH's directory into a new string ("." for a bare name). */
static char *dir_of(const char *path)
{
	char *dir = strdup(path), *slash;

	if (dir == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

static void syntax_error(struct config_loader *ld)
{
	const char *text = config_error_text(&ld->lc);
	const char *file = config_error_file(&ld->lc) ?
			   config_error_file(&ld->lc) : ld->path;

	if (config_error_type(&ld->lc) == CONFIG_ERR_FILE_IO)
		snprintf(ld->err, ld->errlen, "%s: cannot read: %s", file,
			 text ? text : "I/O error");
	else if (text == NULL || strcmp(text, "syntax error") == 0)
		/* libconfig 1.5 says only "syntax error": help a bit. */
		snprintf(ld->err, ld->errlen, "%s:%d: syntax error (look for a "
			 "missing or extra ';', '=', '\"' or brace here or on "
			 "the line before)", file, config_error_line(&ld->lc));
	else
		snprintf(ld->err, ld->errlen, "%s:%d: syntax error: %s", file,
			 config_error_line(&ld->lc), text);
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct config_loader ld = { .path = path, .err = err, .errlen = errlen };
	struct config c;
	struct stat st;
	const char *line, *next;
	FILE *fp = NULL;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	if (errlen)
		err[0] = '\0';
	config_init(&ld.lc);
	if (path == NULL) {
		/* No file: the environment alone. */
		ld.path = "environment";
		if ((ld.dir = strdup(".")) == NULL) {
			config_fail(&ld, NULL, "out of memory");
			goto out;
		}
		goto parsed;
	}
	if (*path == '\0') {
		ld.path = "(no path)";
		config_fail(&ld, NULL, "no configuration file given");
		goto out;
	}
	fp = fopen(path, "re");
	if (fp == NULL || fstat(fileno(fp), &st) < 0) {
		config_fail(&ld, NULL, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		config_fail(&ld, NULL, "cannot open: %s", strerror(EISDIR));
		goto out;
	}
	ld.conf_mode = st.st_mode;
	if ((ld.dir = dir_of(path)) == NULL) {
		config_fail(&ld, NULL, "out of memory");
		goto out;
	}
	/* @include and secret_file both resolve against the file's own
	 * directory, so the daemon's working directory does not matter. */
	config_set_include_dir(&ld.lc, ld.dir);
	if (config_read(&ld.lc, fp) != CONFIG_TRUE) {
		if (errlen)
			syntax_error(&ld);
		goto out;
	}
parsed:
	if (config_defaults(&c) < 0 ||
	    (path != NULL && (c.path = strdup(path)) == NULL)) {
		config_fail(&ld, NULL, "out of memory");
		goto out;
	}
	/* The environment first: a variable replaces the file's setting
	 * before anything is checked. */
	if (apply_env(&ld) < 0 ||
	    check_group(&ld, config_root_setting(&ld.lc), "") < 0 ||
	    apply_rows(&ld, &c, 0) < 0 || check_across(&ld, &c) < 0)
		goto out;
	/* Warnings are written in the format this configuration asks for
	 * (the caller applies the rest of log.* once the load is done). */
	if (ld.warning[0] != '\0')
		log_set_format(c.log_format);
	for (line = ld.warning; *line; line = next) {
		next = line + strcspn(line, "\n");
		log_warn("%.*s", (int)(next - line), line);
		next += *next == '\n';
	}
	*cfg = c;
	memset(&c, 0, sizeof(c));
	ret = 0;
out:
	config_free(&c);
	config_destroy(&ld.lc);
	free(ld.dir);
	if (fp)
		fclose(fp);
	return ret;
}

static int row_differs(const struct config_row *row, struct config *a,
		       struct config *b)
{
	if (row->kind == CONFIG_STRING) {
		const char *x = *(char **)field_of(row, a);
		const char *y = *(char **)field_of(row, b);

		return (x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0);
	}
	/* A list owns memory: compare what it holds, not its pointer. */
	if (row->offset == offsetof(struct config, servers))
		return !same_servers(field_of(row, a), field_of(row, b));
	if (row->offset == offsetof(struct config, admins))
		return !same_admins(field_of(row, a), field_of(row, b));
	return memcmp(field_of(row, a), field_of(row, b), row->size) != 0;
}

int config_reload(struct config *running, char *err, size_t errlen,
		  char *kept, size_t keptlen)
{
	return config_reload_changes(running, err, errlen, kept, keptlen,
				     NULL, 0);
}

int config_reload_changes(struct config *running, char *err, size_t errlen,
			  char *kept, size_t keptlen, char *changed,
			  size_t changedlen)
{
	struct config fresh, old;
	unsigned char tmp[64];
	size_t i, used = 0, cused = 0;

	if (keptlen)
		kept[0] = '\0';
	if (changedlen)
		changed[0] = '\0';
	if (config_load(running->path, &fresh, err, errlen) != 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct config_row *row = &rows[i];
		void *a = field_of(row, &fresh), *b = field_of(row, running);

		if (row->flags & CONFIG_RELOAD) {
			int n;

			/* The access table has no comparison: re-read always. */
			if (row->offset == offsetof(struct config, access) ||
			    cused >= changedlen || !row_differs(row, &fresh, running))
				continue;
			n = snprintf(changed + cused, changedlen - cused, "%s%s.%s",
				     cused ? ", " : "", row->group, row->name);
			cused = n > 0 ? cused + (size_t)n : cused;
			continue;
		}
		if (row_differs(row, &fresh, running) && used < keptlen) {
			int n = snprintf(kept + used, keptlen - used, "%s%s.%s",
					 used ? ", " : "", row->group, row->name);

			used = n > 0 ? used + (size_t)n : used;
		}
		/* The running value goes into the new struct, and the new one
		 * into the struct about to be freed. */
		_Static_assert(sizeof(tmp) >= sizeof(struct config *),
			       "swap buffer");
		if (row->size > sizeof(tmp))
			abort();
		memcpy(tmp, a, row->size);
		memcpy(a, b, row->size);
		memcpy(b, tmp, row->size);
	}
	if (used >= keptlen && keptlen)
		kept[keptlen - 1] = '\0';
	if (cused >= changedlen && changedlen)
		changed[changedlen - 1] = '\0';
	old = *running;
	*running = fresh;
	config_free(&old);
	return 0;
}

/* commands.admins: a list of bare JIDs, normalised as access patterns. */
static int hook_admins(struct config_loader *ld, const struct config_row *row,
		       const config_setting_t *s, struct config *cfg)
{
	struct config_admins *ad = &cfg->admins;
	char bare[ACCESS_BARE_MAX], esc[200];
	int i, n = s ? config_setting_length(s) : 0;

	(void)row;
	if (n == 0)
		return 0;
	if ((ad->list = calloc((size_t)n, sizeof(*ad->list))) == NULL)
		return config_fail(ld, s, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *jid = config_setting_get_string(e);

		if (jid == NULL)
			return config_fail(ld, e, "commands.admins: each entry "
					   "is a bare JID in quotes, e.g. "
					   "\"admin@example.org\"");
		if (strchr(jid, '/') != NULL || strchr(jid, '*') != NULL ||
		    access_normalise(jid, bare, sizeof(bare)) < 0)
			return config_fail(ld, e, "commands.admins: '%s' is not "
					   "a bare JID (user@domain or domain, "
					   "no resource, no wildcard)",
					   log_escape(esc, sizeof(esc), jid));
		if ((ad->list[ad->n] = strdup(bare)) == NULL)
			return config_fail(ld, s, "out of memory");
		ad->n++;
	}
	return 0;
}

static void release_admins(void *field)
{
	struct config_admins *ad = field;
	size_t i;

	for (i = 0; i < ad->n; i++)
		free(ad->list[i]);
	free(ad->list);
	ad->list = NULL;
	ad->n = 0;
}

static int same_admins(const void *a, const void *b)
{
	const struct config_admins *x = a, *y = b;
	size_t i;

	if (x->n != y->n)
		return 0;
	for (i = 0; i < x->n; i++)
		if (strcmp(x->list[i], y->list[i]) != 0)
			return 0;
	return 1;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		release_field(&rows[i], cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
