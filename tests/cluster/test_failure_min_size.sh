#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of two OSDs of three under a writer (size 3, min_size 2): I/O
# stops, without an error and without an acknowledgement; one comes back:
# I/O resumes by itself; the other comes back: every PG returns to
# active+clean, and every acknowledged write reads back.
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

# two of three die: below min_size, nothing is acknowledged any more
cluster_sh kill osd.1 osd.2
wait_for 15 osd_is_down 1
wait_for 15 osd_is_down 2
sleep 1
stalled=$(writer_acks)
sleep 4
[ "$(writer_acks)" -eq "$stalled" ]
writer_running			# waiting, not failed
osd_tool pg-states --pool rbd | tee "$T/pgs.down"
# no PG is active ('! grep' could not fail a test under set -e)
[ "$(awk '$1 ~ /^[0-9]+\.[0-9a-f]+$/ && $2 ~ /(^|\+)active(\+|$)/' \
	"$T/pgs.down" | wc -l)" -eq 0 ]

# one comes back: min_size again, I/O resumes by itself
osd_revive 1
wait_for 60 writer_acks_past $((stalled + 300))
writer_running

# the other one too: recovery to active+clean under the writer
osd_revive 2
writer_progress 200
writer_finish			# exit 0: no write failed

wait_for 90 pgs_clean rbd
cat "$T/pgs"
osds_same_objects 0 1 2

writer_verify rbd/v1
echo "acknowledged writes: $(writer_acks)"
