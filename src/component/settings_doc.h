/* SPDX-License-Identifier: MIT */
/* settings_doc.h: the settings table as documentation: ope-component.conf(5)'s settings section (mdoc) or doc/configuration.md's Markdown table. */
#ifndef OPE_SETTINGS_DOC_H
#define OPE_SETTINGS_DOC_H

#include <stdio.h>

enum settings_doc_format {
	SETTINGS_DOC_MAN,       /* mdoc lines for ope-component.conf(5) */
	SETTINGS_DOC_MARKDOWN,  /* a Markdown table for doc/configuration.md */
};

/* Write every row of config_rows(), in table order, to OUT in FORMAT.
 * Returns 0, or -1 when writing failed. */
int settings_doc_write(FILE *out, enum settings_doc_format format);

#endif
