#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every write libbasalt acknowledged survives kill -9 of every daemon, and
# a client carries on by itself when the cluster comes back.
# basalt_crash_writer keeps 16 writes in flight and logs (with fsync)
# each one the library acknowledged.
#   Round 1: kill -9 the mon, all OSDs and the writer at once, mid-load;
#            restart; a new client reads every acknowledged write back.
#   Round 2: a new writer; kill -9 the mon and all OSDs under it and
#            restart them: the writer must go on (the library resends, no
#            error reaches it); then it stops cleanly and all is verified.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"

log=$T/acked.log
writer_pid=

# The writer runs as a plain command so that $! is its own pid (a shell
# function in the background would be a subshell: killing it would leave
# the writer running).  Sanitizer reports go to files cleanup checks.
start_writer()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
		"$BASALT_BIN/basalt_crash_writer" write -c "$BASALT_CONF" \
		--log "$log" --depth 16 rbd/c1 >>"$T/writer.out" 2>&1 &
	writer_pid=$!
}

verify_log()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
		timeout -k 10 120 "$BASALT_BIN/basalt_crash_writer" verify \
		-c "$BASALT_CONF" --log "$log" rbd/c1
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

acks()
{
	grep -c '^A ' "$log" 2>/dev/null || echo 0
}

# acks_past N: more than N writes acknowledged so far.
acks_past()
{
	[ "$(acks)" -gt "$1" ]
}

daemons="mon.0 osd.0 osd.1 osd.2"

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/c1 --size 64M --object-size 1M
wait_for 60 cluster_healthy

# Round 1: everything dies at once, the writer too.
start_writer
wait_for 60 acks_past 300
kill -KILL "$writer_pid"
cluster_sh kill $daemons
wait "$writer_pid" 2>/dev/null || true
writer_pid=
cluster_sh revive $daemons
wait_for 60 cluster_healthy
verify_log

# Round 2: the cluster dies under a running writer and comes back.
start_writer
before=$(acks)
wait_for 60 acks_past $((before + 200))
cluster_sh kill $daemons
before=$(acks)
sleep 1
cluster_sh revive $daemons
wait_for 60 cluster_healthy
wait_for 60 acks_past $((before + 200))
kill -0 "$writer_pid"		# still running: it never saw an error
kill -TERM "$writer_pid"
wait "$writer_pid"		# drains and exits 0
writer_pid=
verify_log
echo "acknowledged writes: $(acks)"
