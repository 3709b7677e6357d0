#!/bin/sh
# SPDX-License-Identifier: MIT
# Stands in for the unit tests when configure found no CUnit: fail loudly.
echo "unit tests not built: CUnit was not found by configure." >&2
echo "install it (Debian/Ubuntu: apt-get install libcunit1-dev) and re-run ./configure" >&2
exit 1
