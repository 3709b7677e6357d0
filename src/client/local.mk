# SPDX-License-Identifier: MIT
# src/client/local.mk: ope-client, the bundled c2s client (being written).
