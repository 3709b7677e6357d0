/* SPDX-License-Identifier: MIT */
/* jid.c: (stub, being written) */
#include "jid.h"
