#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An OSD refuses requests it must not serve: a write sent to a member that
# is not the PG's primary, a write naming the wrong PG, a zero-length
# read, a read past the largest object, a write whose data is shorter than
# its length.  Nothing refused is written, and the OSDs go on serving.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd-tool"

tool()
{
	local cmd=$1
	shift
	"$BASALT_BIN/basalt-osd-tool" "$cmd" -c "$BASALT_CONF" --timeout 60 "$@"
}

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --failure-domain osd --pg-num 8
wait_for 60 cluster_healthy

head -c $((1 << 20)) /dev/urandom >"$T/src"
tool write --pool rbd --volume 1 --object-size 1M "$T/src"

tool misdirect --pool rbd --volume 1 --object-size 1M | tee "$T/out"
# every case was refused, each with its reason
[ "$(grep -c ': ' "$T/out")" -eq 5 ]
if grep -q ACCEPTED "$T/out"; then
	echo "an OSD accepted a bad request" >&2
	exit 1
fi
grep -q '^write to non-primary: .*not the primary' "$T/out"

# nothing refused was written: the object still holds the first write
tool read --pool rbd --volume 1 --object-size 1M --size 1M "$T/dst"
cmp "$T/src" "$T/dst"
tool verify --pool rbd --volume 1 --object-size 1M --size 1M --copies 3
