/* SPDX-License-Identifier: MIT */
/* test_log.c: levels, escaping of wire text, secrets kept out of the log, whole lines when buffered. */
#define _GNU_SOURCE  /* fopencookie */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "log.h"
#include "testutil.h"

static void test_levels(void)
{
	enum log_level l;

	CU_ASSERT_EQUAL(log_level_parse("debug", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("WARNING", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_WARNING);
	CU_ASSERT_EQUAL(log_level_parse("loud", &l), -1);
	CU_ASSERT_STRING_EQUAL(log_level_name(LOG_LEVEL_INFO), "info");
}

static void test_escape(void)
{
	char buf[64], small[8];

	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), "a\nb\x1b[31m\\"),
			       "a\\x0ab\\x1b[31m\\x5c");
	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), "h\xc3\xa9 \xff"),
			       "h\xc3\xa9 \\xff");
	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), NULL), "(null)");
	log_escape(small, sizeof(small), "0123456789");
	CU_ASSERT_EQUAL(strlen(small), 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(small, "..."));
	/* Cut at a character boundary, never inside UTF-8. */
	CU_ASSERT_STRING_EQUAL(log_escape(small, sizeof(small), "ab日本"),
			       "ab...");
	CU_ASSERT_STRING_EQUAL(log_escape(small, 3, "abcdef"), "ab");
}

/* log_quote: the same escaper in quotes, for ope-client's output. */
static void test_quote(void)
{
	char buf[64], small[12];

	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "some"), "\"some\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "a\"b\\c"),
			       "\"a\\\"b\\\\c\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "x\ny\x01\x7f"),
			       "\"x\\x0ay\\x01\\x7f\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "héllo ✓ 日本"),
			       "\"héllo ✓ 日本\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "\xff\xc3("),
			       "\"\\xff\\xc3(\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), NULL), "(absent)");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), ""), "\"\"");
	log_quote(small, sizeof(small), "0123456789abcdef");
	CU_ASSERT_STRING_EQUAL(small, "\"012345...\"");
	/* A multi-byte character is never cut in half. */
	log_quote(small, sizeof(small), "日本日本日本");
	CU_ASSERT_STRING_EQUAL(small, "\"日本...\"");
	log_quote(small, sizeof(small), "ab日本日本");
	CU_ASSERT_STRING_EQUAL(small, "\"ab日...\"");
	log_quote(small, 7, "x");
	CU_ASSERT_STRING_EQUAL(small, "");
}

/* Run libstrophe's logger on LINE at debug level; return what was written. */
static char *strophe_line(const char *line)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const xmpp_log_t *logger = log_strophe_logger();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_DEBUG, f);
	logger->handler(logger->userdata, XMPP_LEVEL_DEBUG, "conn", line);
	fclose(f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	return out;
}

static void test_secrets_filtered(void)
{
	char *out;

	out = strophe_line("SENT: <handshake>2aae6c35c94fcfb415dbe95f408b9ce91ee846ed</handshake>");
	CU_ASSERT_PTR_NULL(strstr(out, "2aae6c35"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "masked"));
	free(out);
	/* As libstrophe 0.12.2 really writes them. */
	out = strophe_line("SENT: <handshake xmlns='jabber:component:accept'>"
			   "7d69114e431ba4459d1ea779fd1936a6523db4b1</handshake>");
	CU_ASSERT_PTR_NULL(strstr(out, "7d69114e"));
	free(out);
	out = strophe_line("Digest: 7d69114e431ba4459d1ea779fd1936a6523db4b1, len: 40");
	CU_ASSERT_PTR_NULL(strstr(out, "7d69114e"));
	free(out);
	out = strophe_line("SENT: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
			   "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>");
	CU_ASSERT_PTR_NULL(strstr(out, "AGFsaWNl"));
	free(out);
	/* Text before a masked secret is still escaped: no forged lines. */
	out = strophe_line("RECV: <message><body>a\nFORGED error: x</body><auth/>");
	CU_ASSERT_PTR_NULL(strstr(out, "\nFORGED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\\x0aFORGED"));
	free(out);
	out = strophe_line("RECV: <message from='x'>\x1b[2J</message>");
	CU_ASSERT_PTR_NULL(strchr(out, '\x1b'));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<message from='x'>"));
	free(out);
}

static void test_threshold(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_WARNING, f);
	log_info("hidden");
	log_warn("shown %d", 42);
	fclose(f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	CU_ASSERT_PTR_NULL(strstr(out, "hidden"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "warning: shown 42"));
	free(out);
}

/* ---- log.format: JSON lines and fields -------------------------------- */

/* What FN wrote with the log in FORMAT, at info level. */
static char *format_run(enum log_format format, void (*fn)(void))
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_INFO, f);
	log_set_format(format);
	log_set_timestamps(0);
	fn();
	fclose(f);
	log_set_format(LOG_FORMAT_TEXT);
	log_set_timestamps(1);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	return out;
}

static void lines_with_fields(void)
{
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", "eve@x\n\"y\"" },
					  { "rule", NULL }, { "link", "l\xff" }),
	       "access: refused %s", "eve@x\\x0a");
	log_warn("plain \"quoted\" \\ and \x01");
}

static void test_format_text_unchanged(void)
{
	char *out = format_run(LOG_FORMAT_TEXT, lines_with_fields);
	char want[256];

	snprintf(want, sizeof(want), "ope-unit[%ld] info: access: refused "
		 "eve@x\\x0a\nope-unit[%ld] warning: plain \"quoted\" \\ and "
		 "\x01\n", (long)getpid(), (long)getpid());
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void test_format_json(void)
{
	char *out = format_run(LOG_FORMAT_JSON, lines_with_fields);
	char *second = strchr(out, '\n'), head[128];

	CU_ASSERT_FATAL(second != NULL);
	*second++ = '\0';
	snprintf(head, sizeof(head), "\",\"level\":\"info\",\"pid\":%ld,"
		 "\"prog\":\"ope-unit\",\"msg\":", (long)getpid());
	/* {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ",... */
	CU_ASSERT(strncmp(out, "{\"ts\":\"", 7) == 0);
	CU_ASSERT_EQUAL(out[7 + 24], '"');
	CU_ASSERT(strncmp(out + 7 + 24, head, strlen(head)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"msg\":\"access: refused "
				      "eve@x\\\\x0a\",\"jid\":\"eve@x\\u000a"
				      "\\\"y\\\"\",\"link\":\"l\\ufffd\"}"));
	CU_ASSERT_PTR_NULL(strstr(out, "\"rule\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(second, "\"level\":\"warning\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(second, "\"msg\":\"plain \\\"quoted\\\" "
				      "\\\\ and \\u0001\"}\n"));
	free(out);
}

static void long_line(void)
{
	static char big[4000];

	memset(big, '\x01', sizeof(big) - 1);
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", big }), "%s", big);
}

/* Escaping grows a line up to six times: it is cut, and still one object. */
static void test_format_json_cut(void)
{
	char *out = format_run(LOG_FORMAT_JSON, long_line);
	size_t len = strlen(out);

	CU_ASSERT(len > 1000);
	CU_ASSERT_EQUAL(strchr(out, '\n'), out + len - 1);
	CU_ASSERT(len >= 3 && strcmp(out + len - 3, "\"}\n") == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "...\",\"jid\":\"\\u0001"));
	free(out);
}

static int sink_calls;

static int sink(void *arg, enum log_level level, const char *msg,
		const struct log_field *fields)
{
	(void)arg;
	sink_calls++;
	CU_ASSERT_EQUAL(level, LOG_LEVEL_INFO);
	CU_ASSERT_STRING_EQUAL(msg, "access: refused eve@x\\x0a");
	CU_ASSERT_STRING_EQUAL(fields[0].key, "jid");
	return level == LOG_LEVEL_INFO ? 0 : -1;
}

static void sink_lines(void)
{
	log_set_sink(sink, NULL);
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", "eve@x" }),
	       "access: refused %s", "eve@x\\x0a");
	log_set_sink(NULL, NULL);
}

/* The journal's sink takes JSON lines; text never reaches it. */
static void test_format_sink(void)
{
	char *out;
	enum log_format f;

	sink_calls = 0;
	out = format_run(LOG_FORMAT_JOURNAL, sink_lines);
	CU_ASSERT_EQUAL(sink_calls, 1);
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	out = format_run(LOG_FORMAT_TEXT, sink_lines);
	CU_ASSERT_EQUAL(sink_calls, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "info: access: refused"));
	free(out);
	CU_ASSERT_EQUAL(log_format_parse("json", &f), 0);
	CU_ASSERT_EQUAL(f, LOG_FORMAT_JSON);
	CU_ASSERT_EQUAL(log_format_parse("journal", &f), 0);
	CU_ASSERT_EQUAL(f, LOG_FORMAT_JOURNAL);
	CU_ASSERT_EQUAL(log_format_parse("JSON", &f), -1);
	CU_ASSERT_EQUAL(log_format_parse(NULL, &f), -1);
}

/* ---- log_mask: secrets in traffic split across reads ----------------- */

/* Mask PIECES (NULL-terminated) one after the other with one state, as
 * the link does read after read; return all output, one line per piece. */
static char *mask_pieces(const char *const *pieces, size_t dstlen)
{
	static char all[8192];
	struct log_mask m = { 0 };
	char out[4096];
	size_t used = 0;

	all[0] = '\0';
	CU_ASSERT_FATAL(dstlen <= sizeof(out));
	for (; *pieces != NULL; pieces++) {
		log_mask(&m, *pieces, strlen(*pieces), out, dstlen);
		used += (size_t)snprintf(all + used, sizeof(all) - used, "%s\n",
					 out);
		CU_ASSERT_FATAL(used < sizeof(all));
	}
	return all;
}

static char *mask_one(const char *text)
{
	const char *pieces[] = { text, NULL };

	return mask_pieces(pieces, 4096);
}

static void test_mask_whole(void)
{
	/* Nothing secret: unchanged. */
	CU_ASSERT_STRING_EQUAL(mask_one("<message to='a' id='b'><body>hi "
					"password</body></message>"),
			       "<message to='a' id='b'><body>hi "
			       "password</body></message>\n");
	CU_ASSERT_STRING_EQUAL(mask_one("<example_tag password='QQQQ' "
					"data=\"x\"/>"),
			       "<example_tag password='***' data=\"x\"/>\n");
	/* Either quote, spaces around '=', a prefix, any case. */
	CU_ASSERT_STRING_EQUAL(mask_one("<e ns1:PassWord = \"QQ'QQ\" a='b'/>"),
			       "<e ns1:PassWord = \"***\" a='b'/>\n");
	CU_ASSERT_STRING_EQUAL(mask_one("<e password=''/>"),
			       "<e password=''/>\n");
	/* A value with no end before the next tag ends there. */
	CU_ASSERT_STRING_EQUAL(mask_one("<e password='QQ<iq id='x'/>"),
			       "<e password='***<iq id='x'/>\n");
	/* The handshake digest, and the server's empty answer. */
	CU_ASSERT_STRING_EQUAL(mask_one("<handshake>QQQQ</handshake><iq>t</iq>"),
			       "<handshake>***</handshake><iq>t</iq>\n");
	CU_ASSERT_STRING_EQUAL(mask_one("<handshake xmlns='a/b'>QQ</handshake>"),
			       "<handshake xmlns='a/b'>***</handshake>\n");
	CU_ASSERT_STRING_EQUAL(mask_one("<handshake/><iq>t</iq>"),
			       "<handshake/><iq>t</iq>\n");
	/* "password=" inside another attribute's value is data: the real
	 * password after it is hidden all the same. */
	CU_ASSERT_STRING_EQUAL(mask_one("<e data='password=' password='QQ'/>"),
			       "<e data='password=' password='***'/>\n");
	CU_ASSERT_STRING_EQUAL(mask_one("<e u=\"https://x/?password=\" "
					"password=\"QQ\"/>"),
			       "<e u=\"https://x/?password=\" password=\"***\"/>\n");
}

/* Every split of STANZA into two reads, and one byte per read: no 'Q'
 * (only the secret has one) in any line. */
static void check_every_split(const char *stanza)
{
	char a[512], b[512], bytes[512][2];
	const char *pieces[513];
	size_t len = strlen(stanza), i;

	CU_ASSERT_FATAL(len < sizeof(a));
	for (i = 0; i <= len; i++) {
		const char *two[] = { a, b, NULL };

		memcpy(a, stanza, i);
		a[i] = '\0';
		snprintf(b, sizeof(b), "%s", stanza + i);
		if (strchr(mask_pieces(two, 4096), 'Q') != NULL) {
			CU_FAIL("a secret shows when split there");
			fprintf(stderr, "\n  split at %zu: %s", i,
				mask_pieces(two, 4096));
		}
	}
	for (i = 0; i < len; i++) {
		bytes[i][0] = stanza[i];
		bytes[i][1] = '\0';
		pieces[i] = bytes[i];
	}
	pieces[len] = NULL;
	CU_ASSERT_PTR_NULL(strchr(mask_pieces(pieces, 4096), 'Q'));
}

static void test_mask_split(void)
{
	check_every_split("<message from='a@b/c' id='1'><example_tag "
			  "xmlns='urn:x' password='QQQQQQQQ' data='d'/><body>"
			  "b</body></message>");
	check_every_split("<iq><example_tag password = \"QQ&apos;QQ\"/></iq>");
	check_every_split("<handshake>QQQQQQQQQQ</handshake>");
	check_every_split("<iq><e data='password=' password='QQQQ' b=\"'\"/>"
			  "<body>it's</body></iq>");
	check_every_split("<handshake xmlns='jabber:component:accept'>QQQQ"
			  "</handshake>");
}

static void test_mask_resync_and_cut(void)
{
	struct log_mask m = { 0 };
	char out[64], big[5000];
	const char *pieces[] = { big, "QQQQ' a='b'/>", NULL }, *all;

	/* A fresh state (the first piece, or after pieces not logged) hides
	 * everything up to the first '<': the end of a secret, maybe. */
	CU_ASSERT_STRING_EQUAL(log_mask(&m, "QQ'/><iq id='x'/>", 17, out,
					sizeof(out)), "***<iq id='x'/>");
	/* Output is cut with "...", but every byte still counts: a value that
	 * starts past the cut is masked in the next piece. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "<x>", 3);
	memcpy(big + sizeof(big) - 16, "<e password='QQ", 16);
	big[sizeof(big) - 1] = '\0';
	all = mask_pieces(pieces, 64);
	CU_ASSERT_PTR_NULL(strchr(all, 'Q'));
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "aaa...\n***' a='b'/>\n"));
	CU_ASSERT_EQUAL(strchr(all, '\n') - all, 63);
}

/* ---- buffered lines ------------------------------------------------ */

/* Every write that reached the stream, for fopencookie(). */
struct writes {
	char data[200000];
	size_t len, count, whole;
};

static ssize_t record_write(void *cookie, const char *buf, size_t n)
{
	struct writes *w = cookie;

	if (w->len + n > sizeof(w->data))
		return -1;
	memcpy(w->data + w->len, buf, n);
	w->len += n;
	w->count++;
	/* Whole lines only: each write starts a line and ends one. */
	if (n > 0 && buf[n - 1] == '\n')
		w->whole++;
	return (ssize_t)n;
}

static void test_buffered_whole_lines(void)
{
	static struct writes w;
	static char big[1 << 20];
	cookie_io_functions_t io = { NULL, record_write, NULL, NULL };
	FILE *f = fopencookie(&w, "w", io);
	char text[3000];
	size_t i, count;
	const char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	memset(&w, 0, sizeof(w));
	/* stdio passes on whatever ope writes, as it writes it. */
	setvbuf(f, big, _IOFBF, sizeof(big));
	log_init("ope-unit", LOG_LEVEL_INFO, f);
	log_set_timestamps(0);
	log_set_buffered(1);
	memset(text, 'x', sizeof(text));
	for (i = 0; i < 100; i++) {
		text[i * 29 % 2999 + 1] = '\0';
		log_info("line %zu %s", i, text);
		text[i * 29 % 2999 + 1] = 'x';
	}
	count = w.count;
	/* Held, and written in a few big writes when the buffer filled. */
	CU_ASSERT_TRUE(count >= 1 && count <= 10);
	log_info("the last info line");
	CU_ASSERT_EQUAL(w.count, count);
	log_flush();
	CU_ASSERT_EQUAL(w.count, count + 1);
	/* An error goes out at once. */
	log_error("an error");
	CU_ASSERT_EQUAL(w.count, count + 2);
	CU_ASSERT_EQUAL(w.whole, w.count);
	/* Every line there, whole, in order. */
	for (p = w.data, i = 0; i < 100; i++) {
		char head[64];
		const char *nl = memchr(p, '\n', w.len - (size_t)(p - w.data));

		snprintf(head, sizeof(head), "ope-unit[%ld] info: line %zu x",
			 (long)getpid(), i);
		CU_ASSERT_FATAL(nl != NULL);
		CU_ASSERT_EQUAL(strncmp(p, head, strlen(head)), 0);
		CU_ASSERT_EQUAL((size_t)(nl - p), strlen(head) + i * 29 % 2999);
		p = nl + 1;
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "info: the last info line\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "error: an error\n"));
	log_set_buffered(0);
	log_set_timestamps(1);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	fclose(f);
}

/* A process that exits with lines held writes them first (atexit). */
static void test_buffered_exit(void)
{
	int fds[2], status;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		FILE *f = fdopen(fds[1], "w");

		close(fds[0]);
		if (f == NULL)
			_exit(2);
		log_init("ope-child", LOG_LEVEL_INFO, f);
		log_set_buffered(1);
		log_info("first");
		log_warn("second");
		exit(0);
	}
	close(fds[1]);
	while (len < sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fds[0]);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "info: first\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "warning: second\n"));
}

static int test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "levels", test_levels) ||
	    !CU_add_test(s, "escaping", test_escape) ||
	    !CU_add_test(s, "quoting", test_quote) ||
	    !CU_add_test(s, "libstrophe secrets filtered", test_secrets_filtered) ||
	    !CU_add_test(s, "threshold", test_threshold) ||
	    !CU_add_test(s, "format text: fields not shown", test_format_text_unchanged) ||
	    !CU_add_test(s, "format json: one object a line", test_format_json) ||
	    !CU_add_test(s, "format json: long lines cut whole", test_format_json_cut) ||
	    !CU_add_test(s, "format journal: the sink", test_format_sink) ||
	    !CU_add_test(s, "mask: whole stanzas", test_mask_whole) ||
	    !CU_add_test(s, "mask: secrets split anywhere", test_mask_split) ||
	    !CU_add_test(s, "mask: resync, cut output", test_mask_resync_and_cut) ||
	    !CU_add_test(s, "buffered: whole lines, few writes",
			 test_buffered_whole_lines) ||
	    !CU_add_test(s, "buffered: written at exit", test_buffered_exit))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_log_register)
