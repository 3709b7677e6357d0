# SPDX-License-Identifier: MIT
# tests/integration/local.mk: ope-component against a fake XEP-0114 server (being written).
