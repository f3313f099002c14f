#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An OSD left down past mon_osd_down_out_interval is marked out: its PGs
# move to the other OSDs (4 hosts, size 3), which are backfilled while a
# writer goes on, and the cluster returns to active+clean without it:
# every object on the three remaining OSDs, every acknowledged write
# there.  A second volume written before and never touched again moves
# by background backfill alone.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires jq --version

cluster_start --mons 1 --osds 4 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s \
	--set mon_osd_down_out_interval=5s
basalt pool create rbd --size 3 --min-size 2 --failure-domain host --pg-num 32
basalt volume create rbd/v1 --size 48M --object-size 1M
wait_for 60 pgs_clean rbd
osd_tool_fill rbd 1000 16M	# the cold volume

writer_start rbd/v1
wait_for 60 writer_acks_past 400

# osd.3 dies and stays down: down, then out
osd_kill 3
wait_for 15 osd_is_down 3
wait_for 30 osd_is_out 3
writer_progress 200

# the other three take its PGs over, filled while the writer goes on
wait_for 90 pgs_clean rbd
writer_progress 100
writer_finish			# exit 0: no write failed
wait_for 60 pgs_clean rbd
cat "$T/pgs"

# size 3 on three OSDs: each holds every object
objects=$(osds_same_objects 0 1 2)
[ "$objects" -ge 56 ]

writer_verify rbd/v1
osd_tool_check rbd 1000 3
echo "acknowledged writes: $(writer_acks)"
