/* SPDX-License-Identifier: MIT */
/* strophe_compat.c: (stub, being written) */
#include "strophe_compat.h"
