/* SPDX-License-Identifier: MIT */
/* testutil.c: shared helpers for unit tests. */
#include "testutil.h"
