#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of one OSD of three under a writer (size 3, min_size 2): the
# writer never sees an error and keeps getting acknowledgements, the mons
# mark the OSD down within the grace, the OSD comes back, recovery brings
# every PG back to active+clean with every object on all three OSDs, and
# every acknowledged write reads back.  A second volume written while the
# OSD was down and never touched again can only come back to it through
# background recovery.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires jq --version

cluster_start --mons 1 --osds 3 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s
basalt pool create rbd --size 3 --min-size 2 --failure-domain osd --pg-num 16
basalt volume create rbd/v1 --size 48M --object-size 1M
wait_for 60 pgs_clean rbd

writer_start rbd/v1
wait_for 60 writer_acks_past 300

# osd.1 dies: marked down within the grace (3 s, plus a little)
start=$(now_ms)
osd_kill 1
wait_for 10 osd_is_down 1
elapsed=$(($(now_ms) - start))
echo "osd.1 marked down after ${elapsed} ms"
[ "$elapsed" -lt 5000 ]

# I/O goes on with two copies
writer_progress 300
writer_running
osd_tool_fill rbd 1000 6M	# the cold volume

# back: recovery while the writer goes on
osd_revive 1
writer_progress 300
writer_running
writer_finish			# exit 0: no write failed

wait_for 90 pgs_clean rbd
cat "$T/pgs"

# every object on all three OSDs
osds_same_objects 0 1 2

writer_verify rbd/v1
osd_tool_check rbd 1000 3
echo "acknowledged writes: $(writer_acks)"
