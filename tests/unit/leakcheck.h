/* SPDX-License-Identifier: MIT */
/* leakcheck.h: heap leak detection for the unit runners (linked into each runner). */
#ifndef OPE_LEAKCHECK_H
#define OPE_LEAKCHECK_H

/* Heap blocks of the whole process live right now (malloc, calloc, realloc,
 * strdup...); -1 in the sanitizer build, where ASan owns malloc. */
long leakcheck_live(void);

/* Ask LeakSanitizer for unreachable blocks now: 1 if it found (and printed)
 * some, else 0. After the first finding it checks no more (the exit-time
 * report fails the program). Always 0 outside the sanitizer build. */
int leakcheck_unreachable(void);

#endif
