/* SPDX-License-Identifier: MIT */
/* main.c: ope-client, the bundled command-line XMPP client that drives ope-component. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "build_config.h"
#include "client_exit.h"
#include "creds.h"
#include "opts.h"
#include "session.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct client_opts o;
	char err[512];
	int rc;

	log_init("ope-client", LOG_LEVEL_WARNING, stderr);
	log_set_timestamps(0);
	rc = client_opts_parse(&o, argc, argv, err, sizeof(err));
	/* Before anything else, even on a usage error: ps shows argv. */
	client_opts_scrub_password(argc, argv);
	switch (rc) {
	case CLIENT_OPTS_HELP:
		client_opts_usage(stdout, "ope-client");
		client_opts_free(&o);
		return CLIENT_EXIT_OK;
	case CLIENT_OPTS_VERSION:
		printf("ope-client %s\n", PACKAGE_VERSION);
		client_opts_free(&o);
		return CLIENT_EXIT_OK;
	case CLIENT_OPTS_RUN:
		break;
	default:
		fprintf(stderr, "ope-client: %s\nTry 'ope-client --help'.\n", err);
		client_opts_free(&o);
		return CLIENT_EXIT_USAGE;
	}
	if (client_creds_resolve(&o, getenv("OPE_PASSWORD"), isatty(STDIN_FILENO),
				 err, sizeof(err)) < 0) {
		fprintf(stderr, "ope-client: %s\n", err);
		client_opts_free(&o);
		return CLIENT_EXIT_USAGE;
	}
	if (client_creds_service(&o, getenv("OPE_SERVICE_PASSWORD"), err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "ope-client: %s\n", err);
		client_opts_free(&o);
		return CLIENT_EXIT_USAGE;
	}
	/* Child processes (none today) shouldn't inherit them. */
	unsetenv("OPE_PASSWORD");
	unsetenv("OPE_SERVICE_PASSWORD");
	if (o.debug) {
		log_set_level(LOG_LEVEL_DEBUG);
		log_set_timestamps(1);
	}
	if (client_session_signals() < 0) {
		perror("ope-client: sigaction");
		client_opts_free(&o);
		return CLIENT_EXIT_FAIL;
	}
	rc = client_session_run(&o);
	client_opts_free(&o);
	return rc;
}
