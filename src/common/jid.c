/* SPDX-License-Identifier: MIT */
/* jid.c: split, compare and prepare JIDs (stringprep through libidn), check domain names and connect hosts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn-free.h>
#include <idna.h>
#include <stringprep.h>

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

const char *jid_parent_domain(const char *domain)
{
	const char *dot = strchr(domain, '.');

	return dot != NULL && dot[1] != '\0' ? dot + 1 : domain;
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

/* Bytes a prepared part may take before libidn's output is checked:
 * mappings such as U+00DF -> "ss" can make it longer than its input. */
#define JID_PREP_BUF (4 * JID_PART_MAX + 4)

static int all_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* Copy the LEN prepared bytes at S into OUT (size OUTLEN) with a NUL;
 * -1 when empty, over JID_PART_MAX or too big for OUT. */
static int put_part(const char *s, size_t len, char *out, size_t outlen)
{
	if (len == 0 || len > JID_PART_MAX || len + 1 > outlen)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return (int)len;
}

/* Run libidn's stringprep PROFILE over the LEN bytes at IN into OUT. Unassigned
 * code points are allowed, as in stringprep_xmpp_nodeprep() and Prosody. */
static int prep_profile(const char *in, size_t len,
			const Stringprep_profile *profile, char *out,
			size_t outlen)
{
	char buf[JID_PREP_BUF];

	if (len >= sizeof(buf) || memchr(in, '\0', len) != NULL)
		return -1;
	memcpy(buf, in, len);
	buf[len] = '\0';
	if (stringprep(buf, sizeof(buf), 0, profile) != STRINGPREP_OK)
		return -1;
	return put_part(buf, strlen(buf), out, outlen);
}

int jid_nodeprep(const char *local, size_t len, char *out, size_t outlen)
{
	size_t i;

	if (!all_ascii(local, len))
		return prep_profile(local, len, stringprep_xmpp_nodeprep, out,
				    outlen);
	/* ASCII in nodeprep: case folding maps A-Z and nothing else, and the
	 * prohibited characters are the controls, space, DEL and RFC 6122's
	 * " & ' / : < > @ (test_jid.c checks all 127 against libidn). */
	if (len == 0 || len > JID_PART_MAX || len + 1 > outlen)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c <= 0x20 || c == 0x7f || c == '"' || c == '&' ||
		    c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' ||
		    c == '@')
			return -1;
		out[i] = ascii_lower((char)c);
	}
	out[len] = '\0';
	return (int)len;
}

int jid_resourceprep(const char *resource, size_t len, char *out,
		     size_t outlen)
{
	size_t i;

	if (!all_ascii(resource, len))
		return prep_profile(resource, len, stringprep_xmpp_resourceprep,
				    out, outlen);
	/* ASCII in resourceprep: no mapping; controls and DEL prohibited. */
	for (i = 0; i < len; i++)
		if ((unsigned char)resource[i] < 0x20 || resource[i] == 0x7f)
			return -1;
	return put_part(resource, len, out, outlen);
}

/* 1 when a label of the LEN bytes at S starts with the ACE prefix "xn--". */
static int has_ace_label(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if ((i == 0 || s[i - 1] == '.') && strncasecmp(s + i, "xn--", 4) == 0)
			return 1;
	return 0;
}

/* 1 when every dot-separated label of S (LEN bytes) has 1..63 bytes. */
static int labels_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '.') {
			if (++label > JID_LABEL_MAX)
				return 0;
		} else if (label == 0) {
			return 0;
		} else {
			label = 0;
		}
	}
	return label > 0;
}

/* The IDNA slow path: A-labels are decoded (ToUnicode), so both spellings
 * of a name meet, then everything is nameprepped and encoded again
 * (ToASCII), and lower-cased as ToASCII leaves ASCII labels as they were.
 * The result lands in the JID_PREP_BUF bytes at OUT. */
static int nameprep_idna(const char *domain, size_t len, char *out)
{
	char in[JID_PREP_BUF], *u = NULL, *a = NULL;
	size_t i, n;
	int ret = -1;

	if (len >= sizeof(in) || memchr(domain, '\0', len) != NULL)
		return -1;
	memcpy(in, domain, len);
	in[len] = '\0';
	if (idna_to_unicode_8z8z(in, &u, IDNA_ALLOW_UNASSIGNED) != IDNA_SUCCESS ||
	    idna_to_ascii_8z(u, &a, IDNA_ALLOW_UNASSIGNED) != IDNA_SUCCESS)
		goto out;
	n = strlen(a);
	if (n >= JID_PREP_BUF)
		goto out;
	for (i = 0; i <= n; i++)
		out[i] = ascii_lower(a[i]);
	ret = (int)n;
out:
	idn_free(u);
	idn_free(a);
	return ret;
}

int jid_nameprep(const char *domain, size_t len, char *out, size_t outlen)
{
	char buf[JID_PREP_BUF];
	size_t i;
	int n;

	if (len > 1 && domain[len - 1] == '.')
		len--;
	if (all_ascii(domain, len) && !has_ace_label(domain, len)) {
		/* ASCII in nameprep is case folding of A-Z only (nothing ASCII
		 * is prohibited), and ToUnicode and ToASCII leave labels
		 * without "xn--" as they are: the same as the slow path. */
		if (len >= sizeof(buf))
			return -1;
		for (i = 0; i < len; i++)
			buf[i] = ascii_lower(domain[i]);
		n = (int)len;
	} else if ((n = nameprep_idna(domain, len, buf)) < 0) {
		return -1;
	}
	if (!labels_ok(buf, (size_t)n))
		return -1;
	return put_part(buf, (size_t)n, out, outlen);
}

int jid_prep(const char *jid, int bare, char *out, size_t outlen)
{
	const char *local, *domain, *resource;
	size_t llen, dlen, rlen, o = 0;
	int n;

	if (jid_split(jid, &local, &llen, &domain, &dlen, &resource, &rlen) != 0)
		return -1;
	if (local != NULL) {
		if ((n = jid_nodeprep(local, llen, out, outlen)) < 0 ||
		    (size_t)n + 1 >= outlen)
			return -1;
		o = (size_t)n;
		out[o++] = '@';
	}
	if ((n = jid_nameprep(domain, dlen, out + o, outlen - o)) < 0)
		return -1;
	o += (size_t)n;
	if (!bare && resource != NULL) {
		if (o + 1 >= outlen)
			return -1;
		out[o++] = '/';
		if ((n = jid_resourceprep(resource, rlen, out + o, outlen - o)) < 0)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}
