/* SPDX-License-Identifier: MIT */
/* dispatch.c: (stub, being written) */
#include "dispatch.h"
