/* SPDX-License-Identifier: MIT */
/* config_loader.h: what the settings engine (config.c) shares with the settings table (config_table.c); not for other modules. */
#ifndef OPE_CONFIG_LOADER_H
#define OPE_CONFIG_LOADER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <libconfig.h>

#include "config.h"

/* State of one config_load() call; row hooks read the file through it. */
struct config_loader {
	const char *path;
	char *dir;                  /* PATH's directory, for relative paths */
	config_t lc;
	mode_t conf_mode;           /* the config file's permission bits */
	char *err;
	size_t errlen;
	char warning[2 * PATH_MAX + 200];
};

/* Where S was given, for messages: "FILE:LINE", or the variable's name,
 * into BUF (size LEN). */
void config_where(struct config_loader *ld, const config_setting_t *s,
		  char *buf, size_t len);

/* Queue a warning line; config_load() logs them only when the load
 * succeeds. One that does not fit is cut. */
void config_warn(struct config_loader *ld, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What S is, for type errors: "an integer", "a list ( ... )". */
const char *config_type_name(const config_setting_t *s);

/* Where ROW's value lives in CFG. */
void *config_field(const struct config_row *row, struct config *cfg);

/* config_table.c: the core rows, in documentation order (*N, static). */
const struct config_row *config_table_rows(size_t *n);

/* config_table.c: the checks that involve more than one row, after every
 * row was applied. Returns 0, or -1 after config_fail(). */
int config_table_check(struct config_loader *ld, struct config *cfg);

#endif
