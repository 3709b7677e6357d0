/* SPDX-License-Identifier: MIT */
/* jid.h: pure helpers for JIDs and domain names (RFC 7622), no allocation. */
#ifndef OPE_JID_H
#define OPE_JID_H

#include <stddef.h>

/* Split JID into its parts without copying: *DOMAIN points into JID with
 * *DOMAIN_LEN bytes; *LOCAL (may be NULL) and *RESOURCE (may be NULL) the
 * same. Any out-pointer may be NULL. Returns 0, or -1 when JID is NULL,
 * empty or has an empty domain/local/resource part. */
int jid_split(const char *jid, const char **local, size_t *local_len,
	      const char **domain, size_t *domain_len,
	      const char **resource, size_t *resource_len);

/* 1 when JID's domain part equals DOMAIN (ASCII case-insensitive), e.g.
 * "x@ope.example.org/r" for "ope.example.org"; 0 otherwise or when either is
 * NULL or malformed. */
int jid_domain_is(const char *jid, const char *domain);

/* 1 when NAME is a usable DNS-style domain: 1..253 bytes, labels of 1..63
 * bytes of letters, digits, '-' or well-formed non-ASCII UTF-8, no
 * leading/trailing '-' in a label, no empty label (no leading, trailing or
 * double dot). IPv4 and bracketed IPv6 literals ("[::1]") count as valid.
 * Else 0. */
int jid_domain_valid(const char *name);

/* 1 when HOST is a valid connect target: a jid_domain_valid() name, an IPv4
 * dotted quad or an IPv6 literal (with or without brackets), without a
 * port or zone. Else 0. */
int jid_host_valid(const char *host);

#endif
