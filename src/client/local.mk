# SPDX-License-Identifier: MIT
# src/client/local.mk: ope-client, the bundled c2s client, and its library modules.
bin_PROGRAMS += ope-client
ope_client_SOURCES = src/client/main.c
libope_a_SOURCES += \
	src/lib/client_opts.c src/lib/client_opts.h \
	src/lib/client_creds.c src/lib/client_creds.h \
	src/lib/client_request.c src/lib/client_request.h \
	src/lib/client_check.c src/lib/client_check.h \
	src/lib/client_track.c src/lib/client_track.h \
	src/lib/client_stats.c src/lib/client_stats.h \
	src/lib/client_report.c src/lib/client_report.h \
	src/lib/client_session.c src/lib/client_session.h
