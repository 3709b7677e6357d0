/* SPDX-License-Identifier: MIT */
/* ext_example.c: (stub, being written) */
#include "ext.h"
