/* SPDX-License-Identifier: MIT */
/* testutil_client.c: helpers shared by the unit tests of ope-client's modules. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "testutil_client.h"

int testutil_args(struct client_opts *o, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0, rc, i;
	const char *a;
	va_list ap;

	argv[argc++] = strdup("ope-client");
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	rc = client_opts_parse(o, argc, argv, err, errlen);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}
