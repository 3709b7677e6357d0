/* SPDX-License-Identifier: MIT */
/* secretfile.c: read a secret from a file: one line, a regular file, a size cap, wiped buffers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secretfile.h"

/* Read at most CAP bytes of FD into BUF; *LEN gets the count. 0, or -1
 * with errno set. */
static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t got;

	*len = 0;
	while (*len < cap) {
		got = read(fd, buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		*len += (size_t)got;
	}
	return 0;
}

/* Judge the LEN bytes in BUF; *LINE gets the first line's length. */
static enum secretfile_status first_line(const char *buf, size_t len,
					 size_t *line)
{
	const char *lf = memchr(buf, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - buf) : len;
	size_t i;

	if (lf != NULL && n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return SECRETFILE_EMPTY;
	if (memchr(buf, '\0', n) != NULL || memchr(buf, '\r', n) != NULL)
		return SECRETFILE_LINES;
	/* Blank lines after the secret are fine; anything else is not. */
	for (i = lf != NULL ? (size_t)(lf - buf) : len; i < len; i++)
		if (buf[i] != '\r' && buf[i] != '\n')
			return SECRETFILE_LINES;
	*line = n;
	return SECRETFILE_OK;
}

enum secretfile_status secretfile_read(const char *path, struct secretfile *out)
{
	char buf[SECRETFILE_MAX + 1];
	enum secretfile_status rc;
	struct stat st;
	size_t len = 0, n = 0;
	int fd;

	memset(out, 0, sizeof(*out));
	/* O_NONBLOCK: a FIFO named here must not hang start-up or a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		out->errnum = errno;
		rc = SECRETFILE_UNREADABLE;
		goto out;
	}
	out->mode = st.st_mode;
	if (S_ISDIR(st.st_mode)) {
		out->errnum = EISDIR;
		rc = SECRETFILE_UNREADABLE;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = SECRETFILE_NOT_REGULAR;
		goto out;
	}
	if (read_all(fd, buf, sizeof(buf), &len) < 0) {
		out->errnum = errno;
		rc = SECRETFILE_UNREADABLE;
		goto out;
	}
	if (len > SECRETFILE_MAX) {
		rc = SECRETFILE_TOO_LARGE;
		goto out;
	}
	rc = first_line(buf, len, &n);
	if (rc != SECRETFILE_OK)
		goto out;
	out->secret = malloc(n + 1);
	if (out->secret == NULL) {
		rc = SECRETFILE_NOMEM;
		goto out;
	}
	memcpy(out->secret, buf, n);
	out->secret[n] = '\0';
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int secretfile_exposed(mode_t mode)
{
	return (mode & (S_IRGRP | S_IROTH)) != 0;
}

void secretfile_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
