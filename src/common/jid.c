/* SPDX-License-Identifier: MIT */
/* jid.c: split and compare JIDs, check domain names and connect hosts; no allocation. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "jid.h"
#include "utf8.h"

#define JID_DOMAIN_MAX 253
#define JID_LABEL_MAX 63

int jid_split(const char *jid, const char **local, size_t *local_len,
	      const char **domain, size_t *domain_len,
	      const char **resource, size_t *resource_len)
{
	const char *slash, *at, *dom, *end;
	size_t len;

	if (local)
		*local = NULL;
	if (local_len)
		*local_len = 0;
	if (domain)
		*domain = NULL;
	if (domain_len)
		*domain_len = 0;
	if (resource)
		*resource = NULL;
	if (resource_len)
		*resource_len = 0;
	if (jid == NULL || *jid == '\0')
		return -1;

	/* RFC 7622 3.1: the resource starts at the first '/', and only an
	 * '@' before it separates the localpart; the resource may hold both. */
	len = strlen(jid);
	slash = memchr(jid, '/', len);
	end = slash ? slash : jid + len;
	at = memchr(jid, '@', (size_t)(end - jid));
	dom = at ? at + 1 : jid;
	if (at && at == jid)
		return -1;
	if (dom == end)
		return -1;
	if (slash && slash[1] == '\0')
		return -1;

	if (at) {
		if (local)
			*local = jid;
		if (local_len)
			*local_len = (size_t)(at - jid);
	}
	if (domain)
		*domain = dom;
	if (domain_len)
		*domain_len = (size_t)(end - dom);
	if (slash) {
		if (resource)
			*resource = slash + 1;
		if (resource_len)
			*resource_len = len - (size_t)(slash + 1 - jid);
	}
	return 0;
}

int jid_domain_is(const char *jid, const char *domain)
{
	const char *dom;
	size_t dom_len;

	if (domain == NULL || *domain == '\0')
		return 0;
	if (jid_split(jid, NULL, NULL, &dom, &dom_len, NULL, NULL) < 0)
		return 0;
	return dom_len == strlen(domain) &&
	       strncasecmp(dom, domain, dom_len) == 0;
}


/* 1 when the LEN bytes at S, without brackets, are an IPv6 literal. */
static int is_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr addr;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &addr) == 1;
}

int jid_domain_valid(const char *name)
{
	const unsigned char *p;
	size_t len, label = 0;
	unsigned char prev = '.';

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len == 0 || len > JID_DOMAIN_MAX)
		return 0;
	/* RFC 7622 3.2: an IPv6 domainpart is bracketed. IPv4 literals pass
	 * the label rules below. */
	if (name[0] == '[')
		return name[len - 1] == ']' && is_ipv6(name + 1, len - 2);

	for (p = (const unsigned char *)name; *p; ) {
		if (*p == '.') {
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
			prev = *p++;
			continue;
		}
		if (*p >= 0x80) {
			size_t seq = utf8_seq_len(p);

			if (seq == 0)
				return 0;
			label += seq;
			p += seq;
			prev = 0x80;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9')) {
			label++;
			prev = *p++;
		} else if (*p == '-') {
			if (label == 0)
				return 0;
			label++;
			prev = *p++;
		} else {
			return 0;
		}
		if (label > JID_LABEL_MAX)
			return 0;
	}
	/* No trailing dot (empty last label) and no trailing '-'. */
	return label > 0 && prev != '-';
}

int jid_host_valid(const char *host)
{
	if (host == NULL || *host == '\0')
		return 0;
	if (jid_domain_valid(host))
		return 1;
	return is_ipv6(host, strlen(host));
}
