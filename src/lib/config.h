/* SPDX-License-Identifier: MIT */
/* config.h: ope-component's libconfig file: schema, defaults, validation. */
#ifndef OPE_CONFIG_H
#define OPE_CONFIG_H

#include <stddef.h>
#include "log.h"

/* Where ope-component looks when -c is not given. */
#define CONFIG_DEFAULT_PATH OPE_SYSCONFDIR "/ope/ope-component.conf"

/* The whole configuration. Strings are owned by the struct and freed by
 * config_free(). Durations are in milliseconds. */
struct config {
	char *path;                 /* the file it was read from */

	char *server_host;          /* server.host, default "127.0.0.1" */
	unsigned server_port;       /* server.port, default 5347 */

	char *domain;               /* component.domain, required */
	char *secret;               /* component.secret or the contents of
	                               component.secret_file (one of them is
	                               required; trailing newline stripped) */

	enum log_level log_level;   /* log.level, default info */
	int log_timestamps;         /* log.timestamps, default 1 */

	unsigned reconnect_initial_ms; /* reconnect.initial (s), default 1 s */
	unsigned reconnect_max_ms;     /* reconnect.maximum (s), default 60 s */

	char *service_name;         /* service.name: disco identity, "ope" */
	int service_show_os;        /* service.show_os: OS in jabber:iq:version, 1 */
	size_t max_payload;         /* service.max_payload bytes, default 65536 */
};

/* Fill CFG with defaults (no domain, no secret); CFG must be zeroed or
 * freed. Returns 0, or -1 when out of memory. */
int config_defaults(struct config *cfg);

/* Read, check and apply PATH over the defaults into CFG. On success returns
 * 0 and CFG owns its strings. On any error returns -1, leaves CFG freed
 * (zeroed) and writes "PATH:LINE: what is wrong" (or "PATH: ..." when no
 * line applies) into ERR (size ERRLEN). Warns through the log module when a
 * file holding the secret is readable by group or others. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Free what CFG owns and zero it. Safe on a zeroed struct. */
void config_free(struct config *cfg);

#endif
