# SPDX-License-Identifier: MIT
# man/local.mk: the manual pages, the generator of their settings section, and their tests.
dist_man_MANS = man/ope-component.8 man/ope-component.conf.5 man/ope-client.1

# Prints the settings table of src/component/config_table.c (and the extensions' rows) as mdoc or Markdown.
noinst_PROGRAMS += man/settings-doc
man_settings_doc_CPPFLAGS = $(COMPONENT_CPPFLAGS)
man_settings_doc_SOURCES = man/settings-doc.c
man_settings_doc_LDADD = $(COMPONENT_LIBS)

# Rewrite the generated parts of ope-component.conf(5) and doc/configuration.md
# after changing a row of the settings table.
update-settings-doc: man/settings-doc$(EXEEXT)
	$(SHELL) $(srcdir)/man/settings-sync.sh update man/settings-doc$(EXEEXT) $(srcdir)
.PHONY: update-settings-doc

# mandoc -Tlint on every page; the committed settings parts against the table.
TESTS += tests/docs/man.test tests/docs/settings.test
dist_check_SCRIPTS += tests/docs/man.test tests/docs/settings.test
EXTRA_DIST += man/settings-sync.sh
