/* SPDX-License-Identifier: MIT */
/* stanza.h: (stub, being written) */
#ifndef OPE_STANZA_H
#define OPE_STANZA_H
#endif
