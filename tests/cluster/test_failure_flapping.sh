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

log=$T/acked.log
writer_pid=

tool()
{
	local cmd=$1
	shift
	"$BASALT_BIN/basalt-osd-tool" "$cmd" -c "$BASALT_CONF" --timeout 30 "$@"
}

# pgs_clean POOL: every PG of POOL is active+clean at its primary.
pgs_clean()
{
	tool pg-states --pool "$1" --expect-clean >"$T/pgs" 2>&1
}

osd_is_down()
{
	basalt osd ls --format json |
		jq -e --argjson id "$1" '.[] | select(.id == $id) | .up == false' \
			>/dev/null
}

acks()
{
	grep -c '^A ' "$log" 2>/dev/null || echo 0
}

acks_past()
{
	[ "$(acks)" -gt "$1" ]
}

stop_writer()
{
	[ -n "$writer_pid" ] || return 0
	kill -KILL "$writer_pid" 2>/dev/null || true
	wait "$writer_pid" 2>/dev/null || true
}
cleanup_fn stop_writer

check_writer_reports()
{
	cat "$T/writer.out" >&2 2>/dev/null || true
	! _sanitizer_reports "$T"/writer-asan.* "$T"/writer-ubsan.*
}
cleanup_fn check_writer_reports

cluster_start --mons 1 --osds 4 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s
basalt pool create rbd --size 3 --min-size 2 --failure-domain host --pg-num 32
basalt volume create rbd/v1 --size 64M --object-size 1M
wait_for 60 pgs_clean rbd

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
	"$BASALT_BIN/basalt_crash_writer" write -c "$BASALT_CONF" --log "$log" \
	--depth 8 rbd/v1 >>"$T/writer.out" 2>&1 &
writer_pid=$!
wait_for 60 acks_past 300

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
		before=$(acks)
		wait_for 60 acks_past $((before + 100))
		osd_revive "$a"
	fi
	# the next round starts while this one's recovery runs
	before=$(acks)
	wait_for 60 acks_past $((before + 100))
	kill -0 "$writer_pid"
done

kill -TERM "$writer_pid"
wait "$writer_pid"		# exit 0: no write failed
writer_pid=
wait_for 90 pgs_clean rbd
cat "$T/pgs"
timeout 120 "$BASALT_BIN/basalt_crash_writer" verify -c "$BASALT_CONF" \
	--log "$log" rbd/v1
echo "acknowledged writes: $(acks)"
