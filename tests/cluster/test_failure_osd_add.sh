#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fourth OSD joins a cluster of three (size 3) under a writer: the PGs
# that move to it are backfilled, the old copies go once each PG is clean,
# and the new OSD ends up with about its share (3/4 of the objects), the
# cluster active+clean, every acknowledged write there.  A second volume
# written before and never touched again moves by background backfill
# alone.
# ctest-timeout: 240
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires jq --version

cluster_start --mons 1 --osds 3 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s
basalt pool create rbd --size 3 --min-size 2 --failure-domain host --pg-num 32
basalt volume create rbd/v1 --size 64M --object-size 1M
wait_for 60 pgs_clean rbd
osd_tool_fill rbd 1000 16M	# the cold volume

writer_start rbd/v1
wait_for 60 writer_acks_past 600

new=$(osd_add --osd-size 512M)
[ "$new" = 3 ]
writer_progress 300
wait_for 90 pgs_clean rbd
writer_progress 100
writer_finish			# exit 0: no write failed
wait_for 60 pgs_clean rbd
cat "$T/pgs"

# copies: 3 per object in all, the old ones removed; osd.3 about 3/4
copies_settled()
{
	local total=0 n
	for n in 0 1 2 3; do
		total=$((total + $(osd_objects "$n")))
	done
	echo "copies: $total"
	[ "$total" -eq $((3 * (64 + 16))) ]
}
wait_for 60 copies_settled
share=$(osd_objects 3)
echo "osd.3 holds $share of 80 objects"
[ "$share" -ge 40 ]
[ "$share" -le 75 ]

writer_verify rbd/v1
osd_tool_check rbd 1000 3
echo "acknowledged writes: $(writer_acks)"
