/* SPDX-License-Identifier: MIT */
/* prompt.c: ask on the terminal, read the answer from stdin, hidden when it is a password. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"

/* The terminal as it was while echo is off, for a signal that ends the
 * program meanwhile. */
static struct termios echo_saved;
static const int end_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_END_SIGNALS (sizeof(end_signals) / sizeof(end_signals[0]))

/* Ctrl-C at a hidden prompt: give the terminal its echo back, then end
 * as the signal would have (tcsetattr and raise are async-signal-safe). */
static void restore_and_raise(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int prompt_line(const char *prompt, int hidden, char **out)
{
	struct sigaction sa, old[N_END_SIGNALS];
	struct termios saved, quiet;
	size_t i;
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
		echo_saved = saved;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = restore_and_raise;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < N_END_SIGNALS; i++)
			sigaction(end_signals[i], &sa, &old[i]);
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		if (!echo_off)
			for (i = 0; i < N_END_SIGNALS; i++)
				sigaction(end_signals[i], &old[i], NULL);
	}
	errno = 0;
	n = getline(&line, &cap, stdin);
	eof = n < 0 && errno == 0;
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		for (i = 0; i < N_END_SIGNALS; i++)
			sigaction(end_signals[i], &old[i], NULL);
	}
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
