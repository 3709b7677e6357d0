/* SPDX-License-Identifier: MIT */
/* hostport.c: split "host:port" text (IPv6 in brackets) and read a port number. */
#include <string.h>

#include "hostport.h"

int hostport_split(const char *text, const char **host, size_t *hostlen,
		   const char **port)
{
	const char *colon = strrchr(text, ':');

	*host = text;
	*hostlen = strlen(text);
	*port = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		*host = text + 1;
		*hostlen = (size_t)(close - *host);
		if (close[1] == ':')
			*port = close + 2;
	} else if (colon != NULL && strchr(text, ':') == colon) {
		*hostlen = (size_t)(colon - text);
		*port = colon + 1;
	}
	return 0;
}

unsigned hostport_port(const char *text)
{
	unsigned long p = 0;
	const char *c;

	if (*text == '\0')
		return 0;
	for (c = text; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return 0;
		p = p * 10 + (unsigned long)(*c - '0');
		if (p > 65535)
			return 0;
	}
	return (unsigned)p;
}
