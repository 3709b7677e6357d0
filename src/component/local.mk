# SPDX-License-Identifier: MIT
# src/component/local.mk: ope-component, the daemon, and libopecomponent.a (everything but its main()).
COMPONENT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/component \
	-I$(top_srcdir)/src/component/ext
COMPONENT_LIBS = src/component/libopecomponent.a src/common/libopecommon.a \
	$(STROPHE_LIBS) $(LIBCONFIG_LIBS) $(OPENSSL_LIBS) $(EXPAT_LIBS) $(MHD_LIBS) \
	$(LIBCRYPT_LIBS) $(SYSTEMD_LIBS) $(IDN_LIBS)

noinst_LIBRARIES += src/component/libopecomponent.a
src_component_libopecomponent_a_CPPFLAGS = $(COMPONENT_CPPFLAGS) $(EXPAT_CFLAGS)
src_component_libopecomponent_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
src_component_libopecomponent_a_SOURCES = \
	src/component/component_exit.h \
	src/component/config.c src/component/config.h \
	src/component/config_table.c src/component/config_loader.h \
	src/component/backoff.c src/component/backoff.h \
	src/component/access.c src/component/access.h \
	src/component/ratelimit.c src/component/ratelimit.h \
	src/component/pwcheck.c src/component/pwcheck.h \
	src/component/workpool.c src/component/workpool.h \
	src/component/guard.c src/component/guard.h \
	src/component/presence.c src/component/presence.h \
	src/component/dispatch.c src/component/dispatch.h \
	src/component/xmlstream.c src/component/xmlstream.h \
	src/component/tls.c src/component/tls.h \
	src/component/loop.c src/component/loop.h \
	src/component/link.c src/component/link.h \
	src/component/link_int.h src/component/link_handover.c \
	src/component/obuf.c src/component/obuf.h \
	src/component/xmlwrite.c src/component/xmlwrite.h \
	src/component/resolve.c src/component/resolve.h \
	src/component/metrics.c src/component/metrics.h \
	src/component/link_state.h \
	src/component/notify.c src/component/notify.h \
	src/component/journal.c src/component/journal.h \
	src/component/settings_doc.c src/component/settings_doc.h \
	src/component/handover.c src/component/handover.h \
	src/component/takeover.c src/component/takeover.h \
	src/component/drain.c src/component/drain.h \
	src/component/pool.c src/component/pool.h \
	src/component/ext/ext.h \
	src/component/ext/registry.c \
	src/component/ext/example.c \
	src/component/ext/disco.c \
	src/component/ext/ping.c \
	src/component/ext/version.c \
	src/component/ext/time.c \
	src/component/ext/commands.c \
	src/component/ext/cmd_status.c \
	src/component/ext/cmd_reload.c \
	src/component/ext/cmd_restart.c \
	src/component/ext/cmd_stop.c \
	src/component/ext/cmd_who.c \
	src/component/ext/cmd_forgive.c

bin_PROGRAMS += ope-component
ope_component_CPPFLAGS = $(COMPONENT_CPPFLAGS)
ope_component_SOURCES = src/component/main.c
ope_component_LDADD = $(COMPONENT_LIBS)
