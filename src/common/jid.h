/* SPDX-License-Identifier: MIT */
/* jid.h: pure helpers for JIDs and domain names (RFC 7622): split, compare, check, and prepare as servers compare them. */
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

/* DOMAIN's parent ("ope.example.org" -> "example.org"), or DOMAIN itself
 * when it has a single label: the server a component domain belongs to.
 * Borrowed from DOMAIN. */
const char *jid_parent_domain(const char *domain);

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

/* The longest localpart, domainpart or resourcepart after preparation
 * (RFC 7622 3). */
#define JID_PART_MAX 1023

/* Prepare a JID as XMPP servers compare them (RFC 6122's stringprep
 * profiles through libidn, as Prosody does), into OUT (size OUTLEN,
 * NUL-terminated):
 *   the localpart through nodeprep ("\xc3\x89VE" -> "\xc3\xa9ve"),
 *   the domain through nameprep, as lower-case A-labels without a
 *   trailing dot ("B\xc3\x9cCHER.example." and "XN--BCHER-KVA.example"
 *   -> "xn--bcher-kva.example"),
 *   the resource through resourceprep, left out when BARE is non-zero.
 * All-ASCII parts take a fast path with the same result as libidn's.
 * Returns the length, or -1 when JID is malformed (jid_split()), a part
 * fails its profile, is empty or longer than JID_PART_MAX after it, a
 * domain label is empty or over 63 bytes, or the result does not fit. */
int jid_prep(const char *jid, int bare, char *out, size_t outlen);

/* The LEN bytes at LOCAL through nodeprep, into OUT (size OUTLEN,
 * NUL-terminated). Returns the length, or -1 as jid_prep(). */
int jid_nodeprep(const char *local, size_t len, char *out, size_t outlen);

/* The LEN bytes at DOMAIN through nameprep, as lower-case A-labels without
 * one trailing dot, into OUT (size OUTLEN, NUL-terminated). Returns the
 * length, or -1 as jid_prep(). */
int jid_nameprep(const char *domain, size_t len, char *out, size_t outlen);

/* The LEN bytes at RESOURCE through resourceprep, into OUT (size OUTLEN,
 * NUL-terminated). Returns the length, or -1 as jid_prep(). */
int jid_resourceprep(const char *resource, size_t len, char *out,
		     size_t outlen);

#endif
