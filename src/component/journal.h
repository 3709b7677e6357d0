/* SPDX-License-Identifier: MIT */
/* journal.h: log lines with their fields to the systemd journal (sd_journal_send); no-ops without libsystemd. */
#ifndef OPE_JOURNAL_H
#define OPE_JOURNAL_H

#include <stddef.h>
#include <sys/uio.h>

#include "log.h"

/* True when lines in FORMAT should go to the journal: "journal" always,
 * "json" when JOURNAL_STREAM names this process's stderr (systemd put it
 * there); never for "text" or without libsystemd. */
int journal_wanted(enum log_format format);

/* True when the environment's JOURNAL_STREAM ("DEV:INODE") names the file
 * behind descriptor FD. */
int journal_names_fd(const char *journal_stream, int fd);

/* A log_sink_fn (ARG unused): the line as one journal entry, MESSAGE,
 * PRIORITY, SYSLOG_IDENTIFIER=ope-component and each field upper-cased
 * (jid: JID=...). Returns -1 when the journal could not take it (the line
 * is then written as JSON) and always without libsystemd. */
int journal_sink(void *arg, enum log_level level, const char *msg,
		 const struct log_field *fields);

/* The entry journal_sink() sends, as "NAME=value" strings in BUF (size
 * LEN) pointed to by at most MAX entries of IOV; returns how many. Fields
 * that do not fit are left out. For tests. */
size_t journal_entry(enum log_level level, const char *msg,
		     const struct log_field *fields, struct iovec *iov,
		     size_t max, char *buf, size_t len);

#endif
