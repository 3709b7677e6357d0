/* SPDX-License-Identifier: MIT */
/* settings-doc.c: print the settings table as ope-component.conf(5)'s section (man) or doc/configuration.md's table (markdown). */
#include <stdio.h>
#include <string.h>

#include "settings_doc.h"

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "man") == 0)
		return settings_doc_write(stdout, SETTINGS_DOC_MAN) == 0 ? 0 : 1;
	if (argc == 2 && strcmp(argv[1], "markdown") == 0)
		return settings_doc_write(stdout, SETTINGS_DOC_MARKDOWN) == 0 ? 0 : 1;
	fprintf(stderr, "usage: %s man|markdown\n", argv[0]);
	return 2;
}
