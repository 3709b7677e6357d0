/* SPDX-License-Identifier: MIT */
/* config.c: the settings engine: reads the table's rows (config_table.c, and extensions') to load, check, reload and free ope-component's libconfig file and environment. */
#include "build_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config.h"
#include "config_loader.h"
#include "ext.h"
#include "util.h"

/* The variables ope's other programs read that look like settings ones;
 * ope-component leaves them alone (doc/configuration.md, "Settings from the environment"). */
static const char *const env_foreign[] = {
	"OPE_SERVICE_PASSWORD",   /* ope-client's service password */
};

/* The rows the engine reads: the core table's, then each extension's
 * (config_rows()). Built on first use, never changed after. */
static struct config_row table[CONFIG_ROWS_MAX];
static size_t ntable;

static void table_add(const struct config_row *r, size_t n)
{
	if (ntable + n > CONFIG_ROWS_MAX) {
		/* A build-time mistake that every test run shows at once. */
		fprintf(stderr, "ope: more than %d settings rows; raise "
			"CONFIG_ROWS_MAX in config.h\n", CONFIG_ROWS_MAX);
		abort();
	}
	memcpy(table + ntable, r, n * sizeof(*r));
	ntable += n;
}

/* The core rows, then each registered extension's, in registry order. */
static void table_build(void)
{
	const struct ext *const *exts;
	const struct config_row *core;
	size_t i, n, next;

	core = config_table_rows(&n);
	table_add(core, n);
	exts = ext_registry_list(&next);
	for (i = 0; i < next; i++)
		if (exts[i]->settings != NULL)
			table_add(exts[i]->settings, exts[i]->nsettings);
}

/* The number of rows; the loops of the engine ask it on every turn. */
static size_t nrows(void)
{
	if (ntable == 0)
		table_build();
	return ntable;
}

const struct config_row *config_rows(size_t *n)
{
	*n = nrows();
	return table;
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

void config_where(struct config_loader *ld, const config_setting_t *s,
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
		config_where(ld, s, where, sizeof(where));
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

const char *config_type_name(const config_setting_t *s)
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
	case CONFIG_STRING:
	case CONFIG_ENUM: return "a string in double quotes";
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
	case CONFIG_STRING:
	case CONFIG_ENUM: return t == CONFIG_TYPE_STRING;
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

	for (i = 0; i < nrows(); i++)
		if (strncmp(table[i].group, path, n) == 0 &&
		    (table[i].group[n] == '\0' || table[i].group[n] == '.'))
			return 1;
	return 0;
}

static const struct config_row *row_find(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < nrows(); i++)
		if (strcmp(group, table[i].group) == 0 &&
		    strcmp(name, table[i].name) == 0)
			return &table[i];
	return NULL;
}

/* Call FN(NAME, ARG) once for each name known directly inside group PATH
 * ("" for the top level): its settings, then its subgroups, in table
 * order. Stops and returns 1 when FN does. */
static int each_child(const char *path, int (*fn)(const char *, size_t, void *),
		      void *arg)
{
	size_t i, j, n = strlen(path);

	for (i = 0; i < nrows(); i++)
		if (n > 0 && strcmp(table[i].group, path) == 0 &&
		    fn(table[i].name, strlen(table[i].name), arg))
			return 1;
	for (i = 0; i < nrows(); i++) {
		const char *g = table[i].group, *sub, *end;
		size_t len;
		int seen = 0;

		if (n > 0 && (strncmp(g, path, n) != 0 || g[n] != '.'))
			continue;
		sub = n > 0 ? g + n + 1 : g;
		end = strchr(sub, '.');
		len = end ? (size_t)(end - sub) : strlen(sub);
		/* Each subgroup once, at its first row. */
		for (j = 0; j < i && !seen; j++) {
			const char *h = table[j].group;

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
	for (i = 0; i < nrows(); i++)
		if (strcmp(name, table[i].name) == 0)
			return config_fail(ld, s, "unknown setting '%s%s%s' "
					   "(did you mean '%s.%s'?)", path, dot,
					   name, table[i].group, table[i].name);
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
						   config_type_name(s));
			continue;
		}
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", path,
				     *path ? "." : "", name) >= sizeof(sub) ||
		    !group_known(sub))
			return fail_unknown(ld, s, path, name);
		if (!config_setting_is_group(s))
			return config_fail(ld, s, "'%s' must be a group { ... }, "
					   "not %s", sub, config_type_name(s));
		if (check_group(ld, s, sub) < 0)
			return -1;
	}
	return 0;
}

void config_warn(struct config_loader *ld, const char *fmt, ...)
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
	for (i = 0; i < nrows(); i++) {
		struct config_row top = { .group = "", .name = "" };
		char group[64];
		size_t n = strcspn(table[i].group, ".");

		/* "OPE_" and the top group, upper-cased, then '_'. */
		snprintf(group, sizeof(group), "%.*s", (int)n, table[i].group);
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
	for (i = 0; i < nrows(); i++) {
		size_t d;

		config_env_name(&table[i], var, sizeof(var));
		d = edit_distance(name + 4, var + 4, strlen(var + 4));
		if (d < best) {
			best = d;
			at = i;
		}
		if (strncmp(var, name, glen) == 0)
			list_fn(var, strlen(var), &nl);
	}
	config_env_name(&table[at], var, sizeof(var));
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
				    part, config_type_name(m));
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
	if (row->kind == CONFIG_STRING || row->kind == CONFIG_ENUM ||
	    kind_type == CONFIG_TYPE_STRING) {
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
		for (i = 0; i < nrows() && !done; i++) {
			config_env_name(&table[i], var, sizeof(var));
			if (strcmp(var, name) != 0)
				continue;
			if (env_set(ld, &table[i], name, eq + 1) < 0)
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

void *config_field(const struct config_row *row, struct config *cfg)
{
	return (char *)cfg + row->offset;
}

static void release_field(const struct config_row *row, struct config *cfg)
{
	void *field = config_field(row, cfg);

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

/* "\"a\", \"b\" or \"c\"": the names of enum row ROW, into BUF. */
static const char *enum_names(const struct config_row *row, char *buf,
			      size_t len)
{
	const struct config_enum *e;
	size_t used = 0;

	buf[0] = '\0';
	for (e = row->names; e->name != NULL && used < len; e++) {
		int n = snprintf(buf + used, len - used, "%s\"%s\"",
				 e == row->names ? "" :
				 e[1].name == NULL ? " or " : ", ", e->name);

		used = n > 0 ? used + (size_t)n : used;
	}
	return buf;
}

/* An enum row's name from setting S (NULL: its default) into FIELD. */
static int store_enum(struct config_loader *ld, const struct config_row *row,
		      const config_setting_t *s, void *field)
{
	const char *text = s ? config_setting_get_string(s) : row->def.s;
	const struct config_enum *e;
	char esc[100], names[200];

	for (e = row->names; e->name != NULL; e++)
		if (strcmp(text, e->name) == 0) {
			*(int *)field = e->value;
			return 0;
		}
	return config_fail(ld, s, "%s.%s '%s' is unknown; use %s", row->group,
			   row->name, log_escape(esc, sizeof(esc), text),
			   enum_names(row, names, sizeof(names)));
}

/* Store ROW's value from setting S (NULL: its default) into CFG, check its
 * bounds, then run its hook. */
static int apply_row(struct config_loader *ld, const struct config_row *row,
		     const config_setting_t *s, struct config *cfg)
{
	void *field = config_field(row, cfg);
	int bounded = !(row->min > row->max);
	double v = 0;

	switch (row->kind) {
	case CONFIG_STRING: {
		const char *text = s ? config_setting_get_string(s) : row->def.s;
		char *copy = NULL;

		if (text != NULL && (copy = strdup(text)) == NULL)
			return config_fail(ld, NULL, "out of memory");
		release_field(row, cfg);
		*(char **)field = copy;
		break;
	}
	case CONFIG_UINT:
	case CONFIG_SIZE:
		v = s ? (double)config_setting_get_int64(s) : (double)row->def.u;
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
			 (double)config_setting_get_int64(s)) : row->def.d;
		/* The negated form also refuses NaN. */
		if (bounded && !(v >= row->min && v <= row->max))
			return out_of_range(ld, row, s, v);
		if (row->kind == CONFIG_MS)
			*(unsigned *)field = (unsigned)(v * 1000.0 + 0.5);
		else
			*(double *)field = v;
		break;
	case CONFIG_BOOL:
		*(int *)field = s ? config_setting_get_bool(s) != 0 : row->def.b;
		break;
	case CONFIG_ENUM:
		if (store_enum(ld, row, s, field) < 0)
			return -1;
		break;
	case CONFIG_CUSTOM:
		break;
	}
	return row->hook ? row->hook(ld, row, s, cfg) : 0;
}

/* Apply every row: the file's value where it gives one, else the default;
 * a required row the file lacks is an error. DEFAULTS_ONLY skips the file. */
static int apply_rows(struct config_loader *ld, struct config *c,
		      int defaults_only)
{
	size_t i;

	for (i = 0; i < nrows(); i++) {
		const struct config_row *row = &table[i];
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
	    apply_rows(&ld, &c, 0) < 0 || config_table_check(&ld, &c) < 0)
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
		const char *x = *(char **)config_field(row, a);
		const char *y = *(char **)config_field(row, b);

		return (x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0);
	}
	/* A list owns memory: compare what it holds, not its pointer. */
	if (row->same != NULL)
		return !row->same(config_field(row, a), config_field(row, b));
	return memcmp(config_field(row, a), config_field(row, b), row->size) != 0;
}

int config_reload(struct config *running, char *err, size_t errlen,
		  char *kept, size_t keptlen)
{
	return config_reload_changes(running, err, errlen, kept, keptlen,
				     NULL, 0);
}

/* Append ", group.name" (no comma first) to BUF (size LEN, *USED used). */
static void name_add(char *buf, size_t len, size_t *used,
		     const struct config_row *row)
{
	int n;

	if (*used >= len)
		return;
	n = snprintf(buf + *used, len - *used, "%s%s.%s", *used ? ", " : "",
		     row->group, row->name);
	*used = n > 0 ? *used + (size_t)n : *used;
}

int config_reload_changes(struct config *running, char *err, size_t errlen,
			  char *kept, size_t keptlen, char *changed,
			  size_t changedlen)
{
	struct config fresh, old;
	unsigned char tmp[64], apply[CONFIG_ROWS_MAX] = { 0 };
	size_t i, used = 0, cused = 0;

	if (keptlen)
		kept[0] = '\0';
	if (changedlen)
		changed[0] = '\0';
	if (config_load(running->path, &fresh, err, errlen) != 0)
		return -1;
	for (i = 0; i < nrows(); i++) {
		const struct config_row *row = &table[i];
		void *a = config_field(row, &fresh), *b = config_field(row, running);
		int differs = !(row->flags & CONFIG_UNCOMPARED) &&
			      row_differs(row, &fresh, running);

		if (row->flags & CONFIG_RELOAD) {
			if (differs)
				name_add(changed, changedlen, &cused, row);
			apply[i] = differs && row->apply != NULL;
			continue;
		}
		if (differs)
			name_add(kept, keptlen, &used, row);
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
	for (i = 0; i < nrows(); i++)
		if (apply[i])
			table[i].apply(running);
	return 0;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < nrows(); i++)
		release_field(&table[i], cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
