#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# basalt-nbd's promises that need a raw-socket client (nbd_checks.py), on
# a real cluster: NBD_FLAG_CAN_MULTI_CONN is advertised and a FLUSH on one
# connection covers the writes of another (answered ones and ones still in
# flight): kill -9 of the server and every OSD right after the flush loses
# none of them.  Then --read-only (EPERM, data intact), --export (only the
# listed volumes are visible), the handshake timeout, max_connections, and
# --run (sets $uri, $port, $exportname, $unix_uri; exits with the
# command's status).
# ctest-timeout: 240
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-nbd"
requires python3 --version
requires jq --version

checks=$BASALT_SRC/tests/cluster/nbd_checks.py
export checks

check_server_logs()
{
	! _sanitizer_reports "$T"/nbd*.err
}
cleanup_fn check_server_logs

n=0
# nbd ARGS... --run CMD: a captive basalt-nbd on a free port; its exit
# status is CMD's.
nbd()
{
	n=$((n + 1))
	timeout 120 "$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" \
		--listen 127.0.0.1:0 --log-file "$T/nbd$n.log" "$@" \
		2>"$T/nbd$n.err"
}

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/a --size 64M
basalt volume create rbd/b --size 32M
basalt volume create rbd/c --size 32M
wait_for 60 cluster_healthy

# --- multi-conn: a flush on B covers the writes of A ------------------------
# A server in the background, so that nbd_checks.py can kill it (with
# every OSD) the moment B's flush is answered.
"$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" --listen 127.0.0.1:0 \
	--pidfile "$T/nbd-mc.pid" --log-file "$T/nbd-mc.log" \
	2>"$T/nbd-mc.err" &
mc=$!
wait_for 20 test -s "$T/nbd-mc.pid"
port=$(sed -n 's/.*serving 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/nbd-mc.log")
test -n "$port"
python3 "$checks" flush-durable "nbd://127.0.0.1:$port" rbd/a \
	"$T/written" "$mc" "$(osd_pid 0)" "$(osd_pid 1)" "$(osd_pid 2)"
rc=0
wait "$mc" || rc=$?
test "$rc" -eq 137
osd_revive 0
osd_revive 1
osd_revive 2
wait_for 60 cluster_healthy
nbd --export rbd/a --run 'python3 "$checks" verify "$uri" rbd/a "$T/written"'

# --- --read-only -------------------------------------------------------------
nbd --read-only --export rbd/a \
	--run 'python3 "$checks" read-only "$uri" rbd/a "$T/written"'
# and the data is still there for a server that may write
nbd --export rbd/a --run 'python3 "$checks" verify "$uri" rbd/a "$T/written"'

# --- --export: only the listed volumes are visible -----------------------------
nbd --export rbd/a --export rbd/c \
	--run 'python3 "$checks" exports "$uri" rbd/a,rbd/c rbd/b'
# without --export, every volume
nbd --run 'python3 "$checks" exports "$uri" rbd/a,rbd/b,rbd/c ""'

# --- the handshake timeout, max_connections --------------------------------------
nbd --handshake-timeout 2s \
	--run 'python3 "$checks" handshake-timeout "$uri" rbd/b 2'
grep -q 'no export selected within 2000 ms' "$T/nbd$n.log"
nbd --max-connections 3 \
	--run 'python3 "$checks" max-connections "$uri" rbd/b 3'
grep -q 'refusing a connection: already 3 (max_connections)' "$T/nbd$n.log"

# --- --run: the environment, and CMD's exit status ----------------------------
rc=0
nbd --export rbd/b --socket "$T/run.sock" --run '
	echo "$uri" "$port" "$exportname" "$unix_uri" >"$T/run.env"
	nbdinfo --size "$uri" >"$T/run.size" 2>&1 || true
	exit 7' || rc=$?
test "$rc" -eq 7
read -r r_uri r_port r_export r_unix <"$T/run.env"
test "$r_uri" = "nbd://127.0.0.1:$r_port/rbd/b"
test "$r_export" = rbd/b
test "$r_unix" = "nbd+unix:///rbd/b?socket=$T/run.sock"
if command -v nbdinfo >/dev/null; then
	test "$(cat "$T/run.size")" = 33554432
fi
# the server has shut down with the command
test ! -e "$T/run.sock"
grep -q 'the command exited with status 7' "$T/nbd$n.log"
# a command that succeeds: exit 0
nbd --export rbd/b --run 'test -n "$uri"'
