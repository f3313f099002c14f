#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# basalt-nbd on a real cluster against hostile and broken clients
# (nbd_hostile.py: garbage handshakes, unknown exports, options and
# commands, ranges past the end, oversized lengths, clients vanishing
# mid-request, many connections) while a good client stays connected and
# is served between every case; then a Unix socket, --read-only and
# --export, and a clean SIGTERM with requests in flight.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-nbd"
requires python3 --version
requires nbdinfo --version
requires qemu-io --version

export hostile=$BASALT_SRC/tests/cluster/nbd_hostile.py

check_server_logs()
{
	! _sanitizer_reports "$T"/nbd*.err
}
cleanup_fn check_server_logs

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/a --size 64M
basalt volume create rbd/b --size 32M
wait_for 60 cluster_healthy

n=0
nbd()
{
	n=$((n + 1))
	timeout 240 "$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" \
		--listen 127.0.0.1:0 --log-file "$T/nbd$n.log" "$@" \
		2>"$T/nbd$n.err"
}

# --- hostile clients; the server answers each and stays up -----------------
nbd --handshake-timeout 5s --run 'python3 "$hostile" "$uri" rbd/a' \
	>"$T/hostile.out" || {
	cat "$T/hostile.out"
	false
}
cat "$T/hostile.out"
if grep '^FAIL' "$T/hostile.out"; then false; fi
# each refused client left one log line (rate-limited), and no error
grep -q 'bad request magic' "$T/nbd$n.log"
grep -q 'client vanished in the middle of a request' "$T/nbd$n.log"
if grep ' ERR ' "$T/nbd$n.log"; then false; fi

# --- --read-only and --export ------------------------------------------------------
nbd --read-only --export rbd/b --run '
	! qemu-io -f raw -c "write 0 4k" "$uri" &&
	qemu-io -f raw -r -c "read -P 0 0 4k" "$uri" &&
	! nbdinfo --size "nbd://127.0.0.1:$port/rbd/a" &&
	test "$(nbdinfo --size "nbd://127.0.0.1:$port")" = 33554432'

# --- Unix socket, pid file, SIGTERM with writes in flight --------------------------
"$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" --socket "$T/nbd.sock" \
	--pidfile "$T/nbd.pid" --log-file "$T/nbd-bg.log" 2>"$T/nbd-bg.err" &
bg=$!
wait_for 20 test -s "$T/nbd.pid"
test "$(cat "$T/nbd.pid")" = "$bg"
uri="nbd+unix:///rbd/a?socket=$T/nbd.sock"
qemu-io -f raw -c 'write -P 0x42 56M 4M' -c 'flush' "$uri"
qemu-io -f raw -c 'read -P 0x42 56M 4M' "$uri"
# SIGTERM while nbdcopy has requests in flight on 4 connections: the
# server drains and exits 0; if nbdcopy saw every write succeed, every
# byte is there for the next server
head -c 48M /dev/urandom >"$T/src"
nbdcopy --connections=4 --requests=16 "$T/src" "$uri" 2>"$T/nbdcopy.err" &
writer=$!
wait_for 20 grep -q "conn 4: export 'rbd/a'" "$T/nbd-bg.log"
sleep 0.05
kill -TERM "$bg"
rc=0
for _ in $(seq 150); do
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$bg" 2>/dev/null; then
	kill -KILL "$bg"
	echo "basalt-nbd did not stop within 15 s of SIGTERM" >&2
	false
fi
wait "$bg" || rc=$?
test "$rc" -eq 0
copied=0
wait "$writer" || copied=$?
test ! -e "$T/nbd.sock"
test ! -e "$T/nbd.pid"
grep -q 'shutting down' "$T/nbd-bg.log"
if _sanitizer_reports "$T/nbd-bg.err"; then false; fi

# the next server reads what was flushed before, and all of the copy if
# nbdcopy saw every write succeed
nbd --export rbd/a --run 'qemu-io -f raw -c "read -P 0x42 56M 4M" "$uri" &&
	nbdcopy "$uri" "$T/back"'
if [ "$copied" -eq 0 ]; then
	cmp -n $((48 << 20)) "$T/src" "$T/back"
fi
