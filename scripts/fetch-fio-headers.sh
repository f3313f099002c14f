#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetch the Debian source package of the installed fio into a cache
# directory, unpack it (Debian patches applied) and run its ./configure,
# so that the fio ioengine in fio-plugins/ can be built against exactly
# the headers and config-host.h of the fio on this machine.  Nothing of
# fio is ever copied into this repository.
#
#   scripts/fetch-fio-headers.sh [--dir DIR]
#
# DIR defaults to build/fio-src of this repository.  On success the last
# line on stdout is the configured source tree (DIR/fio-VERSION); a tree
# already there for the same version is reused without any network access.
#
# Debian source entries (deb-src) are derived from the system's own Debian
# sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list and
# *.sources) into DIR/apt; apt-get runs with private source lists, package
# lists and cache, so the system's apt configuration is never touched.
# Needs fio, apt-get and dpkg-source (package dpkg-dev).
set -euo pipefail

prog=fetch-fio-headers.sh
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$src/build/fio-src

die()
{
	echo "$prog: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir=${2:?--dir needs a value}; shift 2 ;;
	-h|--help) sed -n '3,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see '$prog --help')" ;;
	esac
done

for cmd in fio dpkg-query apt-get dpkg-source flock; do
	command -v "$cmd" >/dev/null ||
		die "'$cmd' is missing (run scripts/install-deps.sh)"
done

# --- which fio ------------------------------------------------------------

pkg_ver=$(dpkg-query -W -f='${source:Version}' fio 2>/dev/null) ||
	die "fio is not installed as a Debian package (apt-get install fio)"
pkg_src=$(dpkg-query -W -f='${source:Package}' fio)
upstream=${pkg_ver#*:}		# drop an epoch
upstream=${upstream%-*}		# drop the Debian revision
fio_ver=$(fio --version 2>/dev/null | head -n 1) || true
[ "$fio_ver" = "fio-$upstream" ] ||
	die "'fio --version' says '$fio_ver' but the installed package $pkg_src is $pkg_ver (fio-$upstream): the engine must be built for the fio that runs it; is another fio first in PATH ($(command -v fio))?"

tree=$dir/fio-$pkg_ver
stamp=$tree/.basalt-fio-headers

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tree=$dir/fio-$pkg_ver
stamp=$tree/.basalt-fio-headers

# One fetch at a time per cache directory (parallel builds share it).
exec {lock_fd}>"$dir/.lock"
flock -w 600 "$lock_fd" || die "timed out waiting for the lock on $dir/.lock"

if [ -f "$stamp" ] && [ "$(<"$stamp")" = "$pkg_src $pkg_ver" ] &&
	[ -f "$tree/config-host.h" ] && [ -f "$tree/ioengines.h" ]; then
	echo "$tree"
	exit 0
fi

# --- private apt configuration ----------------------------------------------

apt_dir=$dir/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" \
	"$apt_dir/cache/archives/partial"
: >"$apt_dir/sources.list"

# One-line format: "deb [opts] URI SUITE COMPONENTS" -> "deb-src ...".
derive_list()
{
	sed -n -E 's/^[[:space:]]*deb[[:space:]]+(.*debian.*)$/deb-src \1/p' "$1"
}

# deb822 format: every enabled stanza whose Types include "deb" and whose
# URIs name a Debian archive, with Types set to deb-src.
derive_sources()
{
	awk '
	function flush() {
		if (n && types ~ /(^|[[:space:]])deb([[:space:]]|$)/ &&
		    uris ~ /debian/ && tolower(enabled) != "no") {
			for (i = 1; i <= n; i++)
				print (lines[i] ~ /^Types:/ ? "Types: deb-src" : lines[i])
			print ""
		}
		n = 0; types = ""; uris = ""; enabled = ""
	}
	/^[[:space:]]*$/ { flush(); next }
	{
		lines[++n] = $0
		if ($1 == "Types:") types = substr($0, 7)
		if ($1 == "URIs:") uris = substr($0, 6)
		if ($1 == "Enabled:") enabled = $2
	}
	END { flush() }' "$1"
}

if [ -n "${BASALT_FIO_DEB_SRC:-}" ]; then
	# An explicit deb-src list (one-line format), e.g. for a mirror.
	cp "$BASALT_FIO_DEB_SRC" "$apt_dir/sources.list"
else
	[ -f /etc/apt/sources.list ] &&
		derive_list /etc/apt/sources.list >>"$apt_dir/sources.list"
	for f in /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		derive_list "$f" >"$apt_dir/sources.list.d/${f##*/}"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		derive_sources "$f" >"$apt_dir/sources.list.d/${f##*/}"
	done
fi
if ! grep -qs -E '^(deb-src|Types: deb-src)' "$apt_dir/sources.list" \
	"$apt_dir"/sources.list.d/*; then
	die "found no Debian archive in /etc/apt/sources.list{,.d/*} to derive a deb-src entry from; set BASALT_FIO_DEB_SRC to a file with a 'deb-src URI SUITE main' line"
fi

apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "Debug::NoLocking=true"
)
# Files in our private directory cannot be written by apt's sandbox user.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o "APT::Sandbox::User=root")

echo "$prog: fetching the Debian source of $pkg_src $pkg_ver" >&2
apt-get "${apt_opts[@]}" -qq update >&2 ||
	die "'apt-get update' of the deb-src lists in $apt_dir failed (network?)"
dl=$dir/dl
rm -rf "$dl"
mkdir -p "$dl"
(cd "$dl" && apt-get "${apt_opts[@]}" -qq source --download-only \
	"$pkg_src=$pkg_ver") >&2 ||
	die "'apt-get source $pkg_src=$pkg_ver' failed: is that version still in the archive named by $apt_dir/sources.list*?"

dsc=$(ls "$dl"/*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || die "no .dsc downloaded into $dl"
rm -rf "$tree" "$tree.tmp"
# apt-get checked the files against the signed archive index; dpkg-source
# checks them against the .dsc (its signature check needs the keys of
# Debian developers, which are rarely installed: its output goes to a log).
dpkg-source --no-copy -x "$dsc" "$tree.tmp" >"$dir/dpkg-source.log" 2>&1 ||
	die "'dpkg-source -x $dsc' failed; see $dir/dpkg-source.log"

# The options of debian/rules minus the GUI and the engines that need
# other -dev packages: they add code to fio, not fields to its structs.
echo "$prog: configuring fio in $tree" >&2
(cd "$tree.tmp" && ./configure --disable-native --prefix=/usr) \
	>"$dir/configure.log" 2>&1 ||
	die "fio's ./configure failed; see $dir/configure.log"
[ -f "$tree.tmp/config-host.h" ] ||
	die "fio's ./configure wrote no config-host.h; see $dir/configure.log"
mv "$tree.tmp" "$tree"
rm -rf "$dl"
echo "$pkg_src $pkg_ver" >"$stamp"
echo "$tree"
