# SPDX-License-Identifier: MIT
# src/client/local.mk: ope-client, the bundled c2s client, and libopeclient.a (everything but its main()).
CLIENT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/client
CLIENT_LIBS = src/client/libopeclient.a src/common/libopecommon.a \
	$(STROPHE_LIBS) $(OPENSSL_LIBS) $(IDN_LIBS)

noinst_LIBRARIES += src/client/libopeclient.a
src_client_libopeclient_a_CPPFLAGS = $(CLIENT_CPPFLAGS)
src_client_libopeclient_a_SOURCES = \
	src/client/client_exit.h \
	src/client/opts.c src/client/opts.h \
	src/client/creds.c src/client/creds.h \
	src/client/request.c src/client/request.h \
	src/client/check.c src/client/check.h \
	src/client/track.c src/client/track.h \
	src/client/stats.c src/client/stats.h \
	src/client/report.c src/client/report.h \
	src/client/session.c src/client/session.h

bin_PROGRAMS += ope-client
ope_client_CPPFLAGS = $(CLIENT_CPPFLAGS)
ope_client_SOURCES = src/client/main.c
ope_client_LDADD = $(CLIENT_LIBS)
