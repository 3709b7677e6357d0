/* SPDX-License-Identifier: MIT */
/* testutil.h: shared helpers for unit tests. */
#ifndef OPE_TESTUTIL_H
#define OPE_TESTUTIL_H
#endif
