/* SPDX-License-Identifier: MIT */
/* log.h: ope's one logging module: levels, timestamps, escaping, libstrophe routing. */
#ifndef OPE_LOG_H
#define OPE_LOG_H

#include <stddef.h>
#include <stdio.h>
#include <strophe.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* How lines are written (log.format). */
enum log_format {
	LOG_FORMAT_TEXT = 0,   /* "TIME PROG[PID] LEVEL: MESSAGE" */
	LOG_FORMAT_JSON,       /* one JSON object a line */
	LOG_FORMAT_JOURNAL,    /* to the sink (log_set_sink()), else as JSON */
};

/* One field a line carries: KEY is a constant of lower-case letters and
 * '_' other than ts, level, pid, prog and msg; VALUE any text (escaped
 * when written), NULL to leave the field out. */
struct log_field {
	const char *key;
	const char *value;
};

/* A field list for log_kv(), ended for you:
 * log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "jid", jid }), "...", ...). */
#define LOG_FIELDS(...) \
	((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

/* Where JSON and journal lines go instead of the stream: FN(ARG, LEVEL,
 * MSG, FIELDS ended by a NULL key) returns 0 when it took the line, -1 to
 * have it written to the stream as JSON. Called under the log's lock,
 * possibly from another thread. */
typedef int (*log_sink_fn)(void *arg, enum log_level level, const char *msg,
			   const struct log_field *fields);

/* Send log lines to STREAM (stderr when NULL) at LEVEL and above, tagged with
 * PROGNAME. The stream is borrowed; it must outlive the logger. Lines still
 * held (log_set_buffered()) go to the previous stream first. */
void log_init(const char *progname, enum log_level level, FILE *stream);

/* ON: hold lines and write them together, whole lines only, when
 * log_flush() is called, when the next line would not fit the buffer,
 * at once with an error line, and at exit. For a program whose event loop
 * calls log_flush() before it waits. OFF (the default): each line is
 * written as it comes, in one write. Turning it off flushes. */
void log_set_buffered(int on);

/* Write the lines held, if any. */
void log_flush(void);

/* Change the threshold at run time. */
void log_set_level(enum log_level level);

/* Prefix lines with an ISO 8601 UTC timestamp (default on). Text format
 * only: a JSON line always has its "ts". */
void log_set_timestamps(int on);

/* Write lines as FORMAT from now on (default LOG_FORMAT_TEXT). Text lines
 * never show fields. */
void log_set_format(enum log_format format);

/* Parse "text", "json" or "journal" into *FORMAT; -1 if unknown. */
int log_format_parse(const char *name, enum log_format *format);

/* Hand JSON and journal lines to FN (NULL: none, write them as JSON). */
void log_set_sink(log_sink_fn fn, void *arg);

/* The current threshold. */
enum log_level log_get_level(void);

/* True when a message at LEVEL would be written: test it before building an
 * expensive message on a hot path. */
int log_enabled(enum log_level level);

/* Parse "error", "warning", "info" or "debug" into *LEVEL; -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level);

/* The name of LEVEL ("error", ...); a static string. */
const char *log_level_name(enum log_level level);

/* Write one line. FMT is printf-like; never pass text from the wire as FMT
 * and escape it with log_escape() first. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* log_msg() with FIELDS (ended by a NULL key, see LOG_FIELDS()): JSON and
 * the journal carry each as its own key; text shows the message alone, so
 * the message should still say what the fields say. */
void log_kv(enum log_level level, const struct log_field *fields,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_enabled(LOG_LEVEL_DEBUG)) \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

/* Copy untrusted SRC into DST (size DSTLEN, always NUL-terminated) with
 * control characters, backslash and non-UTF-8 bytes as \xNN escapes; a
 * NULL SRC gives "(null)". Output longer than DSTLEN is cut (never inside a
 * UTF-8 character) and ends in "...". Returns DST. */
char *log_escape(char *dst, size_t dstlen, const char *src);

/* SRC in double quotes for a terminal or a log: '"' and '\' backslashed,
 * control characters and invalid UTF-8 as \xNN, valid UTF-8 kept; NULL
 * gives (absent). Cut with ... to fit LEN (>= 8; less gives "") bytes.
 * Returns DST. Same escaper as log_escape(). */
char *log_quote(char *dst, size_t len, const char *src);

/* What log_mask() needs to carry over from one piece of a stream to the
 * next. Zeroed at the start of a stream, and whenever pieces went by
 * unmasked: it then hides everything up to the next '<' (the rest of a
 * secret split across the gap cannot reach past it). */
struct log_mask {
	unsigned char state;
	unsigned char pw, hs;     /* chars of "password", "<handshake" matched */
	unsigned char slash;      /* the last tag character was '/' */
	char quote;               /* the quote that ends the current value */
	unsigned char in_tag;     /* between a tag's '<' and its '>' */
	char tquote;              /* in a tag: the quote of another value */
};

/* Copy LEN bytes of SRC, the next piece of an XML stream, into DST (DSTLEN
 * >= 8, always NUL-terminated) with secrets replaced by "***": the values
 * of attributes named *password and the content of <handshake>. M carries
 * a secret split between pieces over to the next call. Every byte of SRC
 * is scanned; output that does not fit DST is cut and ends in "...". The
 * result is not escaped: pass it to log_escape(). Returns DST. */
char *log_mask(struct log_mask *m, const char *src, size_t len, char *dst,
	       size_t dstlen);

/* A libstrophe logger that writes through this module, drops libstrophe's
 * chatter below the current level and masks secrets (the component
 * handshake digest, SASL payloads) in raw traffic lines. Static storage. */
const xmpp_log_t *log_strophe_logger(void);

#endif
