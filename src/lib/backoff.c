/* SPDX-License-Identifier: MIT */
/* backoff.c: (stub, being written) */
#include "backoff.h"
