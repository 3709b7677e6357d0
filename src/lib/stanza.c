/* SPDX-License-Identifier: MIT */
/* stanza.c: (stub, being written) */
#include "stanza.h"
