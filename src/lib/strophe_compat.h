/* SPDX-License-Identifier: MIT */
/* strophe_compat.h: (stub, being written) */
#ifndef OPE_STROPHE_COMPAT_H
#define OPE_STROPHE_COMPAT_H
#endif
