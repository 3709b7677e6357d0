#!/bin/sh
# SPDX-License-Identifier: MIT
# man/settings-sync.sh: check or rewrite the generated settings parts of man/ope-component.conf.5 and doc/configuration.md.
#
# Usage: settings-sync.sh check|update SETTINGS_DOC SRCDIR
# SETTINGS_DOC is the built man/settings-doc, which prints the settings
# table of src/component/config_table.c (and the extensions' rows). The generated part of each file lies
# between a "BEGIN SETTINGS" and an "END SETTINGS" marker line. "check"
# prints a diff and exits 1 when a file differs from the table; "update"
# rewrites the part in place.
set -u
mode=$1
gen=$2
src=$3
status=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ope-settings.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# sync FILE FORMAT
sync_file()
{
	file=$1
	format=$2
	if ! "$gen" "$format" >"$tmp/part"; then
		echo "settings-sync: $gen $format failed" >&2
		status=1
		return
	fi
	if [ "$(grep -c 'BEGIN SETTINGS' "$file")" != 1 ] ||
	   [ "$(grep -c 'END SETTINGS' "$file")" != 1 ]; then
		echo "$file: needs exactly one BEGIN SETTINGS and one END SETTINGS marker line" >&2
		status=1
		return
	fi
	awk -v part="$tmp/part" '
		/END SETTINGS/ { skip = 0 }
		!skip { print }
		/BEGIN SETTINGS/ {
			while ((getline line < part) > 0) print line
			skip = 1
		}' "$file" >"$tmp/new"
	if cmp -s "$file" "$tmp/new"; then
		echo "ok - $file matches the settings table"
	elif [ "$mode" = update ]; then
		cat "$tmp/new" >"$file"
		echo "updated $file from the settings table"
	else
		echo "not ok - $file differs from the settings table in src/component/config_table.c; run 'make update-settings-doc' and commit:"
		diff -u "$file" "$tmp/new" | sed 's/^/    /'
		status=1
	fi
}

case $mode in
check|update) ;;
*) echo "usage: $0 check|update SETTINGS_DOC SRCDIR" >&2; exit 2 ;;
esac
sync_file "$src/man/ope-component.conf.5" man
sync_file "$src/doc/configuration.md" markdown
exit $status
