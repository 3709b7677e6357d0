/* SPDX-License-Identifier: MIT */
/* settings_doc.c: the settings table as documentation: ope-component.conf(5)'s settings section (mdoc) or doc/configuration.md's Markdown table. */
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "settings_doc.h"

/* What a row takes in the file, in a word or two. */
static const char *type_word(const struct config_row *r)
{
	switch (r->kind) {
	case CONFIG_STRING:
	case CONFIG_ENUM: return "string";
	case CONFIG_UINT:
	case CONFIG_SIZE: return "integer";
	case CONFIG_MS: return "seconds";
	case CONFIG_DOUBLE: return "number";
	case CONFIG_BOOL: return "boolean";
	case CONFIG_CUSTOM: break;
	}
	switch (r->file_type) {
	case CONFIG_TYPE_STRING: return "string";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "integer";
	case CONFIG_TYPE_FLOAT: return "number";
	case CONFIG_TYPE_BOOL: return "boolean";
	case CONFIG_TYPE_LIST: return "list";
	case CONFIG_TYPE_ARRAY: return "array";
	case CONFIG_TYPE_GROUP: return "group";
	default: return "value";
	}
}

/* The default as the file would spell it: strings quoted. NULL: none. */
static const char *default_text(const struct config_row *r, char *buf, size_t len)
{
	int quoted = r->kind == CONFIG_STRING || r->kind == CONFIG_ENUM ||
		     (r->kind == CONFIG_CUSTOM && r->file_type == CONFIG_TYPE_STRING);

	if (r->def_text == NULL)
		return NULL;
	snprintf(buf, len, quoted ? "\"%s\"" : "%s", r->def_text);
	return buf;
}

/* "1 to 65535", "0.001 to 3600 s", or "" when unbounded. */
static const char *range_text(const struct config_row *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (r->min > r->max)
		return buf;
	snprintf(buf, len, "%.15g to %.15g%s%s", r->min, r->max, r->unit ? " " : "",
		 r->unit ? r->unit : "");
	return buf;
}

/* Text in a mdoc text line: backslashes escaped, a leading dot or
 * apostrophe defused; SENTENCE starts it with a capital. */
static void put_roff(FILE *out, const char *s, int sentence)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	if (sentence && *s >= 'a' && *s <= 'z')
		fputc(*s++ - 'a' + 'A', out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
	}
}

/* Text in a Markdown table cell: pipes escaped. */
static void put_md(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s, out);
	}
}

static void write_man(FILE *out, const struct config_row *rows, size_t n)
{
	const char *group = NULL;
	char def[128], range[64], var[80];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct config_row *r = &rows[i];

		if (group == NULL || strcmp(group, r->group) != 0) {
			if (group != NULL)
				fputs(".El\n", out);
			group = r->group;
			fprintf(out, ".Ss %s\n.Bl -tag -width Ds\n", group);
		}
		fprintf(out, ".It Ic %s.%s No = Ar %s\n", r->group, r->name,
			type_word(r));
		put_roff(out, r->doc, 1);
		fputs(".\n", out);
		config_env_name(r, var, sizeof(var));
		if (r->flags & CONFIG_SECRET)
			fprintf(out, "Never from the environment: give its file "
				"as\n.Ev %s_FILE .\n", var);
		else
			fprintf(out, "Environment:\n.Ev %s .\n", var);
		if (r->flags & CONFIG_REQUIRED)
			fputs("Required.\n", out);
		else if (default_text(r, def, sizeof(def)) != NULL) {
			fputs("Default: ", out);
			put_roff(out, def, 0);
			fputs(".\n", out);
		} else {
			fputs("No default.\n", out);
		}
		if (*range_text(r, range, sizeof(range)))
			fprintf(out, "From %s.\n", range);
		fputs(r->flags & CONFIG_RELOAD ?
		      "A change takes effect on\n.Dv SIGHUP .\n" :
		      "A change needs a restart.\n", out);
	}
	if (group != NULL)
		fputs(".El\n", out);
}

static void write_markdown(FILE *out, const struct config_row *rows, size_t n)
{
	char def[128], range[64], var[80];
	size_t i;

	fputs("| setting | variable | type | default | on SIGHUP | meaning |\n"
	      "|---|---|---|---|---|---|\n", out);
	for (i = 0; i < n; i++) {
		const struct config_row *r = &rows[i];

		config_env_name(r, var, sizeof(var));
		fprintf(out, "| `%s.%s` | %s%s%s | %s | ", r->group, r->name,
			r->flags & CONFIG_SECRET ? "only `" : "`", var,
			r->flags & CONFIG_SECRET ? "_FILE`" : "`", type_word(r));
		if (r->flags & CONFIG_REQUIRED)
			fputs("required", out);
		else if (default_text(r, def, sizeof(def)) != NULL)
			fprintf(out, "`%s`", def);
		else
			fputs("none", out);
		fputs(r->flags & CONFIG_RELOAD ? " | applied | " : " | restart | ", out);
		put_md(out, r->doc);
		if (*range_text(r, range, sizeof(range))) {
			fputs(" (", out);
			put_md(out, range);
			fputs(")", out);
		}
		fputs(" |\n", out);
	}
}

int settings_doc_write(FILE *out, enum settings_doc_format format)
{
	size_t n;
	const struct config_row *rows = config_rows(&n);

	if (format == SETTINGS_DOC_MAN)
		write_man(out, rows, n);
	else
		write_markdown(out, rows, n);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
