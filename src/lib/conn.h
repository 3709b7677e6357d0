/* SPDX-License-Identifier: MIT */
/* conn.h: (stub, being written) */
#ifndef OPE_CONN_H
#define OPE_CONN_H
#endif
