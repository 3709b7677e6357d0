# SPDX-License-Identifier: MIT
# tests/e2e/local.mk: end-to-end tests through real Prosody and ejabberd (being written).
