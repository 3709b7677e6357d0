/* SPDX-License-Identifier: MIT */
/* config.c: read ope-component's libconfig file, check every setting, apply defaults. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config.h"
#include "jid.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 5347
#define DEFAULT_RECONNECT_INITIAL_MS 1000
#define DEFAULT_RECONNECT_MAX_MS 60000
#define DEFAULT_SERVICE_NAME "ope"
#define DEFAULT_MAX_PAYLOAD 65536

#define RECONNECT_LIMIT_S 3600.0
#define MAX_PAYLOAD_MIN 256
#define MAX_PAYLOAD_MAX 16777216
/* A secret file holds one line; anything this big is the wrong file. */
#define SECRET_FILE_MAX 4096

enum kind { KIND_STRING, KIND_INT, KIND_NUMBER, KIND_BOOL };

struct schema_key {
	const char *group;
	const char *name;
	enum kind kind;
};

static const char *const schema_groups[] = {
	"server", "component", "log", "reconnect", "service",
};

static const struct schema_key schema_keys[] = {
	{ "server", "host", KIND_STRING },
	{ "server", "port", KIND_INT },
	{ "component", "domain", KIND_STRING },
	{ "component", "secret", KIND_STRING },
	{ "component", "secret_file", KIND_STRING },
	{ "log", "level", KIND_STRING },
	{ "log", "timestamps", KIND_BOOL },
	{ "reconnect", "initial", KIND_NUMBER },
	{ "reconnect", "maximum", KIND_NUMBER },
	{ "service", "name", KIND_STRING },
	{ "service", "show_os", KIND_BOOL },
	{ "service", "max_payload", KIND_INT },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* State of one config_load() call. */
struct loader {
	const char *path;
	char *dir;                  /* PATH's directory, for relative paths */
	config_t lc;
	char *err;
	size_t errlen;
	char warning[2 * PATH_MAX + 200];
};

/* Write "FILE:LINE: message" (or "PATH: message" without a line) to ERR. */
__attribute__((format(printf, 3, 4)))
static void fail(struct loader *ld, const config_setting_t *s,
		 const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ld->errlen == 0)
		return;
	if (s && config_setting_source_line(s) > 0)
		n = snprintf(ld->err, ld->errlen, "%s:%u: ",
			     config_setting_source_file(s) ?
			     config_setting_source_file(s) : ld->path,
			     (unsigned)config_setting_source_line(s));
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->path);
	if (n < 0 || (size_t)n >= ld->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
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

static const char *kind_name(enum kind kind)
{
	switch (kind) {
	case KIND_STRING: return "a string in double quotes";
	case KIND_INT: return "an integer";
	case KIND_NUMBER: return "a number";
	case KIND_BOOL: return "a boolean (true or false)";
	}
	return "?";
}

static int kind_matches(enum kind kind, const config_setting_t *s)
{
	int t = config_setting_type(s);

	switch (kind) {
	case KIND_STRING: return t == CONFIG_TYPE_STRING;
	case KIND_INT: return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case KIND_NUMBER: return config_setting_is_number(s);
	case KIND_BOOL: return t == CONFIG_TYPE_BOOL;
	}
	return 0;
}

/* Edit distance counting a transposition as one edit (optimal string
 * alignment); names longer than 31 bytes count as far from everything. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
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
static int near_miss(const char *typed, const char *known)
{
	size_t d = edit_distance(typed, known);

	return d <= (strlen(known) <= 4 ? 1u : 2u);
}

static int known_group(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(schema_groups); i++)
		if (strcmp(name, schema_groups[i]) == 0)
			return 1;
	return 0;
}

static const struct schema_key *known_key(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(schema_keys); i++)
		if (strcmp(group, schema_keys[i].group) == 0 &&
		    strcmp(name, schema_keys[i].name) == 0)
			return &schema_keys[i];
	return NULL;
}

/* Report an unknown setting NAME inside GROUP (NULL: top level), with the
 * closest known name or, failing that, the list of known ones. */
static void fail_unknown(struct loader *ld, const config_setting_t *s,
			 const char *group, const char *name)
{
	char known[160] = "";
	size_t i, o = 0;

	if (group == NULL) {
		for (i = 0; i < NELEM(schema_groups); i++) {
			if (near_miss(name, schema_groups[i])) {
				fail(ld, s, "unknown setting '%s' (did you mean '%s'?)",
				     name, schema_groups[i]);
				return;
			}
		}
	} else {
		for (i = 0; i < NELEM(schema_keys); i++) {
			if (strcmp(schema_keys[i].group, group) == 0 &&
			    near_miss(name, schema_keys[i].name)) {
				fail(ld, s, "unknown setting '%s.%s' (did you mean '%s.%s'?)",
				     group, name, group, schema_keys[i].name);
				return;
			}
		}
	}
	/* A key put in the wrong group (or at the top level). */
	for (i = 0; i < NELEM(schema_keys); i++) {
		if (strcmp(name, schema_keys[i].name) == 0) {
			fail(ld, s, "unknown setting '%s%s%s' (did you mean '%s.%s'?)",
			     group ? group : "", group ? "." : "", name,
			     schema_keys[i].group, schema_keys[i].name);
			return;
		}
	}
	if (group == NULL) {
		for (i = 0; i < NELEM(schema_groups); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
					      i ? ", " : "", schema_groups[i]);
		fail(ld, s, "unknown setting '%s' (known groups: %s)", name, known);
		return;
	}
	for (i = 0; i < NELEM(schema_keys); i++) {
		if (strcmp(schema_keys[i].group, group) != 0)
			continue;
		o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
				      o ? ", " : "", schema_keys[i].name);
	}
	fail(ld, s, "unknown setting '%s.%s' (known in %s: %s)", group, name,
	     group, known);
}

/* Reject unknown names and wrong types anywhere in the file, in file order. */
static int check_schema(struct loader *ld)
{
	const config_setting_t *root = config_root_setting(&ld->lc);
	int i, j, n = config_setting_length(root);

	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		const char *gname = config_setting_name(g);
		int m;

		if (!known_group(gname)) {
			fail_unknown(ld, g, NULL, gname);
			return -1;
		}
		if (!config_setting_is_group(g)) {
			fail(ld, g, "'%s' must be a group { ... }, not %s",
			     gname, type_name(g));
			return -1;
		}
		m = config_setting_length(g);
		for (j = 0; j < m; j++) {
			const config_setting_t *s =
				config_setting_get_elem(g, (unsigned)j);
			const struct schema_key *k =
				known_key(gname, config_setting_name(s));

			if (k == NULL) {
				fail_unknown(ld, s, gname, config_setting_name(s));
				return -1;
			}
			if (!kind_matches(k->kind, s)) {
				fail(ld, s, "%s.%s must be %s, not %s", gname,
				     k->name, kind_name(k->kind), type_name(s));
				return -1;
			}
		}
	}
	return 0;
}

static const config_setting_t *lookup(struct loader *ld, const char *path)
{
	return config_lookup(&ld->lc, path);
}

/* Replace *DST with a copy of SRC. */
static int set_string(struct loader *ld, char **dst, const char *src)
{
	char *copy = strdup(src);

	if (copy == NULL) {
		fail(ld, NULL, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static int apply_server(struct loader *ld, struct config *c)
{
	const config_setting_t *s;
	char esc[300];

	if ((s = lookup(ld, "server.host")) != NULL) {
		const char *host = config_setting_get_string(s);
		size_t len = strlen(host);

		if (!jid_host_valid(host)) {
			fail(ld, s, "server.host '%s' is not a valid host name, "
			     "IPv4 or IPv6 address",
			     log_escape(esc, sizeof(esc), host));
			return -1;
		}
		if (set_string(ld, &c->server_host, host) < 0)
			return -1;
		/* Connecting wants the bare address, not the URI form. */
		if (host[0] == '[') {
			memmove(c->server_host, host + 1, len - 2);
			c->server_host[len - 2] = '\0';
		}
	}
	if ((s = lookup(ld, "server.port")) != NULL) {
		long long port = config_setting_get_int64(s);

		if (port < 1 || port > 65535) {
			fail(ld, s, "server.port %lld is out of range (1..65535)",
			     port);
			return -1;
		}
		c->server_port = (unsigned)port;
	}
	return 0;
}

/* Queue a warning when FILE, which holds the component secret, is readable
 * by group or others; config_load() logs it only when the load succeeds. */
static void warn_mode(struct loader *ld, const char *where, const char *what,
		      const char *file, mode_t mode)
{
	if (mode & (S_IRGRP | S_IROTH))
		snprintf(ld->warning, sizeof(ld->warning), "%s: %s is readable "
			 "by group or others (mode %03o) but holds the "
			 "component secret; run 'chmod 600 %s'", where, what,
			 (unsigned)(mode & 0777), file);
}

/* Read the secret from FILE (relative to the config file's directory)
 * named by setting S into *OUT. */
static int read_secret_file(struct loader *ld, const config_setting_t *s,
			    const char *file, char **out)
{
	char where[PATH_MAX + 32], what[PATH_MAX + 40];
	char *path = NULL, *buf = NULL;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd = -1, ret = -1;

	if (*file == '\0') {
		fail(ld, s, "component.secret_file is empty; give the path "
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
	buf = malloc(SECRET_FILE_MAX + 2);
	if (path == NULL || buf == NULL) {
		fail(ld, NULL, "out of memory");
		goto out;
	}
	/* O_NONBLOCK: a FIFO named here must not hang start-up or a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fail(ld, s, "cannot read component.secret_file '%s': %s",
		     path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		fail(ld, s, "cannot read component.secret_file '%s': %s",
		     path, strerror(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(ld, s, "component.secret_file '%s' is not a regular file",
		     path);
		goto out;
	}
	while (len <= SECRET_FILE_MAX) {
		got = read(fd, buf + len, SECRET_FILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fail(ld, s, "cannot read component.secret_file '%s': %s",
			     path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > SECRET_FILE_MAX) {
		fail(ld, s, "component.secret_file '%s' is larger than %d bytes; "
		     "it must hold only the secret", path, SECRET_FILE_MAX);
		goto out;
	}
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
	if (len == 0) {
		fail(ld, s, "component.secret_file '%s' is empty; write the "
		     "secret into it", path);
		goto out;
	}
	if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
		fail(ld, s, "component.secret_file '%s' must hold the secret "
		     "on one line (found a line break or NUL byte inside)", path);
		goto out;
	}
	snprintf(where, sizeof(where), "%s:%u",
		 config_setting_source_file(s) ? config_setting_source_file(s) :
		 ld->path, (unsigned)config_setting_source_line(s));
	snprintf(what, sizeof(what), "component.secret_file '%s'", path);
	warn_mode(ld, where, what, path, st.st_mode);
	*out = buf;
	buf = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (buf) {
		/* It may hold part of the secret. */
		explicit_bzero(buf, SECRET_FILE_MAX + 2);
		free(buf);
	}
	free(path);
	return ret;
}

static int apply_component(struct loader *ld, struct config *c,
			   const struct stat *conf_st)
{
	const config_setting_t *group = lookup(ld, "component");
	const config_setting_t *domain = lookup(ld, "component.domain");
	const config_setting_t *secret = lookup(ld, "component.secret");
	const config_setting_t *file = lookup(ld, "component.secret_file");
	char esc[300];

	if (domain == NULL) {
		fail(ld, group, "missing required setting 'component.domain' "
		     "(the component's XMPP domain, e.g. \"ope.example.org\")");
		return -1;
	}
	if (!jid_domain_valid(config_setting_get_string(domain))) {
		fail(ld, domain, "component.domain '%s' is not a valid domain name",
		     log_escape(esc, sizeof(esc),
				config_setting_get_string(domain)));
		return -1;
	}
	if (set_string(ld, &c->domain, config_setting_get_string(domain)) < 0)
		return -1;

	if (secret && file) {
		fail(ld, config_setting_source_line(file) >
			 config_setting_source_line(secret) ? file : secret,
		     "give only one of component.secret and "
		     "component.secret_file, not both");
		return -1;
	}
	if (secret == NULL && file == NULL) {
		fail(ld, group, "missing required setting: give one of "
		     "'component.secret' or 'component.secret_file'");
		return -1;
	}
	if (secret) {
		if (*config_setting_get_string(secret) == '\0') {
			fail(ld, secret, "component.secret is empty; set it to "
			     "the server's component_secret");
			return -1;
		}
		if (set_string(ld, &c->secret,
			       config_setting_get_string(secret)) < 0)
			return -1;
		warn_mode(ld, ld->path, "this file", ld->path,
			  conf_st->st_mode);
		return 0;
	}
	return read_secret_file(ld, file, config_setting_get_string(file),
				&c->secret);
}

static int apply_log(struct loader *ld, struct config *c)
{
	const config_setting_t *s;
	char esc[100];

	if ((s = lookup(ld, "log.level")) != NULL &&
	    log_level_parse(config_setting_get_string(s), &c->log_level) < 0) {
		fail(ld, s, "log.level '%s' is unknown; use one of error, "
		     "warning, info, debug",
		     log_escape(esc, sizeof(esc), config_setting_get_string(s)));
		return -1;
	}
	if ((s = lookup(ld, "log.timestamps")) != NULL)
		c->log_timestamps = config_setting_get_bool(s) != 0;
	return 0;
}

/* A duration in seconds (int or float) into *MS. */
static int get_seconds(struct loader *ld, const config_setting_t *s,
		       const char *name, unsigned *ms)
{
	double v = config_setting_type(s) == CONFIG_TYPE_FLOAT ?
		   config_setting_get_float(s) :
		   (double)config_setting_get_int64(s);

	if (!(v >= 0.001 && v <= RECONNECT_LIMIT_S)) {
		fail(ld, s, "%s %g is out of range; give seconds from 0.001 "
		     "to %.0f", name, v, RECONNECT_LIMIT_S);
		return -1;
	}
	*ms = (unsigned)(v * 1000.0 + 0.5);
	return 0;
}

static int apply_reconnect(struct loader *ld, struct config *c)
{
	const config_setting_t *ini = lookup(ld, "reconnect.initial");
	const config_setting_t *max = lookup(ld, "reconnect.maximum");

	if (ini && get_seconds(ld, ini, "reconnect.initial",
			       &c->reconnect_initial_ms) < 0)
		return -1;
	if (max && get_seconds(ld, max, "reconnect.maximum",
			       &c->reconnect_max_ms) < 0)
		return -1;
	if (c->reconnect_max_ms < c->reconnect_initial_ms) {
		fail(ld, max ? max : ini, "reconnect.maximum (%.3g s) is less "
		     "than reconnect.initial (%.3g s)",
		     c->reconnect_max_ms / 1000.0,
		     c->reconnect_initial_ms / 1000.0);
		return -1;
	}
	return 0;
}

static int apply_service(struct loader *ld, struct config *c)
{
	const config_setting_t *s;

	if ((s = lookup(ld, "service.name")) != NULL) {
		if (*config_setting_get_string(s) == '\0') {
			fail(ld, s, "service.name is empty; it is the name "
			     "service discovery shows (default \"%s\")",
			     DEFAULT_SERVICE_NAME);
			return -1;
		}
		if (set_string(ld, &c->service_name,
			       config_setting_get_string(s)) < 0)
			return -1;
	}
	if ((s = lookup(ld, "service.show_os")) != NULL)
		c->service_show_os = config_setting_get_bool(s) != 0;
	if ((s = lookup(ld, "service.max_payload")) != NULL) {
		long long v = config_setting_get_int64(s);

		if (v < MAX_PAYLOAD_MIN || v > MAX_PAYLOAD_MAX) {
			fail(ld, s, "service.max_payload %lld is out of range "
			     "(%d..%d bytes)", v, MAX_PAYLOAD_MIN,
			     MAX_PAYLOAD_MAX);
			return -1;
		}
		c->max_payload = (size_t)v;
	}
	return 0;
}

int config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->server_host = strdup(DEFAULT_HOST);
	cfg->service_name = strdup(DEFAULT_SERVICE_NAME);
	if (cfg->server_host == NULL || cfg->service_name == NULL) {
		config_free(cfg);
		return -1;
	}
	cfg->server_port = DEFAULT_PORT;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_timestamps = 1;
	cfg->reconnect_initial_ms = DEFAULT_RECONNECT_INITIAL_MS;
	cfg->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
	cfg->service_show_os = 1;
	cfg->max_payload = DEFAULT_MAX_PAYLOAD;
	return 0;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
	struct config c;
	struct stat st;
	FILE *fp = NULL;
	char *slash;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	if (errlen)
		err[0] = '\0';
	config_init(&ld.lc);
	if (path == NULL || *path == '\0') {
		ld.path = "(no path)";
		fail(&ld, NULL, "no configuration file given");
		goto out;
	}

	fp = fopen(path, "re");
	if (fp == NULL || fstat(fileno(fp), &st) < 0) {
		fail(&ld, NULL, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		fail(&ld, NULL, "cannot open: %s", strerror(EISDIR));
		goto out;
	}

	ld.dir = strdup(path);
	if (ld.dir == NULL) {
		fail(&ld, NULL, "out of memory");
		goto out;
	}
	slash = strrchr(ld.dir, '/');
	if (slash == NULL)
		strcpy(ld.dir, ".");
	else if (slash == ld.dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* @include and secret_file both resolve against the file's own
	 * directory, so the daemon's working directory does not matter. */
	config_set_include_dir(&ld.lc, ld.dir);

	if (config_read(&ld.lc, fp) != CONFIG_TRUE) {
		const char *text = config_error_text(&ld.lc);

		if (config_error_type(&ld.lc) == CONFIG_ERR_FILE_IO) {
			snprintf(err, errlen, "%s: cannot read: %s",
				 config_error_file(&ld.lc) ?
				 config_error_file(&ld.lc) : path,
				 text ? text : "I/O error");
		} else if (text == NULL || strcmp(text, "syntax error") == 0) {
			/* libconfig 1.5 says only "syntax error": help a bit. */
			snprintf(err, errlen, "%s:%d: syntax error (look for a "
				 "missing or extra ';', '=', '\"' or brace here "
				 "or on the line before)",
				 config_error_file(&ld.lc) ?
				 config_error_file(&ld.lc) : path,
				 config_error_line(&ld.lc));
		} else {
			snprintf(err, errlen, "%s:%d: syntax error: %s",
				 config_error_file(&ld.lc) ?
				 config_error_file(&ld.lc) : path,
				 config_error_line(&ld.lc), text);
		}
		goto out;
	}

	if (config_defaults(&c) < 0 || (c.path = strdup(path)) == NULL) {
		fail(&ld, NULL, "out of memory");
		goto out;
	}
	if (check_schema(&ld) < 0 || apply_server(&ld, &c) < 0 ||
	    apply_component(&ld, &c, &st) < 0 || apply_log(&ld, &c) < 0 ||
	    apply_reconnect(&ld, &c) < 0 || apply_service(&ld, &c) < 0)
		goto out;

	if (ld.warning[0])
		log_warn("%s", ld.warning);
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

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->server_host);
	free(cfg->domain);
	if (cfg->secret) {
		explicit_bzero(cfg->secret, strlen(cfg->secret));
		free(cfg->secret);
	}
	free(cfg->service_name);
	memset(cfg, 0, sizeof(*cfg));
}
