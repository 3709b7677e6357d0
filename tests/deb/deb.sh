#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/deb/deb.sh: build the Debian packages from the release tarball, run lintian, install them into a clean Debian root and check what they installed.
#
# Usage: tests/deb/deb.sh BUILDDIR     (a configured build tree, for `make dist`)
# Needs root (chroot), debhelper, lintian, debootstrap and a reachable apt
# mirror. The clean root is a debootstrap --variant=minbase of this machine's
# release, made once and cached as a tarball in $OPE_DEB_CACHE (default
# /var/cache/ope-tests); each run unpacks a fresh copy, lets apt-get resolve
# the packages' dependencies from the mirror like an operator's install
# would, and removes everything at the end (OPE_DEB_KEEP=1 keeps the
# packages, logs and root in /var/tmp/ope-deb.*). Prints "ok"/"not ok" lines,
# then "N passed, M failed"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: $0 BUILDDIR}
cache=${OPE_DEB_CACHE:-/var/cache/ope-tests}
passed=0
failed=0
tmp=
chroot_dir=
proc_mounted=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish()
{
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
cleanup()
{
	[ "$proc_mounted" = 1 ] && umount "$chroot_dir/proc" 2>/dev/null
	if [ -n "$tmp" ] && [ "${OPE_DEB_KEEP:-0}" = 1 ]; then
		echo "# kept $tmp (OPE_DEB_KEEP=1)"
	elif [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
	return 0
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		# Never prompt in CI.
		exec sudo ${CI:+-n} bash "$0" "$@"
	fi
	nok "needs root for the clean-root install (chroot): run as root or install sudo"
	finish
fi
for tool in dpkg-buildpackage lintian debootstrap; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		nok "$tool not found: run tests/deps.sh (debhelper, lintian, debootstrap)"
		finish
	fi
done
tmp=$(mktemp -d /var/tmp/ope-deb.XXXXXX) || exit 1

# 1. The release tarball, with debian/ in it, as a user would get it.
if ! make -C "$build" dist >"$tmp/dist.log" 2>&1; then
	tail -n 20 "$tmp/dist.log"
	nok "make dist in $build"
	finish
fi
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$build/Makefile")
tar -C "$tmp" -xzf "$build/ope-$version.tar.gz" || { nok "unpack ope-$version.tar.gz"; finish; }
src=$tmp/ope-$version
if [ ! -f "$src/debian/control" ]; then
	nok "debian/ is not in ope-$version.tar.gz (EXTRA_DIST)"
	finish
fi

# 2. dpkg-buildpackage (runs the unit, integration and doc tests).
start=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	tail -n 40 "$tmp/build.log"
	nok "dpkg-buildpackage -us -uc -b (log tail above)"
	finish
fi
changes=$(ls "$tmp"/ope_*.changes)
debs=$(ls "$tmp"/ope-component_*.deb "$tmp"/ope-client_*.deb 2>/dev/null)
if [ "$(echo "$debs" | wc -l)" = 2 ]; then
	ok "built $(cd "$tmp" && echo ope-component_*.deb ope-client_*.deb)"
else
	nok "expected ope-component and ope-client .debs, got: $debs"
	finish
fi

# 3. lintian: no errors (warnings are printed, not fatal).
if lintian --fail-on error --allow-root "$changes" >"$tmp/lintian.log" 2>&1; then
	ok "lintian: no errors ($(grep -c '^W:' "$tmp/lintian.log") warnings)"
else
	nok "lintian reports errors:"
fi
sed 's/^/    /' "$tmp/lintian.log"

# 4. A clean root: minbase of this release, cached.
. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}
# The mirror this machine's apt uses for its own release (not security, not
# a third-party repository).
apt_mirror()
{
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) ok = 1 }
			/^$/ { if (ok && uri !~ /security/) { print uri; exit } uri = ""; ok = 0 }
			END { if (ok && uri !~ /security/) print uri }' "$f" | head -n 1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '$1 == "deb" {
			for (i = 2; i < NF; i++)
				if ($i ~ /^[a-z]+:\/\// && $(i + 1) == c) print $i }' "$f"
	done
}
mirror=$(apt_mirror | grep -v security | head -n 1)
if [ -z "$mirror" ]; then
	nok "no apt mirror for $codename in /etc/apt/sources.list*"
	finish
fi
base=$cache/minbase-$codename.tar
if [ ! -s "$base" ]; then
	echo "# making the clean root once: debootstrap --variant=minbase $codename $mirror (cached in $base)"
	mkdir -p "$cache" "$tmp/base"
	if ! debootstrap --variant=minbase "$codename" "$tmp/base" "$mirror" \
		>"$tmp/debootstrap.log" 2>&1; then
		tail -n 20 "$tmp/debootstrap.log"
		nok "debootstrap --variant=minbase $codename $mirror"
		finish
	fi
	rm -rf "$tmp/base"/var/cache/apt/archives/*.deb
	tar -C "$tmp/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$tmp/base"
fi
chroot_dir=$tmp/root
mkdir -p "$chroot_dir"
tar -C "$chroot_dir" -xf "$base" || { nok "unpack $base"; finish; }
mount -t proc proc "$chroot_dir/proc" 2>/dev/null && proc_mounted=1
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null
cp $debs "$chroot_dir/tmp/"
in_root() { chroot "$chroot_dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

if in_root dpkg -s ope-component >/dev/null 2>&1 || in_root getent passwd ope >/dev/null; then
	nok "the clean root already has ope-component or an ope user"
	finish
fi
# apt resolves the dependencies from the mirror, as on an operator's machine.
if in_root sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/ope-component_*.deb /tmp/ope-client_*.deb' \
	>"$tmp/install.log" 2>&1; then
	ok "apt-get install of both packages into a clean $codename minbase root"
else
	tail -n 30 "$tmp/install.log"
	nok "apt-get install into the clean root (log tail above)"
	finish
fi

# 5. What the packages installed.
check_file()
{
	if [ -e "$chroot_dir$1" ]; then ok "installed $1"; else nok "missing $1"; fi
}
for f in /usr/bin/ope-component /usr/bin/ope-client \
	/usr/share/man/man8/ope-component.8.gz /usr/share/man/man5/ope-component.conf.5.gz \
	/usr/share/man/man1/ope-client.1.gz /lib/systemd/system/ope-component.service \
	/etc/ope/ope-component.conf /usr/share/doc/ope-component/examples/prosody-component.cfg.lua; do
	check_file "$f"
done
if in_root dpkg-query -W -f '${Conffiles}\n' ope-component | grep -q '^ /etc/ope/ope-component.conf '; then
	ok "/etc/ope/ope-component.conf is a conffile"
else
	nok "/etc/ope/ope-component.conf is not a conffile"
fi
if uid=$(in_root getent passwd ope) && [ "$(echo "$uid" | cut -d: -f3)" -lt 1000 ]; then
	ok "system user ope exists ($uid)"
else
	nok "no system user ope (got '$uid')"
fi
mode=$(in_root stat -c '%U:%G %a' /etc/ope/ope-component.conf)
if [ "$mode" = "ope:ope 600" ]; then
	ok "/etc/ope/ope-component.conf is ope:ope 600"
else
	nok "/etc/ope/ope-component.conf is $mode, expected ope:ope 600"
fi
# The sample's public placeholder secret is refused until the operator sets
# a real one; then the sample passes without a warning.
if out=$(in_root runuser -u ope -- ope-component -c /etc/ope/ope-component.conf --check-config 2>&1); then
	nok "as user ope: --check-config accepted the installed sample's placeholder secret: $out"
elif printf '%s' "$out" | grep -q 'ope-component.conf:[0-9]*: component.secret holds the placeholder'; then
	ok "as user ope: --check-config refuses the installed sample's placeholder secret"
else
	nok "as user ope: --check-config on the installed sample: $out"
fi
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
in_root sed -i "s/\"change-this-secret\"/\"$secret\"/" /etc/ope/ope-component.conf
if out=$(in_root runuser -u ope -- ope-component -c /etc/ope/ope-component.conf --check-config 2>&1) &&
   ! printf '%s' "$out" | grep -qi warn; then
	ok "as user ope: ope-component --check-config on the installed sample with its secret set: $out"
else
	nok "as user ope: ope-component --check-config on the installed sample with its secret set: $out"
fi
if out=$(in_root ope-client --version 2>&1); then
	ok "ope-client runs: $out"
else
	nok "ope-client --version: $out"
fi
wants=$chroot_dir/etc/systemd/system/multi-user.target.wants/ope-component.service
if [ ! -e "$wants" ] && [ ! -L "$wants" ]; then
	ok "the unit is not enabled before the operator configured it"
else
	nok "the unit is enabled at install: it would start with the placeholder configuration"
fi
# The installed unit is the one tests/systemd/unit.test verifies, filled in
# for /usr and /etc and for an ope built with libsystemd.
unit=$chroot_dir/lib/systemd/system/ope-component.service
for want in 'Type=notify' 'WatchdogSec=30s' 'User=ope' \
	'ExecStart=/usr/bin/ope-component -c /etc/ope/ope-component.conf' \
	'ConditionPathExists=/etc/ope/ope-component.conf'; do
	if grep -qxF -e "$want" "$unit"; then
		ok "the installed unit has $want"
	else
		nok "the installed unit lacks $want"
	fi
done
# ExecReload= runs kill(1), which a minimal root lacks without procps.
if in_root sh -c 'test -x /bin/kill || test -x /usr/bin/kill'; then
	ok "kill(1) for ExecReload= is installed"
else
	nok "no /bin/kill for ExecReload=kill -HUP \$MAINPID (Depends: procps)"
fi
if in_root sh -c 'ldd /usr/bin/ope-component' | grep -q libsystemd; then
	ok "ope-component is linked with libsystemd (sd_notify)"
else
	nok "ope-component is not linked with libsystemd: Type=notify would time out"
fi

# 6. Purge leaves nothing behind in /etc.
if in_root dpkg --purge ope-component ope-client >"$tmp/purge.log" 2>&1 &&
   [ ! -e "$chroot_dir/etc/ope" ] &&
   ! in_root dpkg-statoverride --list /etc/ope/ope-component.conf >/dev/null 2>&1; then
	ok "dpkg --purge removes /etc/ope and the permission override"
else
	cat "$tmp/purge.log"
	nok "dpkg --purge left /etc/ope or the override behind"
fi
finish
