/* SPDX-License-Identifier: MIT */
/* disco.c: XEP-0030 Service Discovery: identity, features; items only on the ad-hoc commands node. */
#include <string.h>

#include "config.h"
#include "ext.h"

static int info_handle(const struct ext_request *req, struct ext_reply *reply)
{
	const char *const *features;
	xmpp_stanza_t *query, *child;
	size_t n, i;

	/* Nodes are not served: the caller asked about something we lack. */
	if (xmpp_stanza_get_attribute(req->payload, "node") != NULL) {
		reply->cond = STANZA_COND_ITEM_NOT_FOUND;
		return 0;
	}
	query = stanza_element(req->ctx, "query", XMPP_NS_DISCO_INFO);
	if (query == NULL)
		return -1;
	child = stanza_add_element(query, "identity", NULL);
	if (child == NULL ||
	    xmpp_stanza_set_attribute(child, "category", "component") != XMPP_EOK ||
	    xmpp_stanza_set_attribute(child, "type", "generic") != XMPP_EOK ||
	    xmpp_stanza_set_attribute(child, "name", req->cfg->service_name) != XMPP_EOK)
		goto oom;
	features = ext_registry_features(&n);
	for (i = 0; i < n; i++) {
		child = stanza_add_element(query, "feature", NULL);
		if (child == NULL ||
		    xmpp_stanza_set_attribute(child, "var", features[i]) != XMPP_EOK)
			goto oom;
	}
	reply->payload = query;
	return 0;
oom:
	xmpp_stanza_release(query);
	return -1;
}

static int items_handle(const struct ext_request *req, struct ext_reply *reply)
{
	const char *node = xmpp_stanza_get_attribute(req->payload, "node");

	if (node != NULL && strcmp(node, NS_COMMANDS) == 0)
		return ext_commands_items(req, reply);
	if (node != NULL) {
		reply->cond = STANZA_COND_ITEM_NOT_FOUND;
		return 0;
	}
	reply->payload = stanza_element(req->ctx, "query", XMPP_NS_DISCO_ITEMS);
	return reply->payload != NULL ? 0 : -1;
}

const struct ext ext_disco_info = {
	.name = "query",
	.ns = XMPP_NS_DISCO_INFO,
	.feature = XMPP_NS_DISCO_INFO,
	.kinds = EXT_IQ_GET,
	.handle = info_handle,
};

const struct ext ext_disco_items = {
	.name = "query",
	.ns = XMPP_NS_DISCO_ITEMS,
	.feature = XMPP_NS_DISCO_ITEMS,
	.kinds = EXT_IQ_GET,
	.handle = items_handle,
};
