#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OSDs fail again and again while recovery from the last failure still
# runs (4 OSDs, size 3, min_size 2), under a writer: one, then two at once,
# killed and brought back in turn, a whole round six times.  The writer
# never sees an error; at the end every PG is active+clean and every
# acknowledged write reads back.
# ctest-timeout: 240
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires jq --version

cluster_start --mons 1 --osds 4 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s
basalt pool create rbd --size 3 --min-size 2 --failure-domain host --pg-num 32
basalt volume create rbd/v1 --size 64M --object-size 1M
wait_for 60 pgs_clean rbd

writer_start rbd/v1
wait_for 60 writer_acks_past 300

for round in 1 2 3 4 5 6; do
	a=$((round % 4))
	b=$(((round + 1) % 4))
	if [ $((round % 2)) -eq 0 ]; then
		cluster_sh kill "osd.$a" "osd.$b"
		wait_for 15 osd_is_down "$a"
		wait_for 15 osd_is_down "$b"
		sleep 1
		osd_revive "$a"
		osd_revive "$b"
	else
		osd_kill "$a"
		wait_for 15 osd_is_down "$a"
		writer_progress 100
		osd_revive "$a"
	fi
	# the next round starts while this one's recovery runs
	writer_progress 100
	writer_running
done

writer_finish			# exit 0: no write failed
wait_for 90 pgs_clean rbd
cat "$T/pgs"
writer_verify rbd/v1
echo "acknowledged writes: $(writer_acks)"
