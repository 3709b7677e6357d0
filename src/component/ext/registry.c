/* SPDX-License-Identifier: MIT */
/* registry.c: the list of extensions ope ships and the disco features they bring. */
#include "ext.h"
#include "util.h"

/* Adding an extension is its file plus one line here. */
static const struct ext *const registry[] = {
	&ext_example,
	&ext_disco_info,
	&ext_disco_items,
	&ext_ping,
	&ext_version,
	&ext_time,
	&ext_commands,
};

/* The ad-hoc commands ext_commands serves: a file plus one line each. */
static const struct ext_command *const commands[] = {
	&ext_cmd_status,
	&ext_cmd_reload,
	&ext_cmd_restart,
	&ext_cmd_stop,
	&ext_cmd_who,
	&ext_cmd_forgive,
};

_Static_assert(ARRAY_SIZE(registry) <= EXT_REGISTRY_MAX,
	       "raise EXT_REGISTRY_MAX in ext.h");

const struct ext *const *ext_registry_list(size_t *count)
{
	*count = ARRAY_SIZE(registry);
	return registry;
}

const struct ext_command *const *ext_registry_commands(size_t *count)
{
	*count = ARRAY_SIZE(commands);
	return commands;
}

const char *const *ext_registry_features(size_t *count)
{
	/* Filled on first use from the constant table above. */
	static const char *features[ARRAY_SIZE(registry)];
	static size_t nfeatures;
	static int filled;
	size_t i;

	if (!filled) {
		for (i = 0; i < ARRAY_SIZE(registry); i++)
			if (registry[i]->feature != NULL)
				features[nfeatures++] = registry[i]->feature;
		filled = 1;
	}
	*count = nfeatures;
	return features;
}
