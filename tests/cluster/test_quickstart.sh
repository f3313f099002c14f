#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/quickstart.sh on the built tree (no install, no build), in a
# temporary run directory on free ports: a port held by another program
# stops it with a clear message before anything starts; it then starts 3
# mons, 3 OSDs and basalt-nbd, and the URIs it prints serve the 10 GiB
# volume (nbdinfo, data written and read back); a second run changes
# nothing and prints the same, a third restarts a killed basalt-nbd;
# "quickstart.sh stop" stops every daemon by pid.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-nbd"
requires python3 --version
requires nbdinfo --version
requires qemu-io --version
requires jq --version

# fails CMD [ARGS]: CMD must fail ("! CMD" never stops a "set -e" script).
fails()
{
	if "$@"; then
		echo "$0: '$*' succeeded but should have failed" >&2
		return 1
	fi
}

run=$T/run
base=$(free_port_range 200)
export BASALT_RUN_DIR=$run
export BASALT_BUILD_DIR=$BASALT_BIN/..
export BASALT_QUICKSTART_NO_BUILD=1
export BASALT_QUICKSTART_PORT_BASE=$base
export BASALT_QUICKSTART_NBD_PORT=$((base + 150))
export BASALT_QUICKSTART_OSD_SIZE=1G
quickstart=$BASALT_SRC/scripts/quickstart.sh

# The pids of every daemon the quickstart started, "NAME PID" a line.
daemon_pids()
{
	local f

	for f in "$run"/*.pid; do
		[ -f "$f" ] || continue
		echo "$(basename "$f" .pid) $(cat "$f")"
	done
}

# Does process $1 run (and is not a zombie nobody reaps)?
alive()
{
	kill -0 "$1" 2>/dev/null &&
		! grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat" 2>/dev/null
}

# Stop it all (if the test stopped half-way), then no daemon may be left
# and no log may hold a sanitizer report.
qs_cleanup()
{
	local rc=0 name pid f

	[ -d "$run" ] || return 0
	daemon_pids >"$T/pids.before-stop"
	"$quickstart" stop >&2 || rc=1
	while read -r name pid; do
		if alive "$pid" &&
			tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$run/"; then
			echo "$0: $name (pid $pid) survived 'quickstart.sh stop'" >&2
			kill -KILL "$pid"
			rc=1
		fi
	done <"$T/pids.before-stop"
	_sanitizer_reports "$run"/*.log && rc=1
	if [ $rc -ne 0 ] || [ "${_test_status:-0}" -ne 0 ]; then
		for f in "$run"/*.log; do
			[ -f "$f" ] || continue
			echo "=== tail $f" >&2
			tail -n 20 "$f" >&2
		done
	fi
	return $rc
}
cleanup_fn qs_cleanup

# --- a port taken by another program: a clear error, nothing started -------
python3 - "$BASALT_QUICKSTART_NBD_PORT" "$T/holder.ready" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
open(sys.argv[2], "w").close()
time.sleep(60)
EOF
holder=$!
stop_holder()
{
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
}
cleanup_fn stop_holder
wait_for 10 test -e "$T/holder.ready"
expect_fail 1 "^quickstart: port $BASALT_QUICKSTART_NBD_PORT on 127.0.0.1 \(for basalt-nbd\) is taken by another program" \
	"$quickstart"
test -z "$(daemon_pids)"
stop_holder

# --- first run ---------------------------------------------------------------
start=$(now_ms)
"$quickstart" >"$T/out1" 2>"$T/err1" || { cat "$T/err1"; false; }
cat "$T/out1"
echo "first run: $(($(now_ms) - start)) ms"
daemon_pids >"$T/pids1"
test "$(awk '{ print $1 }' "$T/pids1" | sort | xargs)" = \
	"basalt-nbd mon.0 mon.1 mon.2 osd.0 osd.1 osd.2"

# The printed URIs and config.
uri=$(sed -n "s/^  nbdinfo '\(nbd:[^']*\)'\$/\1/p" "$T/out1")
test "$uri" = "nbd://127.0.0.1:$BASALT_QUICKSTART_NBD_PORT/rbd/vol0"
unix_uri=$(sed -n 's/^Over NBD (also \(nbd+unix:[^)]*\)):$/\1/p' "$T/out1")
test "$unix_uri" = "nbd+unix:///rbd/vol0?socket=$run/nbd.sock"
conf=$(sed -n 's/^  export BASALT_CONF=//p' "$T/out1")
test "$conf" = "$run/basalt.conf"
grep -qF "BASALT_RUN_DIR=$run $quickstart stop" "$T/out1"

# What nbdinfo says about the export.
nbdinfo --json "$uri" >"$T/info.json"
jq -e '.exports | length == 1' "$T/info.json"
jq -e '.exports[0] | ."export-name" == "rbd/vol0" and
	."export-size" == 10737418240 and .can_multi_conn and .can_flush and
	.can_trim and .can_zero and (.is_read_only | not)' "$T/info.json"
nbdinfo --map "$uri" >"$T/map0"
test "$(awk '{ print $1, $2, $3 }' "$T/map0")" = "0 10737418240 3"

# Data through the printed URI, read back on another connection and over
# the Unix socket; the map shows exactly what was written.
qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' "$uri"
head -c 3M /dev/urandom >"$T/data"
qemu-io -f raw -c "write -s $T/data 5G 3M" -c flush "$uri"
qemu-io -f raw -c 'read -P 0xab 0 1M' "$uri"
qemu-io -f raw -c 'read -P 0 1M 1M' "$unix_uri"
nbdinfo --map "$unix_uri" >"$T/map1"
test "$(awk '{ printf "%s %s %s;", $1, $2, $3 }' "$T/map1")" = \
	"0 1048576 0;1048576 5367660544 3;5368709120 3145728 0;5371854848 5365563392 3;"
# the volume as the CLI sees it, with the printed config
BASALT_CONF=$conf "$BASALT_BIN/basalt" volume ls --format json >"$T/ls.json"
jq -e 'map(select(.name == "vol0" and .pool == "rbd")) | length == 1 and
	.[0].size == 10737418240' "$T/ls.json"

# --- second run: nothing restarted, nothing created, the same output ----------
"$quickstart" >"$T/out2" 2>"$T/err2" || { cat "$T/err2"; false; }
cmp "$T/out1" "$T/out2"
daemon_pids >"$T/pids2"
cmp "$T/pids1" "$T/pids2"
fails grep -E 'creating|started|formatted|error' "$T/err2"
grep -q 'basalt-nbd already runs' "$T/err2"
qemu-io -f raw -c 'read -P 0xab 0 1M' "$uri"
python3 - "$uri" "$T/data" <<'EOF'
# read [5G, 5G + 3M) on a raw NBD connection: the data written before
import socket, struct, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
want = open(sys.argv[2], "rb").read()
s = socket.create_connection((u.hostname, u.port), timeout=20)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        assert c, "server closed"
        b += c
    return b
assert recv(18)[:8] == b"NBDMAGIC"
s.sendall(struct.pack(">I", 1))
name = u.path[1:].encode()
s.sendall(struct.pack(">QII", 0x49484156454F5054, 1, len(name)) + name)
size, flags = struct.unpack(">QH", recv(10))
recv(124)
assert size == 10 << 30, size
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 7, 5 << 30, len(want)))
magic, err, handle = struct.unpack(">IIQ", recv(16))
assert (magic, err, handle) == (0x67446698, 0, 7), (magic, err, handle)
assert recv(len(want)) == want, "data read back differs"
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 2, 8, 0, 0))
EOF

# --- third run after basalt-nbd was killed: it alone is started again ----------
kill -KILL "$(cat "$run/basalt-nbd.pid")"
wait_for 10 fails nbdinfo --size "$uri" 2>/dev/null
"$quickstart" >"$T/out3" 2>"$T/err3" || { cat "$T/err3"; false; }
cmp "$T/out1" "$T/out3"
grep -q 'starting basalt-nbd' "$T/err3"
daemon_pids >"$T/pids3"
test "$(grep -v basalt-nbd "$T/pids1")" = "$(grep -v basalt-nbd "$T/pids3")"
test "$(grep basalt-nbd "$T/pids1")" != "$(grep basalt-nbd "$T/pids3")"
qemu-io -f raw -c 'read -P 0xab 0 1M' "$uri"

# --- stop: every daemon, by pid -------------------------------------------------
"$quickstart" stop 2>"$T/stop.err"
cat "$T/stop.err"
while read -r name pid; do
	fails alive "$pid"
	grep -q "stopped $name (pid $pid)" "$T/stop.err"
done <"$T/pids3"
test -z "$(daemon_pids)"
test ! -e "$run/nbd.sock"
fails nbdinfo --size "$uri" 2>/dev/null
