/* SPDX-License-Identifier: MIT */
/* config_table.c: ope-component's settings table: one row per setting, and the hooks that check, convert and apply them. */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <libconfig.h>

#include "access.h"
#include "config.h"
#include "config_loader.h"
#include "hostport.h"
#include "jid.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "pwcheck.h"
#include "secretfile.h"
#include "util.h"

/* A row's hook, as config_hook_fn says. */
#define HOOK(fn) static int fn(struct config_loader *ld, \
			       const struct config_row *row, \
			       const config_setting_t *s, struct config *cfg)
HOOK(hook_host);
HOOK(hook_domain);
HOOK(hook_secret);
HOOK(hook_secret_file);
HOOK(hook_log_level);
HOOK(hook_log_format);
HOOK(hook_not_empty);
HOOK(hook_hosts);
HOOK(hook_tls_ca_file);
HOOK(hook_tls_name);
HOOK(hook_access_rules);
HOOK(hook_hashes_total);
HOOK(hook_metrics_listen);
HOOK(hook_control_path);
HOOK(hook_instance);
static void release_servers(void *field);
static int same_servers(const void *a, const void *b);
static void release_access(void *field);
static void apply_timestamps(const struct config *cfg);
static void apply_log_format(const struct config *cfg);

static const struct config_enum tls_modes[] = {
	{ "none", 0 }, { "direct", 1 }, { NULL, 0 },
};
static const struct config_enum connect_modes[] = {
	{ "first", 0 }, { "all", 1 }, { NULL, 0 },
};
static const struct config_enum log_formats[] = {
	{ "text", LOG_FORMAT_TEXT }, { "json", LOG_FORMAT_JSON },
	{ "journal", LOG_FORMAT_JOURNAL }, { NULL, 0 },
};
static const struct config_enum access_actions[] = {
	{ "allow", ACCESS_ALLOW }, { "deny", ACCESS_DENY }, { NULL, 0 },
};

/* Every setting, once. The parser, the defaults, the range errors, the
 * reload and the generated documentation all read these rows; adding a
 * setting is one row here plus its use (an extension's own setting: a row
 * in its file, ext.h). */
static const struct config_row rows[] = {
	CONFIG_ROW_STRING("server", "host", server_host, "127.0.0.1", 0,
	  "the server's component listener: a host name, an IPv4 or an IPv6 "
	  "address (\"::1\" or \"[::1]\")", .hook = hook_host),
	CONFIG_ROW_UINT("server", "port", server_port, 5347, 1, 65535, 0,
	  "TCP port of the server's component listener"),
	CONFIG_ROW_CUSTOM("server", "hosts", servers, 0, NULL, hook_hosts, 0,
	  "instead of host and port: several listeners tried in order, "
	  "( \"10.0.0.1:5347\", \"[2001:db8::2]:5347\", \"xmpp.example.org\" ); "
	  "a missing port is server.port's default",
	  .release = release_servers, .same = same_servers),
	CONFIG_ROW_ENUM("server", "connect", connect_all, connect_modes, "first",
	  0, "\"first\": one link, to the first of server.hosts that answers "
	  "(failing over in order); \"all\": one link to every entry at "
	  "once (at most 16), each pinned to its entry and answering the "
	  "requests it brings (doc/pool.md)"),
	CONFIG_ROW_SECONDS("server", "connect_timeout", connect_timeout_ms,
	  10.0, 0.1, 600, 0,
	  "seconds allowed for looking the host name up, for each address's "
	  "TCP connect, and again for TLS, the stream header and the "
	  "handshake"),
	CONFIG_ROW_ENUM("server.tls", "mode", tls_direct, tls_modes, "none", 0,
	  "\"none\" (plain TCP) or \"direct\" (TLS from the first byte, as "
	  "ejabberd_service's tls: true)"),
	CONFIG_ROW_STRING("server.tls", "ca_file", tls_ca_file, NULL, 0,
	  "PEM file of the CAs that may sign the server's certificate "
	  "(relative to the config file's directory); default: the system's CAs",
	  .hook = hook_tls_ca_file),
	CONFIG_ROW_STRING("server.tls", "name", tls_name, NULL, 0,
	  "the name the server's certificate must carry, also sent as SNI; "
	  "default: the host connected to", .hook = hook_tls_name),
	CONFIG_ROW_STRING("component", "domain", domain, NULL, CONFIG_REQUIRED,
	  "the component's XMPP domain, e.g. \"ope.example.org\"",
	  .hook = hook_domain),
	CONFIG_ROW_STRING("component", "secret", secret, NULL, CONFIG_SECRET,
	  "the shared secret (Prosody's component_secret, ejabberd's "
	  "password); give this or secret_file", .hook = hook_secret),
	CONFIG_ROW_STRING("component", "secret_file", secret_file, NULL, 0,
	  "a file holding the secret on one line (relative to the config "
	  "file's directory)", .hook = hook_secret_file),
	CONFIG_ROW_STRING("component", "instance", instance, NULL, 0,
	  "this instance's name in the server's pool (doc/pool.md): 1-64 "
	  "bytes of A-Z a-z 0-9 . _ : @ / -, unique among the instances "
	  "serving the domain; default: \"<short host name>-<pid>\", chosen "
	  "at the first start and kept across takeovers", .hook = hook_instance),
	CONFIG_ROW_CUSTOM("log", "level", log_level, CONFIG_TYPE_STRING, "info",
	  hook_log_level, CONFIG_RELOAD,
	  "error, warning, info or debug; -d and -q override it"),
	CONFIG_ROW_BOOL("log", "timestamps", log_timestamps, true, CONFIG_RELOAD,
	  "ISO 8601 UTC time stamps on log lines", .apply = apply_timestamps),
	CONFIG_ROW_ENUM("log", "format", log_format, log_formats, "text",
	  CONFIG_RELOAD,
	  "\"text\" (one line each, as ever), \"json\" (one object a line: "
	  "ts, level, pid, msg and the line's fields such as jid, rule, link; "
	  "to the journal with those fields when stderr is the journal) or "
	  "\"journal\" (always to the journal, with its fields)",
	  .hook = hook_log_format, .apply = apply_log_format),
	CONFIG_ROW_SECONDS("reconnect", "initial", reconnect_initial_ms,
	  1.0, 0.001, 3600, 0,
	  "first reconnect delay in seconds (doubling, with up to 25 % jitter)"),
	CONFIG_ROW_SECONDS("reconnect", "maximum", reconnect_max_ms,
	  60.0, 0.001, 3600, 0, "longest reconnect delay in seconds"),
	CONFIG_ROW_STRING("service", "name", service_name, "ope", CONFIG_RELOAD,
	  "the service discovery identity's name (XEP-0030)",
	  .hook = hook_not_empty),
	CONFIG_ROW_BOOL("service", "show_os", service_show_os, true,
	  CONFIG_RELOAD,
	  "include the operating system in software version replies (XEP-0092)"),
	CONFIG_ROW_SIZE("service", "max_payload", max_payload, 65536,
	  256, 16777216, "bytes", CONFIG_RELOAD,
	  "bytes above which a request gets policy-violation"),
	/* Applied at each new connection. Upper bounds keep libstrophe's
	 * recursive and quadratic paths (release, append, attributes) cheap:
	 * xmlstream.h's XMLSTREAM_MAX_*. */
	CONFIG_ROW_SIZE("limits", "stanza_bytes", limits.stanza_bytes,
	  XMLSTREAM_DEFAULT_STANZA_BYTES, 1024, 16777216, "bytes", 0,
	  "bytes of one stanza from the server; a bigger one is skipped whole"),
	CONFIG_ROW_UINT("limits", "depth", limits.depth,
	  XMLSTREAM_DEFAULT_DEPTH, 2, XMLSTREAM_MAX_DEPTH, 0,
	  "element nesting in one stanza (the stanza itself is 1)"),
	CONFIG_ROW_UINT("limits", "children", limits.children,
	  XMLSTREAM_DEFAULT_CHILDREN, 1, XMLSTREAM_MAX_CHILDREN, 0,
	  "child elements of one element"),
	CONFIG_ROW_UINT("limits", "elements", limits.elements,
	  XMLSTREAM_DEFAULT_ELEMENTS, 1, 1048576, 0,
	  "elements in one stanza, the stanza included"),
	CONFIG_ROW_UINT("limits", "attributes", limits.attrs,
	  XMLSTREAM_DEFAULT_ATTRS, 1, XMLSTREAM_MAX_ATTRS, 0,
	  "attributes of one element (namespace declarations not counted)"),
	CONFIG_ROW_SIZE("limits", "attribute_bytes", limits.attr_bytes,
	  XMLSTREAM_DEFAULT_ATTR_BYTES, 16, 16777216, "bytes", 0,
	  "bytes of one attribute value"),
	CONFIG_ROW_SIZE("limits", "text_bytes", limits.text_bytes,
	  XMLSTREAM_DEFAULT_TEXT_BYTES, 16, 16777216, "bytes", 0,
	  "bytes of text directly inside one element"),
	CONFIG_ROW_SIZE("limits", "output_queue", queue_max, 4194304,
	  65536, 1073741824, "bytes", 0,
	  "replies waiting for the server above which ope stops reading "
	  "requests until the server reads again; if it takes nothing for "
	  "1 s meanwhile, ope reads on and answers resource-constraint, up "
	  "to 4 times this"),
	CONFIG_ROW_SECONDS("liveness", "idle", liveness_idle_ms, 60.0, 0, 86400, 0,
	  "seconds of silence from the server before ope pings it (XEP-0199); "
	  "0 turns pings off"),
	CONFIG_ROW_SECONDS("liveness", "timeout", liveness_timeout_ms,
	  20.0, 0.1, 3600, 0,
	  "seconds to wait for any answer to that ping before reconnecting"),
	/* Without an access section the default is "allow" (finish_access()). */
	CONFIG_ROW_ENUM("access", "default", access_default, access_actions,
	  "deny", CONFIG_RELOAD,
	  "\"allow\" or \"deny\": what a sender that matches no rule gets "
	  "(without an access section everyone is allowed)"),
	CONFIG_ROW_CUSTOM("access", "rules", access, CONFIG_TYPE_LIST, NULL,
	  hook_access_rules, CONFIG_RELOAD | CONFIG_UNCOMPARED,
	  "( { match = \"...\"; action = \"allow\"|\"deny\"; [password = "
	  "\"$y$...\";] }, ... ): tried in order, the first match wins",
	  .release = release_access),
	CONFIG_ROW_DOUBLE("limits.sender", "rate", limit_sender.rate,
	  20.0, 0, 1e9, "requests/s", CONFIG_RELOAD,
	  "requests a second one bare JID may make (0: no limit)"),
	CONFIG_ROW_DOUBLE("limits.sender", "burst", limit_sender.burst,
	  40, 1, 1e9, "requests", CONFIG_RELOAD,
	  "requests one bare JID may make at once before its rate applies"),
	CONFIG_ROW_DOUBLE("limits.total", "rate", limit_total.rate,
	  50000.0, 0, 1e9, "requests/s", CONFIG_RELOAD,
	  "requests a second from everyone together (0: no limit)"),
	CONFIG_ROW_DOUBLE("limits.total", "burst", limit_total.burst,
	  100000, 1, 1e9, "requests", CONFIG_RELOAD,
	  "requests from everyone at once before the total rate applies"),
	CONFIG_ROW_DOUBLE("limits.password", "rate", limit_password.rate,
	  0.2, 0, 1e6, "checks/s", CONFIG_RELOAD,
	  "password checks a second one bare JID may cause (only new or "
	  "wrong passwords are checked; 0: no limit)"),
	CONFIG_ROW_DOUBLE("limits.password", "burst", limit_password.burst,
	  3, 1, 1e6, "checks", CONFIG_RELOAD,
	  "password checks one bare JID may cause at once"),
	CONFIG_ROW_DOUBLE("limits.password", "total", limit_hashes.rate,
	  2.0, 0, 1e6, "checks/s", CONFIG_RELOAD,
	  "password checks a second for everyone together, each a hash of up "
	  "to 250 ms on a worker thread (must be above 0)",
	  .hook = hook_hashes_total),
	CONFIG_ROW_UINT("limits.password", "rule_failures", limit_rule_failures,
	  10, 1, 1000000, CONFIG_RELOAD,
	  "wrong passwords a minute one rule's password takes, from everyone "
	  "together, before its checks back off: one at a time, 1 s apart, "
	  "doubling with each further wrong one", .unit = "failures"),
	CONFIG_ROW_SECONDS("limits.password", "rule_backoff",
	  limit_rule_backoff_ms, 60.0, 1, 86400, CONFIG_RELOAD,
	  "the longest wait, in seconds, between two checks of a backing-off "
	  "rule's password (senders whose password was verified before are "
	  "never held up)"),
	CONFIG_ROW_SIZE("limits", "senders", limit_senders, 100000,
	  1, 1e8, "senders", 0,
	  "most senders whose rates are tracked at once; the least recently "
	  "seen are forgotten first"),
	CONFIG_ROW_STRING("metrics", "listen", metrics_listen, NULL, 0,
	  "where to serve /metrics and /health over HTTP: \"127.0.0.1:9347\", "
	  "\"[::1]:9347\" or a port (on 127.0.0.1); unset: no endpoint",
	  .hook = hook_metrics_listen),
	CONFIG_ROW_SECONDS("drain", "quiet", drain_quiet_ms, 0.5, 0.01, 60,
	  CONFIG_RELOAD,
	  "on SIGTERM behind a server with mod_ope: close once no "
	  "request came for this many seconds"),
	CONFIG_ROW_SECONDS("drain", "maximum", drain_max_ms, 10.0, 0.1, 3600,
	  CONFIG_RELOAD, "the longest a drain on SIGTERM lasts, in seconds"),
	CONFIG_ROW_SECONDS("drain", "answer", drain_answer_ms, 1.0, 0.05, 60,
	  CONFIG_RELOAD,
	  "seconds to wait for mod_ope's answer to the drain request before "
	  "closing as without it (with a warning)"),
	CONFIG_ROW_STRING("control", "path", control_path, NULL, 0,
	  "the unix socket (mode 0600; only our uid or root may use it, "
	  "checked both ways) a new ope-component takes the link over "
	  "through (SIGUSR2, --takeover); keep its directory private (0700, "
	  "never /tmp); unset: $RUNTIME_DIRECTORY/control.sock under systemd, "
	  "else none", .hook = hook_control_path),
};

/* Queue a warning when FILE, which holds the component secret, is readable
 * by group or others. */
static void warn_mode(struct config_loader *ld, const char *where, const char *what,
		      const char *file, mode_t mode)
{
	if (mode & (S_IRGRP | S_IROTH))
		config_warn(ld, "%s: %s is readable by group or others (mode "
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
		config_where(ld, s, where, sizeof(where));
		config_warn(ld, "%s: %s is only %zu bytes long; use at least %d "
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
	config_where(ld, s, where, sizeof(where));
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

static int hook_instance(struct config_loader *ld, const struct config_row *row,
			 const config_setting_t *s, struct config *cfg)
{
	char esc[300];

	(void)row;
	if (cfg->instance != NULL && !pool_name_valid(cfg->instance))
		return config_fail(ld, s, "component.instance '%s' is not a "
				   "valid instance name: give 1 to %d bytes of "
				   "A-Z a-z 0-9 . _ : @ / -",
				   log_escape(esc, sizeof(esc), cfg->instance),
				   POOL_NAME_MAX);
	return 0;
}

/* server.connect "all": one link per entry, so each entry once. */
static int check_connect_all(struct config_loader *ld, const struct config *c)
{
	const config_setting_t *s = config_lookup(&ld->lc, "server.connect");
	const struct config_servers *ss = &c->servers;
	size_t i, j;

	if (!c->connect_all)
		return 0;
	if (ss->n > CONFIG_LINKS_MAX)
		return config_fail(ld, s, "server.connect \"all\" keeps one link "
				   "per server.hosts entry, at most %d; "
				   "server.hosts has %zu", CONFIG_LINKS_MAX,
				   ss->n);
	for (i = 0; i < ss->n; i++)
		for (j = i + 1; j < ss->n; j++)
			if (ss->list[i].port == ss->list[j].port &&
			    strcasecmp(ss->list[i].host, ss->list[j].host) == 0)
				return config_fail(ld, s, "server.connect "
					"\"all\": server.hosts lists %s port %u "
					"twice; give each server once (two links "
					"to one server would be two connections "
					"under one instance name)",
					ss->list[i].host, ss->list[i].port);
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
	const char *text = s ? config_setting_get_string(s) : row->def.s;
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
	(void)row;
#ifndef HAVE_SYSTEMD
	if (cfg->log_format == LOG_FORMAT_JOURNAL)
		return config_fail(ld, s, "log.format \"journal\" needs "
				   "ope-component built with libsystemd; use "
				   "\"json\" (under systemd it reaches the "
				   "journal as lines)");
#else
	(void)ld;
	(void)s;
	(void)cfg;
#endif
	return 0;
}

static void apply_timestamps(const struct config *cfg)
{
	log_set_timestamps(cfg->log_timestamps);
}

/* The format decides the sink too: the journal or stderr. */
static void apply_log_format(const struct config *cfg)
{
	log_set_format(cfg->log_format);
	log_set_sink(journal_wanted(cfg->log_format) ? journal_sink : NULL, NULL);
}

static int hook_not_empty(struct config_loader *ld, const struct config_row *row,
			  const config_setting_t *s, struct config *cfg)
{
	const char *value = *(char **)config_field(row, cfg);

	if (value != NULL && *value == '\0')
		return config_fail(ld, s, "%s.%s is empty; it is %s (default "
				   "\"%s\")", row->group, row->name, row->doc,
				   row->def.s ? row->def.s : "");
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
 * (hostport.h) into SRV (host malloc'd). Returns 0, or -1 after
 * config_fail(). */
static int parse_host_port(struct config_loader *ld, const config_setting_t *s,
			   const char *text, unsigned def_port,
			   struct config_server *srv)
{
	const char *host, *port;
	size_t hlen;
	unsigned p = def_port;
	char esc[300];

	if (hostport_split(text, &host, &hlen, &port) != 0)
		goto bad;
	if (port != NULL && (p = hostport_port(port)) == 0)
		return config_fail(ld, s, "server.hosts entry '%s' has a "
				   "bad port; give host:port with a port "
				   "from 1 to 65535",
				   log_escape(esc, sizeof(esc), text));
	srv->host = strndup(host, hlen);
	if (srv->host == NULL)
		return config_fail(ld, NULL, "out of memory");
	if (!jid_host_valid(srv->host)) {
		free(srv->host);
		srv->host = NULL;
		goto bad;
	}
	srv->port = p;
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
				   config_type_name(r));
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
					   name, config_type_name(e));
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
	config_where(ld, r, where, sizeof(where));
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

/* An access section turns the table on: its default is "deny" (the
 * row's) unless it says otherwise, even with no rules. Without one,
 * everyone is allowed. */
static int finish_access(struct config_loader *ld, struct config *c)
{
	if (config_lookup(&ld->lc, "access") == NULL) {
		c->access_default = ACCESS_ALLOW;
		return 0;
	}
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

/* Checks that involve more than one row. */
int config_table_check(struct config_loader *ld, struct config *c)
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
	if (check_connect_all(ld, c) < 0)
		return -1;
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

const struct config_row *config_table_rows(size_t *n)
{
	*n = ARRAY_SIZE(rows);
	return rows;
}
