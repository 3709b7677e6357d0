#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/listeners.sh: snapshot the TCP listeners, then fail on any new one beyond loopback (demo.sh and all.sh check what their commands left behind).
#
# Usage: listeners.sh snapshot FILE    the listening addresses now, into FILE
#        listeners.sh check FILE       exit 1 (listing them, with their
#                                      process where ss can tell) when a
#                                      listener not in FILE is bound to an
#                                      address other than loopback
# Needs ss (iproute2). A listener that was there before is not judged: the
# machine's own services are not ours to report.
set -eu

# One local address a line, e.g. 0.0.0.0:4369, [::]:4369, 127.0.0.1:5347.
addresses()
{
	ss -ltnH | awk '{ print $4 }' | sort -u
}

loopback()
{
	case $1 in
	127.* | "[::1]":* | "[::ffff:127."*) return 0 ;;
	*) return 1 ;;
	esac
}

case ${1:-} in
snapshot)
	[ $# = 2 ] || { echo "usage: $0 snapshot FILE" >&2; exit 64; }
	addresses >"$2"
	;;
check)
	[ $# = 2 ] || { echo "usage: $0 check FILE" >&2; exit 64; }
	bad=0
	while read -r addr; do
		grep -qxF -- "$addr" "$2" && continue
		loopback "$addr" && continue
		echo "listening on $addr, which was not before: $(ss -ltnpH "( sport = :${addr##*:} )" | awk '{ print $6 }' | sort -u | tr '\n' ' ')" >&2
		bad=1
	done < <(addresses)
	exit "$bad"
	;;
*)
	echo "usage: $0 snapshot FILE | check FILE" >&2
	exit 64
	;;
esac
