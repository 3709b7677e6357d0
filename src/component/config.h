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

	char *server_host;          /* server.host, default "127.0.0.1"; an
	                               IPv6 literal without its brackets */
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

/* Read, check and apply PATH over the defaults into CFG (whose old contents
 * are overwritten, not freed). On success returns 0 and CFG owns its
 * strings; free with config_free(). On any error returns -1, leaves CFG
 * zeroed and writes "PATH:LINE: what is wrong" (or "PATH: ..." when no
 * line applies) into ERR (size ERRLEN). A relative secret_file or @include
 * is taken from PATH's directory. After a successful load, warns through
 * the log module when the file holding the secret is readable by group or
 * others. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Free what CFG owns and zero it. Safe on a zeroed struct. */
void config_free(struct config *cfg);

#endif
