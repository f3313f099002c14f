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

osd_tool_timeout=60

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --pg-num 16 --failure-domain host

# 12 objects of 1 MiB (the last one short) in volume 1
size1=$((12 * 1024 * 1024 - 5000))
osd_tool_fill rbd 1 "$size1"
osd_tool_check rbd 1
osd_tool verify --pool rbd --volume 1 --object-size 1M --size "$size1" \
	--copies 3 | tee "$T/verify1"
[ "$(grep -c ' on osd\.[0-9]* osd\.[0-9]* osd\.[0-9]*$' "$T/verify1")" -eq 12 ]

# overwrite it: every copy moves to the new version
osd_tool_fill rbd 1 "$size1"
osd_tool verify --pool rbd --volume 1 --object-size 1M --size "$size1" \
	--copies 3

# kill -9 every OSD and start them again: nothing acknowledged is lost
cluster_sh kill osd.0 osd.1 osd.2
cluster_sh revive osd.0 osd.1 osd.2
osd_tool_check rbd 1 3

# writes after the restart carry versions of the new epoch, still on 3
osd_tool_fill rbd 2 3M
osd_tool verify --pool rbd --volume 2 --object-size 1M --size 3M --copies 3

# osd.2 stopped cleanly (it marks itself down): writes need min_size 2
cluster_sh stop osd.2
osd_tool_fill rbd 3 4M
osd_tool_check rbd 3 2

# osd.2 back: volume 1 (written while it was up) reads back whole, and
# recovery copies volume 3 to it: three copies again, every PG clean
cluster_sh revive osd.2
osd_tool_check rbd 1
wait_for 60 pgs_clean rbd
osd_tool_check rbd 3 3

# the OSDs answer statfs with what they hold
for n in 0 1 2; do
	osd_tool statfs --osd "$(osd_addr "$n")" | grep "^osd\.$n "
done
