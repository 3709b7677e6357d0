/* SPDX-License-Identifier: MIT */
/* prompt.h: ask on the terminal, read the answer from stdin, hidden when it is a password. */
#ifndef OPE_PROMPT_H
#define OPE_PROMPT_H

/* Write PROMPT to stderr and read one line of stdin into a new string
 * (*OUT, line end removed; the caller frees it with secretfile_free(),
 * which wipes it). With HIDDEN and stdin a terminal, the terminal does not
 * echo the answer (only its newline). Returns 0 on a line (possibly
 * empty), 1 at end of input before any byte, -1 on a read error or out of
 * memory; *OUT is NULL unless 0. */
int prompt_line(const char *prompt, int hidden, char **out);

#endif
