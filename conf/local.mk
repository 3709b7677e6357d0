# SPDX-License-Identifier: MIT
# conf/local.mk: the systemd unit and sysusers.d file `make install` puts in place, and their test.

# @bindir@ and @sysconfdir@ are only fully expanded at make time. Lines
# marked @notify@ are for an ope built with libsystemd, @nonotify@ without.
if HAVE_SYSTEMD
unit_notify = -e 's|^@notify[@]||' -e '/^@nonotify[@]/d'
else
unit_notify = -e '/^@notify[@]/d' -e 's|^@nonotify[@]||'
endif
edit_paths = sed -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' $(unit_notify)

conf/ope-component.service: $(srcdir)/conf/ope-component.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && $(edit_paths) \
		$(srcdir)/conf/ope-component.service.in >$@.tmp && mv $@.tmp $@

if INSTALL_UNIT
systemdsystemunit_DATA = conf/ope-component.service
endif
if INSTALL_SYSUSERS
# systemd-sysusers reads <package>.conf: install conf/ope.sysusers as ope.conf.
install-data-local: install-sysusers
uninstall-local: uninstall-sysusers
endif
install-sysusers:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)'
	$(INSTALL_DATA) $(srcdir)/conf/ope.sysusers '$(DESTDIR)$(sysusersdir)/ope.conf'
uninstall-sysusers:
	rm -f '$(DESTDIR)$(sysusersdir)/ope.conf'
.PHONY: install-sysusers uninstall-sysusers

CLEANFILES += conf/ope-component.service
EXTRA_DIST += conf/ope-component.service.in conf/ope.sysusers

# systemd-analyze verify and security on the unit as built here.
TESTS += tests/systemd/unit.test
dist_check_SCRIPTS += tests/systemd/unit.test
# Needs root, podman and an image the e2e tests build: tests/all.sh runs it.
EXTRA_DIST += tests/systemd/takeover-real.sh

# Debian packaging, in the release tarball so `dpkg-buildpackage` works from
# it; tests/deb/deb.sh builds, lints and installs the packages (tests/all.sh).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/ope-component.install \
	debian/ope-client.install debian/ope-component.postinst \
	debian/ope-component.postrm debian/ope-component.README.Debian \
	tests/deb/deb.sh
