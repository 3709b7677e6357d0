/* SPDX-License-Identifier: MIT */
/* log.c: levelled, timestamped log lines; escaping; libstrophe's log routed here. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strophe_compat.h"
#include "util.h"
#include "utf8.h"

static const char *log_progname = "ope";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static FILE *log_stream;
static int log_timestamps = 1;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static log_sink_fn log_sink;
static void *log_sink_arg;

/* Buffered mode (log_set_buffered()). Writing each line at once costs a
 * system call per line, which at debug level is several per stanza. A
 * stdio full buffer would cut lines wherever it fills up, so ope keeps its
 * own: whole lines wait here and go out together in one write, never a
 * part of one. The event loop flushes before it waits (nothing lingers
 * while idle), an error line flushes at once (a crash may follow), exit()
 * flushes (atexit), and takeover flushes before it starts a successor that
 * writes to the same stderr. Lost on a crash: at most one loop turn's
 * lines below error level. The lock: libmicrohttpd's thread logs too. */
#define LOG_HELD 32768
static char held[LOG_HELD];
static size_t held_len;
static int log_buffered;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_init(const char *progname, enum log_level level, FILE *stream)
{
	log_flush();
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

void log_set_format(enum log_format format)
{
	pthread_mutex_lock(&log_lock);
	log_fmt = format;
	pthread_mutex_unlock(&log_lock);
}

int log_format_parse(const char *name, enum log_format *format)
{
	static const char *const names[] = {
		[LOG_FORMAT_TEXT] = "text",
		[LOG_FORMAT_JSON] = "json",
		[LOG_FORMAT_JOURNAL] = "journal",
	};
	size_t i;

	for (i = 0; name != NULL && i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0) {
			*format = (enum log_format)i;
			return 0;
		}
	return -1;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_arg = arg;
	pthread_mutex_unlock(&log_lock);
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

/* Write N bytes at P to OUT, all of them, in as few writes as it takes. */
static void write_out(FILE *out, const char *p, size_t n)
{
	int fd = fileno(out);

	if (fd < 0) {
		/* A stream without a descriptor (a memory stream in tests). */
		fwrite(p, 1, n, out);
		fflush(out);
		return;
	}
	/* Whatever stdio holds for the same file goes first. */
	fflush(out);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;  /* nowhere to log: the lines are dropped */
		p += w;
		n -= (size_t)w;
	}
}

static FILE *log_out(void)
{
	return log_stream ? log_stream : stderr;
}

/* With log_lock held. */
static void flush_locked(void)
{
	if (held_len > 0)
		write_out(log_out(), held, held_len);
	held_len = 0;
}

void log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	flush_locked();
	pthread_mutex_unlock(&log_lock);
}

void log_set_buffered(int on)
{
	static int registered;

	pthread_mutex_lock(&log_lock);
	if (on && !registered)
		registered = atexit(log_flush) == 0;
	log_buffered = on && registered;
	if (!log_buffered)
		flush_locked();
	pthread_mutex_unlock(&log_lock);
}

/* JSON text being built into a fixed buffer. */
struct json_out {
	char *buf;
	size_t len, o;
};

static void json_raw(struct json_out *j, const char *s)
{
	size_t n = strlen(s);

	if (j->o + n < j->len) {
		memcpy(j->buf + j->o, s, n);
		j->o += n;
	}
}

/* S as a JSON string, cut with "..." so that the string ends before STOP:
 * '"', '\' and control characters escaped, bytes that are not UTF-8 as
 * U+FFFD. */
static void json_str(struct json_out *j, const char *s, size_t stop)
{
	const unsigned char *p = (const unsigned char *)s;

	if (stop > j->len)
		stop = j->len;
	json_raw(j, "\"");
	while (*p) {
		size_t seq = utf8_seq_len(p), n = seq, adv = seq;
		const char *piece = (const char *)p;
		char esc[8];

		if (seq == 0) {
			piece = "\\ufffd";
			n = 6;
			adv = 1;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			piece = esc;
			n = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			piece = esc;
			n = 6;
		}
		/* Room for the piece, "...", the closing quote. */
		if (j->o + n + 4 >= stop) {
			json_raw(j, "...");
			break;
		}
		memcpy(j->buf + j->o, piece, n);
		j->o += n;
		p += adv;
	}
	json_raw(j, "\"");
}

/* One JSON object for MSG and FIELDS into LINE (size LEN, at least 512),
 * ending in a newline; returns its length. */
static size_t json_line(char *line, size_t len, const char *stamp,
			enum log_level level, const char *msg,
			const struct log_field *fields)
{
	struct json_out j = { line, len - 2, 0 };
	char head[160];

	snprintf(head, sizeof(head), "{\"ts\":\"%s\",\"level\":\"%s\","
		 "\"pid\":%ld,\"prog\":", stamp, log_level_name(level),
		 (long)getpid());
	json_raw(&j, head);
	json_str(&j, log_progname, j.o + 100);
	json_raw(&j, ",\"msg\":");
	/* Leave room for the fields after the message. */
	json_str(&j, msg, j.len - 1024);
	for (; fields != NULL && fields->key != NULL; fields++) {
		if (fields->value == NULL)
			continue;
		if (j.o + strlen(fields->key) + 320 > j.len)
			break;  /* never more than a few fields: not reached */
		json_raw(&j, ",\"");
		json_raw(&j, fields->key);
		json_raw(&j, "\":");
		json_str(&j, fields->value, j.o + 300);
	}
	line[j.o++] = '}';
	line[j.o++] = '\n';
	return j.o;
}

static void log_vwrite(enum log_level level, const struct log_field *fields,
		       const char *fmt, va_list ap)
{
	char stamp[40] = "";
	char msg[4096], line[4 * sizeof(msg) + 1024];
	enum log_format format;
	int n = 0;
	size_t len;

	pthread_mutex_lock(&log_lock);
	format = log_fmt;
	pthread_mutex_unlock(&log_lock);
	if (log_timestamps || format != LOG_FORMAT_TEXT) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - (size_t)n, ".%03ldZ%s",
			 ts.tv_nsec / 1000000, format == LOG_FORMAT_TEXT ? " " : "");
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (format != LOG_FORMAT_TEXT) {
		pthread_mutex_lock(&log_lock);
		if (log_sink != NULL &&
		    log_sink(log_sink_arg, level, msg, fields) == 0) {
			pthread_mutex_unlock(&log_lock);
			return;
		}
		pthread_mutex_unlock(&log_lock);
		len = json_line(line, sizeof(line), stamp, level, msg, fields);
	} else {
		n = snprintf(line, sizeof(line), "%s%s[%ld] %s: %s\n", stamp,
			     log_progname, (long)getpid(), log_level_name(level),
			     msg);
		if (n < 0)
			return;
		len = (size_t)n;
		if (len >= sizeof(line)) {
			/* A very long program name: the line is cut, but whole. */
			len = sizeof(line) - 1;
			line[len - 1] = '\n';
		}
	}
	pthread_mutex_lock(&log_lock);
	if (!log_buffered) {
		write_out(log_out(), line, len);
	} else {
		if (held_len + len > sizeof(held))
			flush_locked();
		memcpy(held + held_len, line, len);
		held_len += len;
		if (level == LOG_LEVEL_ERROR)
			flush_locked();
	}
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

void log_kv(enum log_level level, const struct log_field *fields,
	    const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, fields, fmt, ap);
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

/* ---- masking secrets in traffic (log_mask) ---------------------------- */

enum mask_state {
	MASK_RESYNC,   /* hidden up to the next '<' (the zeroed state) */
	MASK_TEXT,     /* looking for "password" and "<handshake" */
	MASK_NAME,     /* after "password": the rest of a name, up to '=' */
	MASK_EQ,       /* after '=': up to the value's quote */
	MASK_VALUE,    /* the value: hidden up to its quote */
	MASK_HS_TAG,   /* inside <handshake ...> */
	MASK_HS_BODY,  /* its content: hidden up to the next '<' */
};

static const char mask_pw[] = "password", mask_hs[] = "<handshake";

/* Output of log_mask(): what fits before the room kept for "...". */
struct mask_out {
	char *dst;
	size_t len, room;
	int cut, hiding;
};

static void mask_emit(struct mask_out *o, const char *p, size_t n)
{
	if (o->cut)
		return;
	if (o->len + n > o->room) {
		o->cut = 1;
		return;
	}
	memcpy(o->dst + o->len, p, n);
	o->len += n;
}

/* C is shown (SHOW) or hidden: a run of hidden bytes shows as one "***". */
static void mask_byte(struct mask_out *o, char c, int show)
{
	if (show) {
		o->hiding = 0;
		mask_emit(o, &c, 1);
	} else if (!o->hiding) {
		o->hiding = 1;
		mask_emit(o, "***", 3);
	}
}

static int mask_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int mask_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
	       c == ':' || (unsigned char)c >= 0x80;
}

/* Advance a match of WORD (matched so far: *AT) by C; 1 when complete. */
static int mask_match(unsigned char *at, const char *word, char c)
{
	char lc = (char)tolower((unsigned char)c);

	/* Neither word has a prefix that is also a suffix of a longer part
	 * of it: on a mismatch, C alone may start a new match. */
	if (lc == word[*at])
		(*at)++;
	else
		*at = lc == word[0] ? 1 : 0;
	if (word[*at] != '\0')
		return 0;
	*at = 0;
	return 1;
}

/* One byte in state M->state: 1 when it is done with, 0 when it must be
 * looked at again in the state just entered. */
static int mask_step(struct log_mask *m, struct mask_out *o, char c)
{
	switch ((enum mask_state)m->state) {
	case MASK_RESYNC:
		if (c == '<') {
			m->state = MASK_TEXT;
			m->tquote = 0;
			return 0;
		}
		mask_byte(o, c, 0);
		return 1;
	case MASK_TEXT:
		mask_byte(o, c, 1);
		/* Inside another attribute's value, "password=" is data
		 * (data='password=' password='x' must still hide x). */
		if (m->tquote) {
			if (c == m->tquote)
				m->tquote = 0;
			return 1;
		}
		if (c == '<') {
			m->in_tag = 1;
		} else if (c == '>') {
			m->in_tag = 0;
		} else if (m->in_tag && (c == '\'' || c == '"')) {
			m->tquote = c;
			m->pw = m->hs = 0;
			return 1;
		}
		if (mask_match(&m->pw, mask_pw, c)) {
			m->hs = 0;
			m->state = MASK_NAME;
		} else if (mask_match(&m->hs, mask_hs, c)) {
			m->pw = 0;
			m->quote = 0;
			m->slash = 0;
			m->state = MASK_HS_TAG;
		}
		return 1;
	case MASK_NAME:
		if (c == '=')
			m->state = MASK_EQ;
		else if (!mask_name_char(c) && !mask_space(c))
			break;
		mask_byte(o, c, 1);
		return 1;
	case MASK_EQ:
		if (c == '\'' || c == '"') {
			m->quote = c;
			m->state = MASK_VALUE;
		} else if (!mask_space(c)) {
			break;
		}
		mask_byte(o, c, 1);
		return 1;
	case MASK_VALUE:
		/* No '<' in a well-formed value: past one, the value is over
		 * (or never was one). */
		if (c == '<')
			break;
		if (c == m->quote)
			m->state = MASK_TEXT;
		mask_byte(o, c, c == m->quote);
		return 1;
	case MASK_HS_TAG:
		mask_byte(o, c, 1);
		if (m->quote) {
			if (c == m->quote)
				m->quote = 0;
		} else if (c == '\'' || c == '"') {
			m->quote = c;
		} else if (c == '>') {
			m->state = m->slash ? MASK_TEXT : MASK_HS_BODY;
			m->in_tag = 0;
		}
		m->slash = !m->quote && c == '/';
		return 1;
	case MASK_HS_BODY:
		if (c == '<')
			break;
		mask_byte(o, c, 0);
		return 1;
	}
	m->state = MASK_TEXT;
	m->pw = m->hs = 0;
	return 0;
}

char *log_mask(struct log_mask *m, const char *src, size_t len, char *dst,
	       size_t dstlen)
{
	struct mask_out o = { dst, 0, dstlen >= 8 ? dstlen - 4 : 0, 0, 0 };
	size_t i = 0;

	while (i < len)
		if (mask_step(m, &o, src[i]))
			i++;
	if (o.cut && dstlen >= 8) {
		memcpy(dst + o.len, "...", 3);
		o.len += 3;
	}
	if (dstlen > 0)
		dst[dstlen >= 8 ? o.len : 0] = '\0';
	return dst;
}

static void log_strophe(void *userdata, xmpp_log_level_t level,
			const char *area, const char *msg)
{
	enum log_level ours;
	char buf[1024];
	size_t keep;

	(void)userdata;
	switch (level) {
	case XMPP_LEVEL_ERROR: ours = LOG_LEVEL_ERROR; break;
	case XMPP_LEVEL_WARN: ours = LOG_LEVEL_WARNING; break;
	/* libstrophe's info lines are connection chatter: debug for us. */
	default: ours = LOG_LEVEL_DEBUG; break;
	}
	if (!log_enabled(ours))
		return;
	keep = strophe_compat_secret_at(msg);
	if (keep > 0) {
		/* Keep what precedes the secret ("SENT: <handshake"),
		 * escaped: it may hold text from the wire. */
		char head[160];

		if (keep >= sizeof(head))
			keep = sizeof(head) - 1;
		memcpy(head, msg, keep);
		head[keep] = '\0';
		log_msg(ours, "libstrophe %s: %s... (masked: may carry a secret)",
			area, log_escape(buf, sizeof(buf), head));
		return;
	}
	log_msg(ours, "libstrophe %s: %s", area, log_escape(buf, sizeof(buf), msg));
}

const xmpp_log_t *log_strophe_logger(void)
{
	static const xmpp_log_t logger = { log_strophe, NULL };

	return &logger;
}
