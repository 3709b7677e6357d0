/* SPDX-License-Identifier: MIT */
/* conn.c: (stub, being written) */
#include "conn.h"
