/* SPDX-License-Identifier: MIT */
/* client_exit.h: ope-client's exit-code contract (also in --help and doc/exit-codes.md). */
#ifndef OPE_CLIENT_EXIT_H
#define OPE_CLIENT_EXIT_H

/* Exit statuses of ope-client. */
enum client_exit {
	CLIENT_EXIT_OK = 0,		/* every reply matched */
	CLIENT_EXIT_FAIL = 1,		/* mismatch or error reply */
	CLIENT_EXIT_TIMEOUT = 2,	/* no reply within --timeout */
	CLIENT_EXIT_CONNECT = 3,	/* cannot connect, TLS or log in */
	CLIENT_EXIT_USAGE = 64,		/* bad command line, no credentials */
	CLIENT_EXIT_INTERRUPTED = 130,	/* SIGINT or SIGTERM */
};

#endif
