/* SPDX-License-Identifier: MIT */
/* example.c: the tutorial's example_tag extension, for messages and IQs. */
#include "ext.h"
#include "util.h"

/* The reply's text: the message's <body>, or the IQ payload's own text. */
static int example_text(const struct ext_request *req, xmpp_stanza_t *tag)
{
	xmpp_stanza_t *src, *child;

	if (req->kind == EXT_MESSAGE)
		src = xmpp_stanza_get_child_by_name(req->stanza, "body");
	else
		src = req->payload;
	if (src == NULL)
		return 0;
	/* Text nodes only; a payload's child elements are copied separately. */
	for (child = xmpp_stanza_get_children(src); child;
	     child = xmpp_stanza_get_next(child)) {
		const char *text;

		if (!xmpp_stanza_is_text(child))
			continue;
		text = xmpp_stanza_get_text_ptr(child);
		if (text != NULL && *text != '\0' && stanza_add_text(tag, text) != 0)
			return -1;
	}
	return 0;
}

static int example_handle(const struct ext_request *req, struct ext_reply *reply)
{
	/* Only these: the password attribute must never travel back. */
	static const char *const copied[] = { "another", "data" };
	xmpp_stanza_t *tag, *child;
	size_t i;

	tag = stanza_element(req->ctx, "example_tag", NS_EXAMPLE);
	if (tag == NULL)
		return -1;
	for (i = 0; i < ARRAY_SIZE(copied); i++) {
		const char *value = xmpp_stanza_get_attribute(req->payload, copied[i]);

		if (value != NULL &&
		    xmpp_stanza_set_attribute(tag, copied[i], value) != XMPP_EOK)
			goto oom;
	}
	if (example_text(req, tag) != 0)
		goto oom;
	/* The tutorial's add_field() sub-elements travel back unchanged. */
	for (child = xmpp_stanza_get_children(req->payload); child;
	     child = xmpp_stanza_get_next(child)) {
		xmpp_stanza_t *copy;

		if (!xmpp_stanza_is_tag(child))
			continue;
		copy = xmpp_stanza_copy(child);
		if (copy == NULL)
			goto oom;
		if (xmpp_stanza_add_child_ex(tag, copy, 0) != XMPP_EOK) {
			xmpp_stanza_release(copy);
			goto oom;
		}
	}
	reply->payload = tag;
	return 0;
oom:
	xmpp_stanza_release(tag);
	return -1;
}

const struct ext ext_example = {
	.name = "example_tag",
	.ns = NS_EXAMPLE,
	.feature = NS_EXAMPLE,
	.kinds = EXT_MESSAGE | EXT_IQ_GET | EXT_IQ_SET,
	.handle = example_handle,
	.guarded = 1,
};
