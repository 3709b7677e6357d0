/* SPDX-License-Identifier: MIT */
/* ext.h: (stub, being written) */
#ifndef OPE_EXT_H
#define OPE_EXT_H
#endif
