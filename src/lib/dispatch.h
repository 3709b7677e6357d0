/* SPDX-License-Identifier: MIT */
/* dispatch.h: (stub, being written) */
#ifndef OPE_DISPATCH_H
#define OPE_DISPATCH_H
#endif
