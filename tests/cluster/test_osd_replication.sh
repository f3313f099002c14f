#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replicated pool, size 3: every object written lands on three distinct
# OSDs at one version (asked of each OSD with BS_MSG_OSD_PG_LIST), reads
# back identical, and survives kill -9 of every OSD; with one OSD stopped
# (it marks itself down) writes go on with two copies, and once it is
# back recovery gives it the objects it missed.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --pg-num 16 --failure-domain host

# tool CMD ARGS...: basalt-osd-tool on this cluster
tool()
{
	local cmd=$1
	shift
	"$BASALT_BIN/basalt-osd-tool" "$cmd" -c "$BASALT_CONF" --timeout 60 "$@"
}

# 12 objects of 1 MiB (the last one short) in volume 1
head -c $((12 * 1024 * 1024 - 5000)) /dev/urandom >"$T/src1"
size1=$(stat -c %s "$T/src1")
tool write --pool rbd --volume 1 --object-size 1M "$T/src1"
tool read --pool rbd --volume 1 --object-size 1M --size "$size1" "$T/dst1"
cmp "$T/src1" "$T/dst1"
tool verify --pool rbd --volume 1 --object-size 1M --size "$size1" \
	--copies 3 | tee "$T/verify1"
[ "$(grep -c ' on osd\.[0-9]* osd\.[0-9]* osd\.[0-9]*$' "$T/verify1")" -eq 12 ]

# overwrite it: every copy moves to the new version
head -c "$size1" /dev/urandom >"$T/src1"
tool write --pool rbd --volume 1 --object-size 1M "$T/src1"
tool verify --pool rbd --volume 1 --object-size 1M --size "$size1" --copies 3

# kill -9 every OSD and start them again: nothing acknowledged is lost
cluster_sh kill osd.0 osd.1 osd.2
cluster_sh revive osd.0 osd.1 osd.2
tool read --pool rbd --volume 1 --object-size 1M --size "$size1" "$T/dst1"
cmp "$T/src1" "$T/dst1"
tool verify --pool rbd --volume 1 --object-size 1M --size "$size1" --copies 3

# writes after the restart carry versions of the new epoch, still on 3
head -c 3M /dev/urandom >"$T/src2"
tool write --pool rbd --volume 2 --object-size 1M "$T/src2"
tool verify --pool rbd --volume 2 --object-size 1M --size 3M --copies 3

# osd.2 stopped cleanly (it marks itself down): writes need min_size 2
cluster_sh stop osd.2
head -c 4M /dev/urandom >"$T/src3"
tool write --pool rbd --volume 3 --object-size 1M "$T/src3"
tool read --pool rbd --volume 3 --object-size 1M --size 4M "$T/dst3"
cmp "$T/src3" "$T/dst3"
tool verify --pool rbd --volume 3 --object-size 1M --size 4M --copies 2

# osd.2 back: volume 1 (written while it was up) reads back whole, and
# recovery copies volume 3 to it: three copies again, every PG clean
cluster_sh revive osd.2
tool read --pool rbd --volume 1 --object-size 1M --size "$size1" "$T/dst1"
cmp "$T/src1" "$T/dst1"
pgs_clean()
{
	tool pg-states --pool rbd --expect-clean >"$T/pgs" 2>&1
}
wait_for 60 pgs_clean
tool verify --pool rbd --volume 3 --object-size 1M --size 4M --copies 3
tool read --pool rbd --volume 3 --object-size 1M --size 4M "$T/dst3"
cmp "$T/src3" "$T/dst3"

# the OSDs answer statfs with what they hold
for n in 0 1 2; do
	tool statfs --osd "$(cat "$CLUSTER_DIR/osd.$n.addr")" | grep "^osd\.$n "
done
