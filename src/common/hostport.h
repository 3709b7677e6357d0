/* SPDX-License-Identifier: MIT */
/* hostport.h: split "host:port" text (IPv6 in brackets) and read a port number. */
#ifndef OPE_HOSTPORT_H
#define OPE_HOSTPORT_H

#include <stddef.h>

/* Split TEXT: "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6
 * address (two colons or more, no brackets: all host, no port). *HOST and
 * *HOSTLEN get the host inside TEXT without brackets, *PORT the text after
 * the port's colon or NULL when there is none. Returns 0, or -1 when a '['
 * is not closed or its ']' is followed by anything but ":". */
int hostport_split(const char *text, const char **host, size_t *hostlen,
		   const char **port);

/* TEXT as a port: decimal digits only, 1 to 65535. Returns it, or 0 when
 * TEXT is anything else. */
unsigned hostport_port(const char *text);

#endif
