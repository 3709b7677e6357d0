/* SPDX-License-Identifier: MIT */
/* config.c: (stub, being written) */
#include "config.h"
