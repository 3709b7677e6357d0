/* SPDX-License-Identifier: MIT */
/* log.c: levelled, timestamped log lines; escaping; libstrophe's log routed here. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "utf8.h"

static const char *log_progname = "ope";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static FILE *log_stream;
static int log_timestamps = 1;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_init(const char *progname, enum log_level level, FILE *stream)
{
	log_progname = progname ? progname : "ope";
	log_threshold = level;
	log_stream = stream;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

void log_set_timestamps(int on)
{
	log_timestamps = on;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

int log_level_parse(const char *name, enum log_level *level)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warn") == 0) {
		*level = LOG_LEVEL_WARNING;
		return 0;
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= ARRAY_SIZE(level_names))
		return "?";
	return level_names[level];
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	FILE *out = log_stream ? log_stream : stderr;
	char stamp[40] = "";
	char line[4096];
	int n = 0;

	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - (size_t)n, ".%03ldZ ",
			 ts.tv_nsec / 1000000);
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line so concurrent writers don't interleave. */
	fprintf(out, "%s%s[%ld] %s: %s\n", stamp, log_progname, (long)getpid(),
		log_level_name(level), line);
	fflush(out);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

/* The one escaper behind log_escape() and log_quote(). Control characters,
 * DEL and bytes that are not UTF-8 become \xNN; valid UTF-8 is kept. Plain:
 * '\' becomes \x5c. QUOTED: the text goes in double quotes, with '"' and
 * '\' backslashed. Output that doesn't fit LEN is cut, never inside a UTF-8
 * sequence, and marked with "...". LEN > 0. */
static char *escape(char *dst, size_t len, const char *src, int quoted)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t tail = quoted ? 1 : 0, o = 0;

	if (quoted)
		dst[o++] = '"';
	while (*s) {
		size_t seq = utf8_seq_len(s), n = seq, adv = seq;
		const char *piece = (const char *)s;
		char esc[5];

		if (quoted && (*s == '"' || *s == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*s;
			piece = esc;
			n = 2;
			adv = 1;
		} else if (seq == 0 || (seq == 1 && (*s < 0x20 || *s == 0x7f ||
						     *s == '\\'))) {
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
			piece = esc;
			n = 4;
			adv = 1;
		}
		/* Room for the piece, the closing quote and the NUL. */
		if (o + n + tail + 1 > len) {
			/* Mark the cut so nobody mistakes it for the whole. */
			if (len >= 4 + 2 * tail) {
				if (o + 4 + tail > len) {
					o = len - 4 - tail;
					while (o > tail &&
					       ((unsigned char)dst[o] & 0xc0) == 0x80)
						o--;
				}
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, piece, n);
		o += n;
		s += adv;
	}
	if (quoted)
		dst[o++] = '"';
	dst[o] = '\0';
	return dst;
}

char *log_escape(char *dst, size_t dstlen, const char *src)
{
	if (dstlen == 0)
		return dst;
	if (src == NULL) {
		snprintf(dst, dstlen, "(null)");
		return dst;
	}
	return escape(dst, dstlen, src, 0);
}

char *log_quote(char *dst, size_t len, const char *src)
{
	if (len < 8) {
		if (len > 0)
			dst[0] = '\0';
		return dst;
	}
	if (src == NULL) {
		snprintf(dst, len, "(absent)");
		return dst;
	}
	return escape(dst, len, src, 1);
}

/* libstrophe's debug lines may carry secrets: the XEP-0114 handshake digest
 * (with the stream id it allows an offline dictionary attack on the secret),
 * both as raw traffic and in its own "Digest:" line, SASL exchanges, and an
 * example_tag's service password attribute (either quote). */
static const char *const secret_marks[] = {
	"<handshake", "Digest:", "<auth", "<response", "<challenge", "<success",
	"password=",
};

static void log_strophe(void *userdata, xmpp_log_level_t level,
			const char *area, const char *msg)
{
	enum log_level ours;
	char buf[1024];
	size_t i;

	(void)userdata;
	switch (level) {
	case XMPP_LEVEL_ERROR: ours = LOG_LEVEL_ERROR; break;
	case XMPP_LEVEL_WARN: ours = LOG_LEVEL_WARNING; break;
	/* libstrophe's info lines are connection chatter: debug for us. */
	default: ours = LOG_LEVEL_DEBUG; break;
	}
	if (!log_enabled(ours))
		return;
	for (i = 0; i < ARRAY_SIZE(secret_marks); i++) {
		const char *mark = strstr(msg, secret_marks[i]);

		if (mark != NULL) {
			/* Keep what precedes the secret ("SENT: <handshake"),
			 * escaped: it may hold text from the wire. */
			char head[160];
			size_t keep = (size_t)(mark - msg) + strlen(secret_marks[i]);

			if (keep >= sizeof(head))
				keep = sizeof(head) - 1;
			memcpy(head, msg, keep);
			head[keep] = '\0';
			log_msg(ours, "libstrophe %s: %s... (masked: may carry a secret)",
				area, log_escape(buf, sizeof(buf), head));
			return;
		}
	}
	log_msg(ours, "libstrophe %s: %s", area, log_escape(buf, sizeof(buf), msg));
}

const xmpp_log_t *log_strophe_logger(void)
{
	static const xmpp_log_t logger = { log_strophe, NULL };

	return &logger;
}
