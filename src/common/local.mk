# SPDX-License-Identifier: MIT
# src/common/local.mk: libopecommon.a, what both programs use: logging, JIDs, UTF-8, stanza helpers,
# namespaces, secret files, small utilities.
noinst_LIBRARIES += src/common/libopecommon.a
src_common_libopecommon_a_SOURCES = \
	src/common/log.c src/common/log.h \
	src/common/ns.h \
	src/common/jid.c src/common/jid.h \
	src/common/utf8.c src/common/utf8.h \
	src/common/hash.c src/common/hash.h \
	src/common/secretfile.c src/common/secretfile.h \
	src/common/prompt.c src/common/prompt.h \
	src/common/hostport.c src/common/hostport.h \
	src/common/stanza.c src/common/stanza.h \
	src/common/strophe_compat.c src/common/strophe_compat.h \
	src/common/util.c src/common/util.h
