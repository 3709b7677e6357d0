/* SPDX-License-Identifier: MIT */
/* journal.c: log lines with their fields to the systemd journal (sd_journal_send); no-ops without libsystemd. */
#include "build_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "journal.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

int journal_names_fd(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (journal_stream == NULL ||
	    sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
	    fstat(fd, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

int journal_wanted(enum log_format format)
{
#ifdef HAVE_SYSTEMD
	if (format == LOG_FORMAT_JOURNAL)
		return 1;
	if (format == LOG_FORMAT_JSON)
		return journal_names_fd(getenv("JOURNAL_STREAM"), 2);
#else
	(void)format;
#endif
	return 0;
}

/* syslog(3)'s priorities, as the journal's PRIORITY field has them. */
static int priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return 3;
	case LOG_LEVEL_WARNING: return 4;
	case LOG_LEVEL_INFO: return 6;
	case LOG_LEVEL_DEBUG: break;
	}
	return 7;
}

/* "NAME=value" at BUF + *USED into IOV[*N], if it fits. */
static void put(struct iovec *iov, size_t max, size_t *n, char *buf,
		size_t len, size_t *used, const char *name, const char *value)
{
	size_t k, nl = strlen(name), vl = strlen(value);
	char *p = buf + *used;

	if (*n >= max || *used + nl + 1 + vl > len)
		return;
	for (k = 0; k < nl; k++)
		p[k] = (char)toupper((unsigned char)name[k]);
	p[nl] = '=';
	memcpy(p + nl + 1, value, vl);
	iov[*n].iov_base = p;
	iov[*n].iov_len = nl + 1 + vl;
	(*n)++;
	*used += nl + 1 + vl;
}

size_t journal_entry(enum log_level level, const char *msg,
		     const struct log_field *fields, struct iovec *iov,
		     size_t max, char *buf, size_t len)
{
	size_t n = 0, used = 0;
	char prio[2] = { (char)('0' + priority(level)), '\0' };

	put(iov, max, &n, buf, len, &used, "MESSAGE", msg);
	put(iov, max, &n, buf, len, &used, "PRIORITY", prio);
	put(iov, max, &n, buf, len, &used, "SYSLOG_IDENTIFIER", "ope-component");
	for (; fields != NULL && fields->key != NULL; fields++)
		if (fields->value != NULL)
			put(iov, max, &n, buf, len, &used, fields->key,
			    fields->value);
	return n;
}

int journal_sink(void *arg, enum log_level level, const char *msg,
		 const struct log_field *fields)
{
#ifdef HAVE_SYSTEMD
	struct iovec iov[16];
	char buf[8192];
	size_t n = journal_entry(level, msg, fields, iov, 16, buf, sizeof(buf));

	(void)arg;
	return sd_journal_sendv(iov, (int)n) == 0 ? 0 : -1;
#else
	(void)arg;
	(void)level;
	(void)msg;
	(void)fields;
	return -1;
#endif
}
