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

cluster_start --mons 1 --osds 3 --osd-size 512M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s
basalt pool create rbd --size 3 --min-size 2 --failure-domain osd --pg-num 16
basalt volume create rbd/v1 --size 48M --object-size 1M
wait_for 60 pgs_clean rbd

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
	"$BASALT_BIN/basalt_crash_writer" write -c "$BASALT_CONF" --log "$log" \
	--depth 8 rbd/v1 >>"$T/writer.out" 2>&1 &
writer_pid=$!
wait_for 60 acks_past 300

# two of three die: below min_size, nothing is acknowledged any more
cluster_sh kill osd.1 osd.2
wait_for 15 osd_is_down 1
wait_for 15 osd_is_down 2
sleep 1
stalled=$(acks)
sleep 4
[ "$(acks)" -eq "$stalled" ]
kill -0 "$writer_pid"		# waiting, not failed
tool pg-states --pool rbd | tee "$T/pgs.down"
! grep -q ' active' "$T/pgs.down"

# one comes back: min_size again, I/O resumes by itself
osd_revive 1
wait_for 60 acks_past $((stalled + 300))
kill -0 "$writer_pid"

# the other one too: recovery to active+clean under the writer
osd_revive 2
before=$(acks)
wait_for 60 acks_past $((before + 200))
kill -TERM "$writer_pid"
wait "$writer_pid"		# exit 0: no write failed
writer_pid=

wait_for 90 pgs_clean rbd
cat "$T/pgs"
for n in 0 1 2; do
	tool statfs --osd "$(osd_addr "$n")" | tee -a "$T/statfs"
done
[ "$(awk '{ print $7 }' "$T/statfs" | sort -u | wc -l)" -eq 1 ]

timeout 120 "$BASALT_BIN/basalt_crash_writer" verify -c "$BASALT_CONF" \
	--log "$log" rbd/v1
echo "acknowledged writes: $(acks)"
