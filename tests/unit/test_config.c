/* SPDX-License-Identifier: MIT */
/* test_config.c: unit tests for the config module: values, defaults, every error and warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "access.h"
#include "config.h"
#include "ext.h"
#include "log.h"
#include "testutil.h"

#define FIXTURES SRCDIR "/tests/unit/fixtures/config/"

static const struct config zero_cfg;

/* config_load() on fixture NAME; the error text lands in ERR. */
static int load_fixture(const char *name, struct config *cfg, char *err,
			size_t errlen)
{
	char path[1024];

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	return config_load(path, cfg, err, errlen);
}

/* Fixture NAME must fail with "PATH:LINE: " (LINE 0: "PATH: ") followed by
 * text containing NEEDLE, and leave the struct zeroed. */
static void check_bad(const char *name, unsigned line, const char *needle)
{
	struct config cfg;
	char err[1024], prefix[1100];
	int rc;

	memset(&cfg, 0x5a, sizeof(cfg));
	rc = load_fixture(name, &cfg, err, sizeof(err));
	if (line)
		snprintf(prefix, sizeof(prefix), FIXTURES "%s:%u: ", name, line);
	else
		snprintf(prefix, sizeof(prefix), FIXTURES "%s: ", name);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(strncmp(err, prefix, strlen(prefix)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
	if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, needle) == NULL)
		fprintf(stderr, "\n%s: got \"%s\", wanted prefix \"%s\" and "
			"\"%s\"\n", name, err, prefix, needle);
	config_free(&cfg);
}

/* Fixture NAME must load; returns 0 and fills CFG, or fails the test. */
static int check_good(const char *name, struct config *cfg)
{
	char err[1024] = "";
	int rc = load_fixture(name, cfg, err, sizeof(err));

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	if (rc != 0)
		fprintf(stderr, "\n%s: unexpected error \"%s\"\n", name, err);
	return rc;
}

static void test_defaults(void)
{
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_EQUAL_FATAL(config_defaults(&cfg), 0);
	CU_ASSERT_STRING_EQUAL(cfg.server_host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.server_port, 5347);
	CU_ASSERT_PTR_NULL(cfg.domain);
	CU_ASSERT_PTR_NULL(cfg.secret);
	CU_ASSERT_PTR_NULL(cfg.instance);
	CU_ASSERT_EQUAL(cfg.connect_all, 0);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(cfg.log_timestamps, 1);
	CU_ASSERT_EQUAL(cfg.reconnect_initial_ms, 1000);
	CU_ASSERT_EQUAL(cfg.reconnect_max_ms, 60000);
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "ope");
	CU_ASSERT_EQUAL(cfg.service_show_os, 1);
	CU_ASSERT_EQUAL(cfg.max_payload, 65536);
	config_free(&cfg);
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
	/* Freeing twice (a zeroed struct) is allowed. */
	config_free(&cfg);
}

static void test_full(void)
{
	struct config cfg;

	if (check_good("full.conf", &cfg) != 0)
		return;
	CU_ASSERT_STRING_EQUAL(cfg.path, FIXTURES "full.conf");
	CU_ASSERT_STRING_EQUAL(cfg.server_host, "::1");
	CU_ASSERT_EQUAL(cfg.server_port, 15347);
	CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.test.example");
	CU_ASSERT_STRING_EQUAL(cfg.secret, "full-secret");
	CU_ASSERT_STRING_EQUAL(cfg.instance, "node-1.eu:a@b/c_d");
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(cfg.log_timestamps, 0);
	CU_ASSERT_EQUAL(cfg.reconnect_initial_ms, 250);
	CU_ASSERT_EQUAL(cfg.reconnect_max_ms, 120000);
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "Ope Test");
	CU_ASSERT_EQUAL(cfg.service_show_os, 0);
	CU_ASSERT_EQUAL(cfg.max_payload, 1048576);
	CU_ASSERT_STRING_EQUAL(cfg.metrics_listen, "[::1]:19347");
	config_free(&cfg);
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
}

static void test_connect_all(void)
{
	struct config cfg;

	if (check_good("connect-all.conf", &cfg) != 0)
		return;
	CU_ASSERT_EQUAL(cfg.connect_all, 1);
	CU_ASSERT_EQUAL(cfg.servers.n, 3);
	config_free(&cfg);
}

static void test_link_settings(void)
{
	struct config cfg;
	const struct config_server *sv;

	if (check_good("link.conf", &cfg) != 0)
		return;
	CU_ASSERT_EQUAL_FATAL(cfg.servers.n, 4);
	sv = cfg.servers.list;
	CU_ASSERT_STRING_EQUAL(sv[0].host, "10.0.0.1");
	CU_ASSERT_EQUAL(sv[0].port, 5348);
	CU_ASSERT_STRING_EQUAL(sv[1].host, "2001:db8::2");
	CU_ASSERT_EQUAL(sv[1].port, 5349);
	CU_ASSERT_STRING_EQUAL(sv[2].host, "xmpp3.example.org");
	CU_ASSERT_EQUAL(sv[2].port, 5347);
	CU_ASSERT_STRING_EQUAL(sv[3].host, "::1");
	CU_ASSERT_EQUAL(sv[3].port, 5347);
	CU_ASSERT_EQUAL(cfg.connect_timeout_ms, 2500);
	CU_ASSERT_EQUAL(cfg.tls_direct, 1);
	CU_ASSERT_STRING_EQUAL(cfg.tls_ca_file, FIXTURES "ca.pem");
	CU_ASSERT_STRING_EQUAL(cfg.tls_name, "xmpp.example.org");
	CU_ASSERT_EQUAL(cfg.limits.stanza_bytes, 100000);
	CU_ASSERT_EQUAL(cfg.limits.depth, 10);
	CU_ASSERT_EQUAL(cfg.limits.children, 20);
	CU_ASSERT_EQUAL(cfg.limits.attrs, 30);
	CU_ASSERT_EQUAL(cfg.limits.attr_bytes, 400);
	CU_ASSERT_EQUAL(cfg.limits.text_bytes, 500);
	CU_ASSERT_EQUAL(cfg.queue_max, 1048576);
	CU_ASSERT_EQUAL(cfg.liveness_idle_ms, 0);
	CU_ASSERT_EQUAL(cfg.liveness_timeout_ms, 1500);
	config_free(&cfg);
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
}

/* Without server.hosts the one server is host and port. */
static void test_link_defaults(void)
{
	struct config cfg;

	if (check_good("minimal.conf", &cfg) != 0)
		return;
	CU_ASSERT_EQUAL_FATAL(cfg.servers.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg.servers.list[0].host, cfg.server_host);
	CU_ASSERT_EQUAL(cfg.servers.list[0].port, cfg.server_port);
	CU_ASSERT_EQUAL(cfg.tls_direct, 0);
	CU_ASSERT_PTR_NULL(cfg.tls_ca_file);
	CU_ASSERT_PTR_NULL(cfg.tls_name);
	CU_ASSERT_EQUAL(cfg.connect_timeout_ms, 10000);
	CU_ASSERT_EQUAL(cfg.limits.stanza_bytes, 262144);
	CU_ASSERT_EQUAL(cfg.limits.depth, 64);
	CU_ASSERT_EQUAL(cfg.limits.children, 256);
	CU_ASSERT_EQUAL(cfg.queue_max, 4194304);
	CU_ASSERT_EQUAL(cfg.liveness_idle_ms, 60000);
	CU_ASSERT_EQUAL(cfg.liveness_timeout_ms, 20000);
	config_free(&cfg);
}

static void test_minimal(void)
{
	struct config cfg;

	if (check_good("minimal.conf", &cfg) != 0)
		return;
	CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.example.org");
	CU_ASSERT_STRING_EQUAL(cfg.secret, "minimal-secret");
	CU_ASSERT_STRING_EQUAL(cfg.server_host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.server_port, 5347);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(cfg.log_timestamps, 1);
	CU_ASSERT_EQUAL(cfg.reconnect_initial_ms, 1000);
	CU_ASSERT_EQUAL(cfg.reconnect_max_ms, 60000);
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "ope");
	CU_ASSERT_EQUAL(cfg.service_show_os, 1);
	CU_ASSERT_EQUAL(cfg.max_payload, 65536);
	CU_ASSERT_PTR_NULL(cfg.metrics_listen);
	config_free(&cfg);
}

static void test_sample(void)
{
	char err[1024] = "";
	struct config cfg;

	/* As an operator loads it once the secret is set. */
	CU_ASSERT_EQUAL_FATAL(testutil_load_sample(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.example.org");
	/* The sample documents the defaults with their own values. */
	CU_ASSERT_STRING_EQUAL(cfg.server_host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.server_port, 5347);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(cfg.log_timestamps, 1);
	CU_ASSERT_EQUAL(cfg.reconnect_initial_ms, 1000);
	CU_ASSERT_EQUAL(cfg.reconnect_max_ms, 60000);
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "ope");
	CU_ASSERT_EQUAL(cfg.service_show_os, 1);
	CU_ASSERT_EQUAL(cfg.max_payload, 65536);
	config_free(&cfg);
}

static void test_include(void)
{
	struct config cfg;

	if (check_good("include.conf", &cfg) != 0)
		return;
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_WARNING);
	config_free(&cfg);
}

static void test_secret_file_relative(void)
{
	struct config cfg;

	if (check_good("secret-file-relative.conf", &cfg) != 0)
		return;
	CU_ASSERT_STRING_EQUAL(cfg.secret, "file-secret");
	config_free(&cfg);
	if (check_good("secret-file-crlf.conf", &cfg) != 0)
		return;
	CU_ASSERT_STRING_EQUAL(cfg.secret, "crlf-secret");
	config_free(&cfg);
	if (check_good("secret-file-bare.conf", &cfg) != 0)
		return;
	CU_ASSERT_STRING_EQUAL(cfg.secret, "bare-secret");
	config_free(&cfg);
}

/* Write TEXT to a fresh temp file with MODE; its name lands in PATH
 * (a "/tmp/ope-unit-XXXXXX" buffer). Returns 0 or -1. */
static int write_temp(char *path, const char *text, mode_t mode)
{
	FILE *fp;
	int fd;

	strcpy(path, "/tmp/ope-unit-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		close(fd);
		unlink(path);
		return -1;
	}
	fputs(text, fp);
	if (fclose(fp) != 0 || chmod(path, mode) != 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

static void test_secret_file_absolute(void)
{
	char conf[32], text[512], err[1024] = "";
	struct config cfg;

	snprintf(text, sizeof(text), "component = { domain = \"ope.example.org\";"
		 " secret_file = \"%s\"; };\n", FIXTURES "secret.txt");
	CU_ASSERT_EQUAL_FATAL(write_temp(conf, text, 0600), 0);
	CU_ASSERT_EQUAL(config_load(conf, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	if (cfg.secret)
		CU_ASSERT_STRING_EQUAL(cfg.secret, "file-secret");
	config_free(&cfg);
	unlink(conf);
}

/* Overwrite the file at PATH with TEXT (mode 0600). Returns 0 or -1. */
static int rewrite(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

#define RELOAD_BASE "component = { domain = \"ope.example.org\"; " \
		    "secret = \"s1\"; };\n"

static void test_reload_swaps(void)
{
	char conf[32], err[1024] = "", kept[256] = "x";
	struct config cfg;

	CU_ASSERT_EQUAL_FATAL(write_temp(conf, RELOAD_BASE
			      "service = { name = \"old\"; };\n", 0600), 0);
	CU_ASSERT_EQUAL_FATAL(config_load(conf, &cfg, err, sizeof(err)), 0);
	/* Reloadable settings change at once; the identity waits. */
	CU_ASSERT_EQUAL_FATAL(rewrite(conf, "component = { domain = "
		"\"other.example.org\"; secret = \"s2\"; };\n"
		"server = { port = 5999; };\n"
		"service = { name = \"new\"; max_payload = 1024; };\n"
		"log = { level = \"debug\"; timestamps = false; };\n"), 0);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "new");
	CU_ASSERT_EQUAL(cfg.max_payload, 1024);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(cfg.log_timestamps, 0);
	CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.example.org");
	CU_ASSERT_STRING_EQUAL(cfg.secret, "s1");
	CU_ASSERT_EQUAL(cfg.server_port, 5347);
	CU_ASSERT_STRING_EQUAL(cfg.path, conf);
	CU_ASSERT_STRING_EQUAL(kept, "server.port, component.domain, "
			       "component.secret");
	/* Nothing that waits for a restart changed: nothing is listed. */
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	CU_ASSERT_STRING_EQUAL(kept, "server.port, component.domain, "
			       "component.secret");
	CU_ASSERT_EQUAL_FATAL(rewrite(conf, RELOAD_BASE), 0);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	CU_ASSERT_STRING_EQUAL(kept, "");
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "ope");
	config_free(&cfg);
	unlink(conf);
}

static void test_reload_refuses_bad(void)
{
	char conf[32], err[1024] = "", kept[64];
	struct config cfg;

	CU_ASSERT_EQUAL_FATAL(write_temp(conf, RELOAD_BASE
			      "service = { name = \"old\"; };\n", 0600), 0);
	CU_ASSERT_EQUAL_FATAL(config_load(conf, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(rewrite(conf, RELOAD_BASE
		"service = { name = \"new\"; max_payload = 1; };\n"), 0);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: service.max_payload 1 is out "
				      "of range"));
	CU_ASSERT_STRING_EQUAL(cfg.service_name, "old");
	CU_ASSERT_EQUAL(cfg.max_payload, 65536);
	CU_ASSERT_STRING_EQUAL(cfg.secret, "s1");
	config_free(&cfg);
	unlink(conf);
}

/* The last line in BUF (LEN bytes), for the apply test. */
static const char *last_line(const char *buf, size_t len)
{
	const char *p = buf + len;

	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf && p[-1] != '\n')
		p--;
	return p;
}

/* A reload runs a row's apply hook when its value changed, and only
 * then: log.timestamps and log.format reach the log module. */
static void test_reload_applies(void)
{
	char conf[32], err[1024] = "", kept[64];
	enum log_level saved = log_get_level();
	struct config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *stream;

	CU_ASSERT_EQUAL_FATAL(write_temp(conf, RELOAD_BASE, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(config_load(conf, &cfg, err, sizeof(err)), 0);
	stream = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stream);
	log_init("ope-unit", LOG_LEVEL_WARNING, stream);
	log_set_timestamps(1);
	CU_ASSERT_EQUAL_FATAL(rewrite(conf, RELOAD_BASE
		"log = { timestamps = false; };\n"), 0);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	log_warn("one");
	fflush(stream);
	CU_ASSERT(strncmp(last_line(buf, len), "ope-unit[", 9) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_line(buf, len), "] warning: one"));
	/* Unchanged: not applied again (the module's setting stays). */
	log_set_timestamps(1);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	log_warn("two");
	fflush(stream);
	CU_ASSERT(strncmp(last_line(buf, len), "ope-unit", 8) != 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_line(buf, len), "Z ope-unit["));
	CU_ASSERT_EQUAL_FATAL(rewrite(conf, RELOAD_BASE
		"log = { timestamps = false; format = \"json\"; };\n"), 0);
	CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
				      sizeof(kept)), 0);
	log_warn("three");
	fflush(stream);
	CU_ASSERT(last_line(buf, len)[0] == '{');
	CU_ASSERT_PTR_NOT_NULL(strstr(last_line(buf, len), "three"));
	log_set_format(LOG_FORMAT_TEXT);
	log_set_timestamps(1);
	log_init("ope-unit", saved, stderr);
	fclose(stream);
	free(buf);
	config_free(&cfg);
	unlink(conf);
}

/* An extension's rows follow the core rows in registry order, and the
 * engine treats them as its own: commands.admins is ext_commands'. */
static void test_ext_rows(void)
{
	const struct ext *const *exts;
	const struct config_row *rows;
	size_t n, next, i, j, at, found = 0;

	rows = config_rows(&n);
	exts = ext_registry_list(&next);
	for (i = 0; i < next; i++)
		found += exts[i]->nsettings;
	CU_ASSERT_FATAL(found > 0 && found < n);
	at = n - found;
	for (i = 0; i < next; i++)
		for (j = 0; j < exts[i]->nsettings; j++, at++) {
			CU_ASSERT_STRING_EQUAL(rows[at].group,
					       exts[i]->settings[j].group);
			CU_ASSERT_STRING_EQUAL(rows[at].name,
					       exts[i]->settings[j].name);
		}
	CU_ASSERT_EQUAL_FATAL(ext_commands.nsettings, 1);
	CU_ASSERT_STRING_EQUAL(ext_commands.settings[0].group, "commands");
	CU_ASSERT_STRING_EQUAL(ext_commands.settings[0].name, "admins");
}

/* Every row is complete, and its default passes its own checks. */
static void test_rows(void)
{
	const struct config_row *rows;
	struct config cfg;
	size_t n, i, j;

	rows = config_rows(&n);
	CU_ASSERT_FATAL(n > 0);
	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL(rows[i].group);
		CU_ASSERT_PTR_NOT_NULL(rows[i].name);
		CU_ASSERT(rows[i].doc != NULL && rows[i].doc[0] != '\0');
		CU_ASSERT(rows[i].size > 0);
		if (rows[i].kind != CONFIG_STRING &&
		    rows[i].kind != CONFIG_CUSTOM)
			CU_ASSERT_PTR_NOT_NULL(rows[i].def_text);
		if (rows[i].flags & CONFIG_REQUIRED)
			CU_ASSERT_PTR_NULL(rows[i].def_text);
		/* An enum row stores an int and lists its names. */
		if (rows[i].kind == CONFIG_ENUM)
			CU_ASSERT(rows[i].size == sizeof(int) &&
				  rows[i].names != NULL &&
				  rows[i].names[0].name != NULL);
		for (j = 0; j < i; j++)
			CU_ASSERT(strcmp(rows[i].group, rows[j].group) != 0 ||
				  strcmp(rows[i].name, rows[j].name) != 0);
	}
	CU_ASSERT_EQUAL_FATAL(config_defaults(&cfg), 0);
	config_free(&cfg);
}

static void test_not_found(void)
{
	char err[256];
	struct config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	CU_ASSERT_EQUAL(config_load("/nonexistent/ope.conf", &cfg, err,
				    sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/ope.conf: cannot open: "
			       "No such file or directory");
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
	CU_ASSERT_EQUAL(config_load(FIXTURES, &cfg, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, FIXTURES ": cannot open: Is a directory");
}

static void test_small_err_buffer(void)
{
	char err[8];
	struct config cfg;

	CU_ASSERT_EQUAL(load_fixture("bad-port-zero.conf", &cfg, err,
				     sizeof(err)), -1);
	CU_ASSERT_EQUAL(strlen(err), sizeof(err) - 1);
	CU_ASSERT_EQUAL(load_fixture("bad-port-zero.conf", &cfg, NULL, 0), -1);
}

/* Load a config file of mode CONF_MODE from a temp file. With SECRET_MODE,
 * its secret_file is a temp file of that mode holding VALUE, else it holds
 * VALUE inline. Returns what was logged at warning level in a malloc'd
 * string (NULL on setup failure) and the secret-holding file's name in
 * HOLDER (a 32-byte buffer). */
static char *load_capturing_warnings(mode_t conf_mode, mode_t secret_mode,
				     const char *value, char *holder)
{
	char conf[32], secret[32] = "", text[512], err[1024] = "";
	enum log_level saved = log_get_level();
	struct config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *stream;

	if (secret_mode) {
		snprintf(text, sizeof(text), "%s\n", value);
		if (write_temp(secret, text, secret_mode) != 0)
			return NULL;
		snprintf(text, sizeof(text), "component = { domain = "
			 "\"ope.example.org\"; secret_file = \"%s\"; };\n",
			 secret);
	} else {
		snprintf(text, sizeof(text), "component = { domain = "
			 "\"ope.example.org\"; secret = \"%s\"; };\n", value);
	}
	if (write_temp(conf, text, conf_mode) != 0)
		goto out;
	strcpy(holder, secret_mode ? secret : conf);
	stream = open_memstream(&buf, &len);
	if (stream) {
		log_init("ope-unit", LOG_LEVEL_WARNING, stream);
		CU_ASSERT_EQUAL(config_load(conf, &cfg, err, sizeof(err)), 0);
		log_init("ope-unit", saved, stderr);
		fclose(stream);
		config_free(&cfg);
	}
	unlink(conf);
out:
	if (secret_mode)
		unlink(secret);
	return buf;
}

static void test_warn_secret_file_mode(void)
{
	char secret[32];
	char *log;

	log = load_capturing_warnings(0644, 0640, "perm-secret-0123456789", secret);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, secret));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "readable by group or others"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "chmod 600"));
	/* Never the secret itself. */
	CU_ASSERT_PTR_NULL(strstr(log, "perm-secret"));
	free(log);

	/* The config file does not hold the secret: its mode is fine. */
	log = load_capturing_warnings(0644, 0600, "perm-secret-0123456789", secret);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
}

static void test_warn_config_mode(void)
{
	char conf[32];
	char *log;

	log = load_capturing_warnings(0604, 0, "inline-secret-0123456789", conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, conf));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "chmod 600"));
	CU_ASSERT_PTR_NULL(strstr(log, "inline-secret"));
	free(log);

	log = load_capturing_warnings(0600, 0, "inline-secret-0123456789", conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
	CU_ASSERT_EQUAL(log_get_level(), LOG_LEVEL_ERROR);
}

/* config_load() on a temp file holding SECRET inline: its result. */
static int check_placeholder(const char *secret)
{
	char conf[32], text[256], err[1024] = "";
	struct config cfg;
	int rc;

	snprintf(text, sizeof(text), "component = { domain = \"ope.example.org\"; "
		 "secret = \"%s\"; };\n", secret);
	if (write_temp(conf, text, 0600) != 0)
		return -2;
	rc = config_load(conf, &cfg, err, sizeof(err));
	if (rc == 0)
		config_free(&cfg);
	unlink(conf);
	return rc;
}

/* A short secret loads, with a warning naming where it is; 16 bytes pass
 * quietly. The secret itself is never logged. */
static void test_warn_short_secret(void)
{
	char holder[32], *log;

	log = load_capturing_warnings(0600, 0, "short-secret-15", holder);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, holder));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "component.secret is only 15 bytes "
				      "long; use at least 16"));
	CU_ASSERT_PTR_NULL(strstr(log, "short-secret-15"));
	free(log);

	log = load_capturing_warnings(0600, 0600, "short-secret-15", holder);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, holder));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "is only 15 bytes long"));
	CU_ASSERT_PTR_NULL(strstr(log, "short-secret-15"));
	free(log);

	/* Short and readable by others: both warnings. */
	log = load_capturing_warnings(0604, 0, "short-secret-15", holder);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "is only 15 bytes long"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "chmod 600"));
	free(log);

	log = load_capturing_warnings(0600, 0, "sixteen-bytes-16", holder);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
}

/* The line of conf/ope-component.conf that sets the placeholder secret. */
static unsigned sample_line(void)
{
	FILE *fp = fopen(SRCDIR "/conf/ope-component.conf", "re");
	char line[1024];
	unsigned n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		if (strstr(line, "secret = \"change-this-secret\";") != NULL)
			break;
	}
	fclose(fp);
	return n;
}

/* The samples' placeholders are refused wherever they come from, in any
 * case, with FILE:LINE and the secret file's path. */
static void test_bad_placeholder_secret(void)
{
	struct config cfg;
	char err[1024], want[1024];

	check_bad("bad-placeholder-secret.conf", 4,
		  "component.secret holds the placeholder \"change-this-secret\" "
		  "from the samples, which anyone can read; set a real secret");
	check_bad("bad-placeholder-secret-file.conf", 4,
		  "component.secret_file '" FIXTURES "secret-placeholder.txt' "
		  "holds the placeholder \"change-me\"");
	/* The shipped sample is refused until its secret is set... */
	CU_ASSERT_EQUAL(config_load(SRCDIR "/conf/ope-component.conf", &cfg,
				    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), SRCDIR "/conf/ope-component.conf:%u: "
		 "component.secret holds the placeholder", sample_line());
	CU_ASSERT_STRING_EQUAL(strstr(err, want) == err ? want : err, want);
	/* ...and the other samples' placeholders are refused too. */
	CU_ASSERT_EQUAL(check_placeholder("change-me"), -1);
	CU_ASSERT_EQUAL(check_placeholder("CHANGEME"), -1);
	CU_ASSERT_EQUAL(check_placeholder("a long random secret"), -1);
	CU_ASSERT_EQUAL(check_placeholder("change-me-0123456789abcdef"), 0);
}

#define BAD(fn, file, line, needle) \
	static void fn(void) { check_bad(file, line, needle); }

BAD(test_bad_syntax, "bad-syntax.conf", 4, "syntax error")
BAD(test_bad_duplicate, "bad-duplicate.conf", 3,
    "syntax error: duplicate setting name")
BAD(test_bad_unknown_key, "bad-unknown-key.conf", 3,
    "unknown setting 'server.hots' (did you mean 'server.host'?)")
BAD(test_bad_unknown_group, "bad-unknown-group.conf", 3,
    "unknown setting 'sevrer' (did you mean 'server'?)")
BAD(test_bad_unknown_far, "bad-unknown-far.conf", 4,
    "unknown setting 'log.colour' (known in log: level, timestamps, format)")
BAD(test_bad_misplaced, "bad-misplaced.conf", 3,
    "unknown setting 'server.domain' (did you mean 'component.domain'?)")
BAD(test_bad_unknown_top, "bad-unknown-top.conf", 3,
    "unknown setting 'port' (did you mean 'server.port'?)")
BAD(test_bad_hosts_and_host, "bad-hosts-and-host.conf", 4,
    "give either server.hosts or server.host and server.port, not both")
BAD(test_bad_hosts_port, "bad-hosts-port.conf", 5,
    "server.hosts entry '10.0.0.2:70000' has a bad port")
BAD(test_bad_hosts_empty, "bad-hosts-empty.conf", 4,
    "server.hosts is empty")
BAD(test_bad_tls_mode, "bad-tls-mode.conf", 3,
    "server.tls.mode 'starttls' is unknown; use \"none\" or \"direct\"")
BAD(test_bad_tls_no_mode, "bad-tls-no-mode.conf", 3,
    "apply only with server.tls.mode = \"direct\"")
BAD(test_bad_type_port, "bad-type-port.conf", 4,
    "server.port must be an integer, not a string")
BAD(test_bad_type_group, "bad-type-group.conf", 3,
    "'server' must be a group { ... }, not a string")
BAD(test_bad_type_bool, "bad-type-bool.conf", 4,
    "log.timestamps must be a boolean (true or false), not an integer")
BAD(test_bad_type_seconds, "bad-type-seconds.conf", 4,
    "reconnect.initial must be a number, not a string")
BAD(test_bad_type_secret, "bad-type-secret.conf", 4,
    "component.secret must be a string")
BAD(test_bad_no_component, "bad-no-component.conf", 0,
    "missing required setting 'component.domain'")
BAD(test_bad_no_domain, "bad-no-domain.conf", 3,
    "missing required setting 'component.domain'")
BAD(test_bad_no_secret, "bad-no-secret.conf", 2,
    "'component.secret' or 'component.secret_file'")
BAD(test_bad_both_secrets, "bad-both-secrets.conf", 5,
    "only one of component.secret and component.secret_file")
BAD(test_bad_empty_secret, "bad-empty-secret.conf", 4,
    "component.secret is empty")
BAD(test_bad_empty_secret_file, "bad-empty-secret-file.conf", 4,
    "component.secret_file '" FIXTURES "secret-empty.txt' is empty")
BAD(test_bad_missing_secret_file, "bad-missing-secret-file.conf", 4,
    "cannot read component.secret_file '" FIXTURES
    "no-such-secret.txt': No such file or directory")
BAD(test_bad_dir_secret_file, "bad-dir-secret-file.conf", 4,
    "cannot read component.secret_file '" FIXTURES ".': Is a directory")
BAD(test_bad_two_line_secret_file, "bad-two-line-secret-file.conf", 4,
    "on one line")
BAD(test_bad_port_zero, "bad-port-zero.conf", 3,
    "server.port 0 is out of range (1..65535)")
BAD(test_bad_port_high, "bad-port-high.conf", 3,
    "server.port 65536 is out of range (1..65535)")
/* The maxima that keep libstrophe's append and attribute table cheap. */
BAD(test_bad_children_high, "bad-children-high.conf", 3,
    "limits.children 257 is out of range (1..256)")
BAD(test_bad_attributes_high, "bad-attributes-high.conf", 3,
    "limits.attributes 257 is out of range (1..256)")
BAD(test_bad_domain, "bad-domain.conf", 3,
    "component.domain 'ope..example.org' is not a valid domain name")
BAD(test_bad_instance_chars, "bad-instance-chars.conf", 5,
    "component.instance 'node 1' is not a valid instance name: give 1 to "
    "64 bytes of A-Z a-z 0-9 . _ : @ / -")
BAD(test_bad_instance_long, "bad-instance-long.conf", 5,
    "is not a valid instance name")
BAD(test_bad_instance_empty, "bad-instance-empty.conf", 5,
    "component.instance '' is not a valid instance name")
BAD(test_bad_connect, "bad-connect.conf", 3,
    "server.connect 'every' is unknown; use \"first\" or \"all\"")
BAD(test_bad_connect_all, "bad-connect-all.conf", 3,
    "server.connect \"all\": server.hosts lists 127.0.0.1 port 5347 twice")
BAD(test_bad_connect_all_many, "bad-connect-all-many.conf", 3,
    "server.connect \"all\" keeps one link per server.hosts entry, at "
    "most 16; server.hosts has 17")
BAD(test_bad_host, "bad-host.conf", 3,
    "server.host 'bad host!' is not a valid host name")
BAD(test_bad_metrics_listen, "bad-metrics-listen.conf", 3,
    "metrics.listen 'localhost:9347': 'localhost' is not an IPv4 or IPv6 address")
BAD(test_bad_control_relative, "bad-control-relative.conf", 3,
    "control.path must be an absolute path")
BAD(test_bad_control_long, "bad-control-long.conf", 3,
    "control.path is 130 bytes long; a unix socket path takes at most 107")
BAD(test_bad_level, "bad-level.conf", 3,
    "log.level 'verbose' is unknown; use one of error, warning, info, debug")
BAD(test_bad_reconnect_zero, "bad-reconnect-zero.conf", 3,
    "reconnect.initial 0 is out of range")
BAD(test_bad_reconnect_negative, "bad-reconnect-negative.conf", 3,
    "reconnect.maximum -5 is out of range")
BAD(test_bad_reconnect_high, "bad-reconnect-high.conf", 3,
    "reconnect.maximum 3601 is out of range")
BAD(test_bad_reconnect_order, "bad-reconnect-order.conf", 5,
    "reconnect.maximum (5.5 s) is less than reconnect.initial (10 s)")
BAD(test_bad_reconnect_initial, "bad-reconnect-initial-above-default.conf", 3,
    "reconnect.maximum (60 s) is less than reconnect.initial (120 s)")
BAD(test_bad_payload_low, "bad-payload-low.conf", 3,
    "service.max_payload 255 is out of range (256..16777216 bytes)")
BAD(test_bad_payload_high, "bad-payload-high.conf", 3,
    "service.max_payload 16777217 is out of range")
BAD(test_bad_name_empty, "bad-name-empty.conf", 3, "service.name is empty")

/* No access section: everyone allowed; limits at their defaults. */
static void test_access_absent(void)
{
	struct config cfg;

	if (check_good("minimal.conf", &cfg) != 0)
		return;
	CU_ASSERT_PTR_NULL(cfg.access);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_sender.rate, 20.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_sender.burst, 40.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_total.rate, 50000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_total.burst, 100000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_password.rate, 0.2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_password.burst, 3.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_hashes.rate, 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_hashes.burst, 4.0, 1e-9);
	CU_ASSERT_EQUAL(cfg.limit_senders, 100000);
	CU_ASSERT_EQUAL(cfg.limit_rule_failures, 10);
	CU_ASSERT_EQUAL(cfg.limit_rule_backoff_ms, 60000);
	config_free(&cfg);
}

static void test_access_good(void)
{
	struct config cfg;
	const struct access_rule *r;
	char where[1100];

	if (check_good("access-good.conf", &cfg) != 0)
		return;
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	/* An access section without a default denies. */
	CU_ASSERT_EQUAL(access_table_default(cfg.access), ACCESS_DENY);
	CU_ASSERT_EQUAL(access_table_count(cfg.access), 3);
	r = access_table_match(cfg.access, "admin@example.org");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->pattern, "admin@example.org");
	CU_ASSERT_PTR_NULL(r->password);
	snprintf(where, sizeof(where), FIXTURES "access-good.conf:4");
	CU_ASSERT_STRING_EQUAL(r->where, where);
	r = access_table_match(cfg.access, "bob@example.org");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(r->password != NULL && strncmp(r->password, "$6$", 3) == 0);
	r = access_table_match(cfg.access, "x@example.net");
	CU_ASSERT(r != NULL && r->action == ACCESS_DENY);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_sender.rate, 5.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_sender.burst, 11.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_total.rate, 0.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_password.burst, 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_hashes.rate, 4.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cfg.limit_hashes.burst, 8.0, 1e-9);
	CU_ASSERT_EQUAL(cfg.limit_senders, 1000);
	config_free(&cfg);
	if (check_good("access-empty.conf", &cfg) != 0)
		return;
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_count(cfg.access), 0);
	CU_ASSERT_EQUAL(access_table_default(cfg.access), ACCESS_ALLOW);
	config_free(&cfg);
}

static void test_bad_access_pattern(void)
{
	check_bad("bad-access-pattern.conf", 5, "drop the '/resource'");
	/* A pattern that nodeprep refuses is an error, not a rule that
	 * never matches. */
	check_bad("bad-access-nodeprep.conf", 5, "not a valid XMPP localpart");
}

static void test_bad_access_action(void)
{
	check_bad("bad-access-action.conf", 5, "unknown action 'permit'");
}

static void test_bad_access_hash(void)
{
	check_bad("bad-access-hash.conf", 5, "not a supported crypt(5) hash");
	check_bad("bad-access-md5.conf", 4, "not a supported crypt(5) hash");
}

/* Hashes whose parameters would take more than about 250 ms a check are
 * refused at load, at the password's line. */
static void test_bad_access_costly(void)
{
	check_bad("bad-access-costly-sha.conf", 4, "too costly to check: "
		  "sha512crypt with more than 700000 rounds");
	check_bad("bad-access-costly-bcrypt.conf", 5, "bcrypt costs above 12");
	check_bad("bad-access-costly-yescrypt.conf", 4, "yescrypt parameters");
}

/* 0 used to mean unlimited hashing. */
static void test_bad_hashes_zero(void)
{
	check_bad("bad-limits-hashes-zero.conf", 3,
		  "limits.password.total must be above 0");
}

/* A plaintext password by mistake is never echoed in the error. */
static void test_bad_access_hash_not_echoed(void)
{
	struct config cfg;
	char err[1024];

	CU_ASSERT_EQUAL(load_fixture("bad-access-hash.conf", &cfg, err,
				     sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(strstr(err, "hunter2"));
}

static void test_bad_access_default(void)
{
	check_bad("bad-access-default.conf", 3, "access.default 'maybe'");
}

static void test_bad_access_rule_key(void)
{
	check_bad("bad-access-rule-key.conf", 4, "unknown setting 'pasword'");
	check_bad("bad-access-no-match.conf", 4, "needs match");
}

/* ---- settings from the environment ----------------------------------- */

/* The environment config_load() reads in these tests (no env_set(): it
 * allocates for good, which the leak check would count). */
#define ENV_MAX 16
static char env_buf[ENV_MAX][512];
static char *env_vec[ENV_MAX + 1];

/* Start from an empty environment. */
static void env_clear(void)
{
	memset(env_vec, 0, sizeof(env_vec));
	config_use_environment(env_vec);
}

/* Back to the process's own environment. */
static void env_done(void)
{
	config_use_environment(NULL);
}

static void env_unset(const char *name)
{
	size_t i, j, n = strlen(name);

	for (i = 0; env_vec[i] != NULL; i++)
		if (strncmp(env_vec[i], name, n) == 0 && env_vec[i][n] == '=') {
			for (j = i; env_vec[j] != NULL; j++)
				env_vec[j] = env_vec[j + 1];
			return;
		}
}

static void env_set(const char *name, const char *value)
{
	size_t i, slot;

	env_unset(name);
	for (i = 0; env_vec[i] != NULL; i++)
		;
	CU_ASSERT_FATAL(i < ENV_MAX);
	/* A buffer no entry uses. */
	for (slot = 0; slot < ENV_MAX; slot++) {
		size_t k;
		int used = 0;

		for (k = 0; k < i; k++)
			used |= env_vec[k] == env_buf[slot];
		if (!used)
			break;
	}
	snprintf(env_buf[slot], sizeof(env_buf[slot]), "%s=%s", name, value);
	env_vec[i] = env_buf[slot];
	env_vec[i + 1] = NULL;
}

/* config_load(PATH) must fail with ERR starting with PREFIX and holding
 * NEEDLE. */
static void check_env_bad(const char *path, const char *prefix,
			  const char *needle)
{
	struct config cfg;
	char err[1024] = "";
	int rc;

	memset(&cfg, 0x5a, sizeof(cfg));
	rc = config_load(path, &cfg, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(strncmp(err, prefix, strlen(prefix)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	CU_ASSERT(memcmp(&cfg, &zero_cfg, sizeof(cfg)) == 0);
	if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, needle) == NULL)
		fprintf(stderr, "\ngot \"%s\", wanted prefix \"%s\" and \"%s\"\n",
			err, prefix, needle);
	config_free(&cfg);
}

static void test_env_names(void)
{
	const struct config_row *rows;
	size_t n, i, j;
	char a[80], b[80];

	rows = config_rows(&n);
	for (i = 0; i < n; i++) {
		config_env_name(&rows[i], a, sizeof(a));
		CU_ASSERT(strncmp(a, "OPE_", 4) == 0);
		CU_ASSERT(strlen(a) < 40);  /* did-you-mean compares up to 39 */
		for (j = 0; j < i; j++) {
			config_env_name(&rows[j], b, sizeof(b));
			CU_ASSERT(strcmp(a, b) != 0);
		}
	}
	for (i = 0; i < n; i++) {
		config_env_name(&rows[i], a, sizeof(a));
		if (strcmp(rows[i].group, "limits.password") == 0 &&
		    strcmp(rows[i].name, "rule_backoff") == 0)
			CU_ASSERT_STRING_EQUAL(a, "OPE_LIMITS_PASSWORD_RULE_BACKOFF");
		if (strcmp(rows[i].name, "secret_file") == 0)
			CU_ASSERT_STRING_EQUAL(a, "OPE_COMPONENT_SECRET_FILE");
	}
	config_env_name(&rows[0], a, 8);
	CU_ASSERT_STRING_EQUAL(a, "OPE_SER");
}

static void test_env_override(void)
{
	struct config cfg;

	env_clear();
	env_set("OPE_SERVER_PORT", "6000");
	env_set("OPE_LOG_TIMESTAMPS", "no");
	env_set("OPE_LIMITS_SENDER_RATE", "2.5");
	env_set("OPE_RECONNECT_INITIAL", "0.25");
	env_set("OPE_SERVICE_SHOW_OS", "FALSE");
	env_set("OPE_LOG_FORMAT", "json");
	/* Other programs' and test harnesses' variables are left alone. */
	env_set("OPE_SERVICE_PASSWORD", "not ours");
	env_set("OPE_TEST_ONLY", "1");
	env_set("OPE_COMPONENT", "/some/binary");
	if (check_good("minimal.conf", &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.server_port, 6000);
		CU_ASSERT_EQUAL(cfg.servers.list[0].port, 6000);
		CU_ASSERT_EQUAL(cfg.log_timestamps, 0);
		CU_ASSERT_DOUBLE_EQUAL(cfg.limit_sender.rate, 2.5, 1e-9);
		CU_ASSERT_EQUAL(cfg.reconnect_initial_ms, 250);
		CU_ASSERT_EQUAL(cfg.service_show_os, 0);
		CU_ASSERT_EQUAL(cfg.log_format, LOG_FORMAT_JSON);
		CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.example.org");
		config_free(&cfg);
	}
	/* A variable beats the file's own value too. */
	env_set("OPE_COMPONENT_DOMAIN", "env.example.org");
	if (check_good("full.conf", &cfg) == 0) {
		CU_ASSERT_STRING_EQUAL(cfg.domain, "env.example.org");
		CU_ASSERT_EQUAL(cfg.server_port, 6000);
		config_free(&cfg);
	}
	env_done();
}

static void test_env_types_bounds(void)
{
	env_clear();
	env_set("OPE_LIMITS_SENDER_RATE", "abc");
	check_env_bad(FIXTURES "minimal.conf", "OPE_LIMITS_SENDER_RATE: ",
		      "\"abc\" is not a number for limits.sender.rate");
	env_set("OPE_LIMITS_SENDER_RATE", "-1");
	check_env_bad(FIXTURES "minimal.conf", "OPE_LIMITS_SENDER_RATE: ",
		      "limits.sender.rate -1 is out of range (0..1000000000");
	env_unset("OPE_LIMITS_SENDER_RATE");
	env_set("OPE_SERVER_PORT", "70000");
	check_env_bad(FIXTURES "minimal.conf", "OPE_SERVER_PORT: ",
		      "server.port 70000 is out of range (1..65535)");
	env_set("OPE_SERVER_PORT", "53 47");
	check_env_bad(FIXTURES "minimal.conf", "OPE_SERVER_PORT: ",
		      "\"53 47\" is not an integer");
	env_unset("OPE_SERVER_PORT");
	env_set("OPE_LOG_TIMESTAMPS", "maybe");
	check_env_bad(FIXTURES "minimal.conf", "OPE_LOG_TIMESTAMPS: ",
		      "\"maybe\" is not a boolean");
	env_unset("OPE_LOG_TIMESTAMPS");
	env_set("OPE_LOG_FORMAT", "xml");
	check_env_bad(FIXTURES "minimal.conf", "OPE_LOG_FORMAT: ",
		      "log.format 'xml' is unknown");
	env_unset("OPE_LOG_FORMAT");
	env_set("OPE_SERVER_HOST", "not a host");
	check_env_bad(FIXTURES "minimal.conf", "OPE_SERVER_HOST: ",
		      "is not a valid host name");
	env_done();
}

static void test_env_unknown(void)
{
	env_clear();
	env_set("OPE_LIMITS_SENDER_RAT", "1");
	check_env_bad(FIXTURES "minimal.conf", "OPE_LIMITS_SENDER_RAT: ",
		      "unknown setting variable (did you mean "
		      "OPE_LIMITS_SENDER_RATE?)");
	env_unset("OPE_LIMITS_SENDER_RAT");
	env_set("OPE_SERVER_BOGUS", "1");
	check_env_bad(FIXTURES "minimal.conf", "OPE_SERVER_BOGUS: ",
		      "known: OPE_SERVER_HOST, OPE_SERVER_PORT");
	env_done();
}

static void test_env_secret(void)
{
	struct config cfg;

	env_clear();
	env_set("OPE_COMPONENT_SECRET", "s3cret");
	check_env_bad(FIXTURES "minimal.conf", "OPE_COMPONENT_SECRET: ",
		      "set OPE_COMPONENT_SECRET_FILE to its path");
	env_unset("OPE_COMPONENT_SECRET");
	/* The _FILE form replaces the file's component.secret. */
	chmod(FIXTURES "secret.txt", 0600);
	env_set("OPE_COMPONENT_SECRET_FILE", FIXTURES "secret.txt");
	if (check_good("minimal.conf", &cfg) == 0) {
		CU_ASSERT_STRING_NOT_EQUAL(cfg.secret, "minimal-secret");
		CU_ASSERT_STRING_EQUAL(cfg.secret_file, FIXTURES "secret.txt");
		config_free(&cfg);
	}
	env_set("OPE_COMPONENT_SECRET_FILE", FIXTURES "no-such-secret.txt");
	check_env_bad(FIXTURES "minimal.conf", "OPE_COMPONENT_SECRET_FILE: ",
		      "cannot read component.secret_file");
	env_done();
}

static void test_env_no_file(void)
{
	struct config cfg;
	char err[1024] = "";

	env_clear();
	check_env_bad(NULL, "environment: ", "missing required setting "
		      "'component.domain'");
	check_env_bad(NULL, "environment: ", "OPE_COMPONENT_DOMAIN");
	env_set("OPE_COMPONENT_DOMAIN", "ope.example.org");
	check_env_bad(NULL, "environment: ", "OPE_COMPONENT_SECRET_FILE");
	chmod(FIXTURES "secret.txt", 0600);
	env_set("OPE_COMPONENT_SECRET_FILE", FIXTURES "secret.txt");
	env_set("OPE_SERVER_HOSTS", "127.0.0.1:5000, [::1]");
	env_set("OPE_ACCESS_RULES", "( { match = \"*@example.org\"; "
	       "action = \"allow\"; } )");
	CU_ASSERT_EQUAL_FATAL(config_load(NULL, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_PTR_NULL(cfg.path);
	CU_ASSERT_STRING_EQUAL(cfg.domain, "ope.example.org");
	CU_ASSERT_EQUAL(cfg.servers.n, 2);
	CU_ASSERT_STRING_EQUAL(cfg.servers.list[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.servers.list[0].port, 5000);
	CU_ASSERT_STRING_EQUAL(cfg.servers.list[1].host, "::1");
	CU_ASSERT_EQUAL(cfg.servers.list[1].port, 5347);
	CU_ASSERT_PTR_NOT_NULL(cfg.access);
	if (cfg.access != NULL)
		CU_ASSERT_EQUAL(access_table_count(cfg.access), 1);
	/* SIGHUP reads the environment again through the same path. */
	env_set("OPE_LOG_LEVEL", "debug");
	{
		char kept[256];

		CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
					      sizeof(kept)), 0);
		CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_DEBUG);
		CU_ASSERT_STRING_EQUAL(kept, "");
		env_set("OPE_LOG_LEVEL", "loud");
		CU_ASSERT_EQUAL(config_reload(&cfg, err, sizeof(err), kept,
					      sizeof(kept)), -1);
		CU_ASSERT(strncmp(err, "OPE_LOG_LEVEL: ", 15) == 0);
		CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_DEBUG);
	}
	env_unset("OPE_LOG_LEVEL");
	env_set("OPE_ACCESS_RULES", "( { match = ");
	check_env_bad(NULL, "OPE_ACCESS_RULES: ", "syntax error");
	env_set("OPE_ACCESS_RULES", "( { match = \"*\"; action = \"maybe\"; } )");
	check_env_bad(NULL, "OPE_ACCESS_RULES: ", "unknown action 'maybe'");
	config_free(&cfg);
	env_done();
}

static void test_bad_limits_rate(void)
{
	check_bad("bad-limits-rate.conf", 3, "limits.sender.rate -1 is out of range");
}

static const struct testutil_test tests[] = {
	{ "defaults", test_defaults },
	{ "full file: every value read", test_full },
	{ "minimal file: defaults applied", test_minimal },
	{ "conf/ope-component.conf loads once its secret is set", test_sample },
	{ "@include relative to the file", test_include },
	{ "secret_file relative, newline stripped", test_secret_file_relative },
	{ "secret_file absolute", test_secret_file_absolute },
	{ "reload: reloadable rows swap, the identity waits", test_reload_swaps },
	{ "reload: a bad file changes nothing", test_reload_refuses_bad },
	{ "settings table rows complete", test_rows },
	{ "file not found / a directory", test_not_found },
	{ "error buffer too small", test_small_err_buffer },
	{ "warn: secret_file readable by others", test_warn_secret_file_mode },
	{ "warn: config with secret readable", test_warn_config_mode },
	{ "warn: secret shorter than 16 bytes", test_warn_short_secret },
	{ "placeholder secrets refused", test_bad_placeholder_secret },
	{ "syntax error", test_bad_syntax },
	{ "duplicate setting", test_bad_duplicate },
	{ "unknown key, near miss", test_bad_unknown_key },
	{ "unknown group, near miss", test_bad_unknown_group },
	{ "unknown key, known listed", test_bad_unknown_far },
	{ "key in the wrong group", test_bad_misplaced },
	{ "key at the top level", test_bad_unknown_top },
	{ "link settings: hosts, TLS, limits, liveness", test_link_settings },
	{ "link settings: defaults", test_link_defaults },
	{ "server.hosts with server.host", test_bad_hosts_and_host },
	{ "server.hosts: bad port", test_bad_hosts_port },
	{ "server.hosts: empty", test_bad_hosts_empty },
	{ "server.tls.mode unknown", test_bad_tls_mode },
	{ "server.tls.ca_file without direct", test_bad_tls_no_mode },
	{ "type: quoted port", test_bad_type_port },
	{ "type: group as scalar", test_bad_type_group },
	{ "type: int for bool", test_bad_type_bool },
	{ "type: string for seconds", test_bad_type_seconds },
	{ "type: number for secret", test_bad_type_secret },
	{ "missing component group", test_bad_no_component },
	{ "missing domain", test_bad_no_domain },
	{ "missing secret", test_bad_no_secret },
	{ "secret and secret_file", test_bad_both_secrets },
	{ "empty secret", test_bad_empty_secret },
	{ "empty secret file", test_bad_empty_secret_file },
	{ "missing secret file", test_bad_missing_secret_file },
	{ "secret file is a directory", test_bad_dir_secret_file },
	{ "secret file with two lines", test_bad_two_line_secret_file },
	{ "port 0", test_bad_port_zero },
	{ "port 65536", test_bad_port_high },
	{ "limits.children above its maximum", test_bad_children_high },
	{ "limits.attributes above its maximum", test_bad_attributes_high },
	{ "invalid domain", test_bad_domain },
	{ "instance name: bad byte", test_bad_instance_chars },
	{ "instance name: too long", test_bad_instance_long },
	{ "instance name: empty", test_bad_instance_empty },
	{ "server.connect: unknown value", test_bad_connect },
	{ "server.connect: all with one server twice", test_bad_connect_all },
	{ "server.connect: all with 17 servers", test_bad_connect_all_many },
	{ "server.connect: all with three servers", test_connect_all },
	{ "invalid host", test_bad_host },
	{ "invalid metrics.listen", test_bad_metrics_listen },
	{ "relative control.path", test_bad_control_relative },
	{ "overlong control.path", test_bad_control_long },
	{ "unknown log level", test_bad_level },
	{ "reconnect 0", test_bad_reconnect_zero },
	{ "reconnect negative", test_bad_reconnect_negative },
	{ "reconnect above 3600", test_bad_reconnect_high },
	{ "reconnect maximum < initial", test_bad_reconnect_order },
	{ "reconnect initial > default max", test_bad_reconnect_initial },
	{ "max_payload 255", test_bad_payload_low },
	{ "max_payload above 16 MiB", test_bad_payload_high },
	{ "empty service name", test_bad_name_empty },
	{ "access: absent, limits' defaults", test_access_absent },
	{ "access: rules, default, limits", test_access_good },
	{ "access: malformed pattern", test_bad_access_pattern },
	{ "access: unknown action", test_bad_access_action },
	{ "access: unsupported hash", test_bad_access_hash },
	{ "access: plaintext password not echoed", test_bad_access_hash_not_echoed },
	{ "access: hashes too costly to check", test_bad_access_costly },
	{ "limits.password.total = 0 refused", test_bad_hashes_zero },
	{ "access: unknown default", test_bad_access_default },
	{ "access: rule keys", test_bad_access_rule_key },
	{ "limits: negative rate", test_bad_limits_rate },
	{ "reload: apply hooks run for changed rows only", test_reload_applies },
	{ "rows: extensions bring their own", test_ext_rows },
	{ "env: a variable for every row, unique", test_env_names },
	{ "env: variables override the file", test_env_override },
	{ "env: types and bounds name the variable", test_env_types_bounds },
	{ "env: unknown variable, did you mean", test_env_unknown },
	{ "env: a secret only through _FILE", test_env_secret },
	{ "env: no file at all, and SIGHUP", test_env_no_file },
};

static int test_config_register(void)
{
	return testutil_add_tests("config", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_config_register)
