/* SPDX-License-Identifier: MIT */
/* prompt.c: ask on the terminal, read the answer from stdin, hidden when it is a password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"

int prompt_line(const char *prompt, int hidden, char **out)
{
	struct termios saved, quiet;
	int echo_off = 0, eof;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	*out = NULL;
	fputs(prompt, stderr);
	fflush(stderr);
	if (hidden && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	errno = 0;
	n = getline(&line, &cap, stdin);
	eof = n < 0 && errno == 0;
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (n < 0) {
		if (line != NULL)
			explicit_bzero(line, cap);
		free(line);
		return eof ? 1 : -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*out = line;
	return 0;
}
