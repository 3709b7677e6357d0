/* SPDX-License-Identifier: MIT */
/* ns.h: the XML namespaces ope speaks, each spelled once; libstrophe's XMPP_NS_* where it has one. */
#ifndef OPE_NS_H
#define OPE_NS_H

/* From <strophe.h>, used as they are: XMPP_NS_DISCO_INFO, XMPP_NS_DISCO_ITEMS,
 * XMPP_NS_ROSTER, XMPP_NS_SASL, XMPP_NS_STANZAS_IETF (stanza errors),
 * XMPP_NS_STREAMS (the stream:stream element) and XMPP_NS_STREAMS_IETF
 * (stream errors). */
#include <strophe.h>

/* The tutorial's example_tag. */
#define NS_EXAMPLE "https://example.net/our_extension"
/* XEP-0199 XMPP Ping. */
#define NS_PING "urn:xmpp:ping"
/* XEP-0092 Software Version. */
#define NS_VERSION "jabber:iq:version"
/* XEP-0202 Entity Time. */
#define NS_TIME "urn:xmpp:time"
/* XEP-0050 Ad-Hoc Commands, and XEP-0004 Data Forms they carry. */
#define NS_COMMANDS "http://jabber.org/protocol/commands"
#define NS_DATA "jabber:x:data"

#endif
