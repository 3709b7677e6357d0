/* SPDX-License-Identifier: MIT */
/* utf8.h: strict UTF-8 sequence checks shared by validation and escaping. */
#ifndef OPE_UTF8_H
#define OPE_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence starting at S: 1 for an ASCII
 * byte, 2..4 for a multi-byte sequence (no overlongs, surrogates or code
 * points above U+10FFFF), 0 when S does not start one. S must be
 * NUL-terminated (the NUL ends any truncated sequence). */
size_t utf8_seq_len(const unsigned char *s);

#endif
