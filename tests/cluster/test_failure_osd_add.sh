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
basalt pool create rbd --size 3 --min-size 2 --failure-domain host --pg-num 32
basalt volume create rbd/v1 --size 64M --object-size 1M
wait_for 60 pgs_clean rbd
head -c $((16 << 20)) /dev/urandom >"$T/cold"
tool write --pool rbd --volume 1000 --object-size 1M "$T/cold"

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
	"$BASALT_BIN/basalt_crash_writer" write -c "$BASALT_CONF" --log "$log" \
	--depth 8 rbd/v1 >>"$T/writer.out" 2>&1 &
writer_pid=$!
wait_for 60 acks_past 600

new=$(osd_add --osd-size 512M)
[ "$new" = 3 ]
before=$(acks)
wait_for 60 acks_past $((before + 300))
wait_for 90 pgs_clean rbd
before=$(acks)
wait_for 60 acks_past $((before + 100))
kill -TERM "$writer_pid"
wait "$writer_pid"		# exit 0: no write failed
writer_pid=
wait_for 60 pgs_clean rbd
cat "$T/pgs"

# copies: 3 per object in all, the old ones removed; osd.3 about 3/4
objects()
{
	tool statfs --osd "$(osd_addr "$1")" | awk '{ print $7 }'
}
copies_settled()
{
	local total=0 n
	for n in 0 1 2 3; do
		total=$((total + $(objects "$n")))
	done
	echo "copies: $total"
	[ "$total" -eq $((3 * (64 + 16))) ]
}
wait_for 60 copies_settled
share=$(objects 3)
echo "osd.3 holds $share of 80 objects"
[ "$share" -ge 40 ] && [ "$share" -le 75 ]

timeout 120 "$BASALT_BIN/basalt_crash_writer" verify -c "$BASALT_CONF" \
	--log "$log" rbd/v1
tool verify --pool rbd --volume 1000 --object-size 1M --size 16M --copies 3
tool read --pool rbd --volume 1000 --object-size 1M --size 16M "$T/cold.back"
cmp "$T/cold" "$T/cold.back"
echo "acknowledged writes: $(acks)"
