/* SPDX-License-Identifier: MIT */
/* component_exit.h: ope-component's exit-code contract (also in --help and doc/exit-codes.md). */
#ifndef OPE_COMPONENT_EXIT_H
#define OPE_COMPONENT_EXIT_H

/* Exit statuses of ope-component. */
enum component_exit {
	COMPONENT_EXIT_OK = 0,        /* stopped on request */
	COMPONENT_EXIT_INTERNAL = 1,  /* out of memory, library failure */
	COMPONENT_EXIT_CONFIG = 2,    /* usage or configuration error */
	COMPONENT_EXIT_REFUSED = 3,   /* the server refused us for good */
	COMPONENT_EXIT_TAKEOVER = 4,  /* --takeover: the link was not taken
				       * over (the old process serves on) */
};

#endif
