/* SPDX-License-Identifier: MIT */
/* stanza.c: building replies and RFC 6120 stanza errors; cheap stanza measurements. */
#include <string.h>

#include "stanza.h"
#include "ns.h"
#include "util.h"

static const struct {
	const char *name;
	const char *type;
} conditions[] = {
	[STANZA_COND_NONE] = { "undefined-condition", "cancel" },
	[STANZA_COND_BAD_REQUEST] = { "bad-request", "modify" },
	[STANZA_COND_FEATURE_NOT_IMPLEMENTED] = { "feature-not-implemented", "cancel" },
	[STANZA_COND_INTERNAL_SERVER_ERROR] = { "internal-server-error", "cancel" },
	[STANZA_COND_ITEM_NOT_FOUND] = { "item-not-found", "cancel" },
	[STANZA_COND_NOT_ACCEPTABLE] = { "not-acceptable", "modify" },
	[STANZA_COND_POLICY_VIOLATION] = { "policy-violation", "modify" },
	[STANZA_COND_RESOURCE_CONSTRAINT] = { "resource-constraint", "wait" },
	[STANZA_COND_SERVICE_UNAVAILABLE] = { "service-unavailable", "cancel" },
	[STANZA_COND_FORBIDDEN] = { "forbidden", "auth" },
	[STANZA_COND_NOT_AUTHORIZED] = { "not-authorized", "auth" },
	/* RFC 6120 §8.3.3.12 allows wait: retrying later will work. */
	[STANZA_COND_RATE_LIMITED] = { "policy-violation", "wait" },
};

const char *stanza_cond_name(enum stanza_cond cond)
{
	return (unsigned)cond < ARRAY_SIZE(conditions) ?
	       conditions[cond].name : conditions[0].name;
}

const char *stanza_cond_type(enum stanza_cond cond)
{
	return (unsigned)cond < ARRAY_SIZE(conditions) ?
	       conditions[cond].type : conditions[0].type;
}

xmpp_stanza_t *stanza_element(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
	xmpp_stanza_t *s = xmpp_stanza_new(ctx);

	if (s == NULL)
		return NULL;
	if (xmpp_stanza_set_name(s, name) != XMPP_EOK ||
	    (ns != NULL && xmpp_stanza_set_ns(s, ns) != XMPP_EOK)) {
		xmpp_stanza_release(s);
		return NULL;
	}
	return s;
}

xmpp_stanza_t *stanza_add_element(xmpp_stanza_t *parent, const char *name,
				  const char *ns)
{
	xmpp_stanza_t *child = stanza_element(xmpp_stanza_get_context(parent),
					      name, ns);

	if (child == NULL)
		return NULL;
	if (xmpp_stanza_add_child_ex(parent, child, 0) != XMPP_EOK) {
		xmpp_stanza_release(child);
		return NULL;
	}
	return child;
}

int stanza_add_text(xmpp_stanza_t *parent, const char *text)
{
	xmpp_stanza_t *t = xmpp_stanza_new(xmpp_stanza_get_context(parent));

	if (t == NULL)
		return -1;
	if (xmpp_stanza_set_text(t, text) != XMPP_EOK ||
	    xmpp_stanza_add_child_ex(parent, t, 0) != XMPP_EOK) {
		xmpp_stanza_release(t);
		return -1;
	}
	return 0;
}

int stanza_add_text_element(xmpp_stanza_t *parent, const char *name,
			    const char *text)
{
	xmpp_stanza_t *el = stanza_add_element(parent, name, NULL);

	return el != NULL ? stanza_add_text(el, text) : -1;
}

xmpp_stanza_t *stanza_error_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *request,
				  const char *from, enum stanza_cond cond,
				  const char *text)
{
	const char *to = xmpp_stanza_get_from(request);
	const char *id = xmpp_stanza_get_id(request);
	xmpp_stanza_t *reply, *error, *child;

	if (to == NULL || from == NULL)
		return NULL;
	reply = stanza_element(ctx, xmpp_stanza_get_name(request), NULL);
	if (reply == NULL)
		return NULL;
	if (xmpp_stanza_set_type(reply, "error") != XMPP_EOK ||
	    (id != NULL && xmpp_stanza_set_id(reply, id) != XMPP_EOK) ||
	    xmpp_stanza_set_from(reply, from) != XMPP_EOK ||
	    xmpp_stanza_set_to(reply, to) != XMPP_EOK)
		goto oom;
	error = stanza_add_element(reply, "error", NULL);
	if (error == NULL ||
	    xmpp_stanza_set_type(error, stanza_cond_type(cond)) != XMPP_EOK)
		goto oom;
	if (stanza_add_element(error, stanza_cond_name(cond),
			       XMPP_NS_STANZAS_IETF) == NULL)
		goto oom;
	if (text != NULL) {
		child = stanza_add_element(error, "text", XMPP_NS_STANZAS_IETF);
		if (child == NULL || stanza_add_text(child, text) != 0)
			goto oom;
	}
	return reply;
oom:
	xmpp_stanza_release(reply);
	return NULL;
}

xmpp_stanza_t *stanza_iq_result(xmpp_ctx_t *ctx, const char *id,
				const char *from, const char *to,
				xmpp_stanza_t *payload)
{
	xmpp_stanza_t *iq = xmpp_iq_new(ctx, "result", id);

	if (iq == NULL)
		goto oom;
	if (xmpp_stanza_set_from(iq, from) != XMPP_EOK ||
	    xmpp_stanza_set_to(iq, to) != XMPP_EOK)
		goto oom;
	if (payload != NULL && xmpp_stanza_add_child_ex(iq, payload, 0) != XMPP_EOK)
		goto oom;
	return iq;
oom:
	if (iq != NULL)
		xmpp_stanza_release(iq);
	if (payload != NULL)
		xmpp_stanza_release(payload);
	return NULL;
}

/* Bytes of STANZA's own tags and attributes. Kept out of stanza_size() so the
 * recursion's frames stay small on deeply nested input. */
static __attribute__((noinline)) size_t element_own_size(xmpp_stanza_t *stanza)
{
	const char *name = xmpp_stanza_get_name(stanza);
	const char *ns = xmpp_stanza_get_ns(stanza);
	const char *attrs[2 * 32];
	size_t size;
	int n, i;

	/* "<name>" and "</name>" */
	size = 2 * (name ? strlen(name) : 0) + 5;
	n = xmpp_stanza_get_attribute_count(stanza);
	/* Most payload elements carry only their xmlns: skip the attribute
	 * iterator, which costs a malloc that libstrophe 0.12 doesn't check. */
	if (n == 0)
		return size;
	if (n == 1 && ns != NULL)
		return size + strlen(ns) + sizeof(" xmlns=\"\"") - 1;
	if (n > 32) {
		/* Each attribute beyond what we look at costs at least ' a=""'. */
		size += (size_t)(n - 32) * 5;
		n = 32;
	}
	n = xmpp_stanza_get_attributes(stanza, attrs, 2 * n);
	for (i = 0; i + 1 < n; i += 2)
		size += strlen(attrs[i]) + strlen(attrs[i + 1]) + 4;
	return size;
}

static size_t size_at(xmpp_stanza_t *stanza, size_t limit, unsigned depth)
{
	xmpp_stanza_t *child;
	size_t size;

	if (xmpp_stanza_is_text(stanza)) {
		const char *text = xmpp_stanza_get_text_ptr(stanza);

		return text ? strlen(text) : 0;
	}
	if (depth > STANZA_MAX_DEPTH)
		return limit + 1;
	size = element_own_size(stanza);
	for (child = xmpp_stanza_get_children(stanza); child && size <= limit;
	     child = xmpp_stanza_get_next(child))
		size += size_at(child, limit - size, depth + 1);
	return size;
}

size_t stanza_size(xmpp_stanza_t *stanza, size_t limit)
{
	return size_at(stanza, limit, 0);
}

size_t stanza_element_count(xmpp_stanza_t *stanza)
{
	xmpp_stanza_t *child;
	size_t n = 0;

	for (child = xmpp_stanza_get_children(stanza); child;
	     child = xmpp_stanza_get_next(child))
		n += xmpp_stanza_is_tag(child) ? 1 : 0;
	return n;
}

xmpp_stanza_t *stanza_first_element(xmpp_stanza_t *stanza)
{
	xmpp_stanza_t *child;

	for (child = xmpp_stanza_get_children(stanza); child;
	     child = xmpp_stanza_get_next(child))
		if (xmpp_stanza_is_tag(child))
			return child;
	return NULL;
}
