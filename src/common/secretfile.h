/* SPDX-License-Identifier: MIT */
/* secretfile.h: read a secret (component secret, user password) from a file, with one set of rules. */
#ifndef OPE_SECRETFILE_H
#define OPE_SECRETFILE_H

#include <sys/types.h>

/* A secret file holds one line; anything bigger is the wrong file. */
#define SECRETFILE_MAX 4096

/* What secretfile_read() found; callers word their own messages. */
enum secretfile_status {
	SECRETFILE_OK = 0,
	SECRETFILE_UNREADABLE = -1,	/* open, fstat or read failed, or a
					 * directory: the errno is in ERRNUM */
	SECRETFILE_NOT_REGULAR = -2,	/* a FIFO, socket or device */
	SECRETFILE_TOO_LARGE = -3,	/* more than SECRETFILE_MAX bytes */
	SECRETFILE_EMPTY = -4,		/* the first line is empty */
	SECRETFILE_LINES = -5,		/* a second non-empty line, or a CR
					 * or NUL byte inside the first */
	SECRETFILE_NOMEM = -6,
};

struct secretfile {
	char *secret;	/* OK: the first line without its LF or CRLF;
			 * the caller frees it with secretfile_free() */
	mode_t mode;	/* the file's st_mode (for secretfile_exposed()) */
	int errnum;	/* UNREADABLE: why */
};

/* Read the secret in PATH into OUT: the first line is the secret, later
 * lines must be empty. FIFOs and other non-regular files are refused
 * without blocking. Every buffer that held file bytes is wiped. Returns
 * SECRETFILE_OK or a negative status (OUT->secret NULL). */
enum secretfile_status secretfile_read(const char *path, struct secretfile *out);

/* True when MODE lets group or others read the file: warn about it. */
int secretfile_exposed(mode_t mode);

/* Wipe and free SECRET; NULL is fine. */
void secretfile_free(char *secret);

#endif
