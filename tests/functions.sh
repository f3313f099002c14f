# SPDX-License-Identifier: Apache-2.0
# Helpers for the cluster tests (tests/cluster/test_*.sh), sourced first:
#   source "$(dirname "$0")/../functions.sh"
# Modelled on nbdkit's tests/functions.sh.in; see tests/README.md.
#
# Environment (set by ctest, defaults for running a test by hand):
#   BASALT_SRC  the source tree           (default: this file's ../)
#   BASALT_BIN  the built binaries        (default: $BASALT_SRC/build/bin)
#   BASALT_KEEP=1  keep the test's temporary directory after it ends

BASALT_SRC=${BASALT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BASALT_BIN=${BASALT_BIN:-$BASALT_SRC/build/bin}
export BASALT_SRC BASALT_BIN

# set -x traces go to a copy of stderr, so that a command's own stderr
# (captured by expect_fail) holds only what the command printed.
exec {_xtrace_fd}>&2
BASH_XTRACEFD=$_xtrace_fd

# The test's scratch directory; removed at exit (unless BASALT_KEEP=1).
T=$(mktemp -d "${TMPDIR:-/tmp}/basalt-test.XXXXXX")
export T

# --- cleanup --------------------------------------------------------------

_cleanup_hooks=()

# cleanup_fn CMD [ARGS...]: run CMD when the test exits, however it exits,
# last registered first.  A hook that fails makes the test fail.
cleanup_fn()
{
	local q

	printf -v q '%q ' "$@"
	_cleanup_hooks+=("$q")
}

_run_cleanup_hooks()
{
	local status=${1:-$?} i rc

	trap '' INT QUIT TERM EXIT
	set +e +x
	_watchdog_stop
	_test_status=$status
	for ((i = ${#_cleanup_hooks[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_hooks[i]}"
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "$0: cleanup '${_cleanup_hooks[i]}' failed ($rc)" >&2
			[ "$status" -ne 0 ] || status=1
		fi
	done
	_release_port_locks
	if _sanitizer_reports "$T"/cli-asan.* "$T"/cli-ubsan.*; then
		[ "$status" -ne 0 ] || status=1
	fi
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
		echo "$0: FAILED (exit $status)" >&2
	fi
	if [ "${BASALT_KEEP:-0}" = 1 ]; then
		echo "$0: keeping $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$status"
}
trap '_run_cleanup_hooks' EXIT
trap '_run_cleanup_hooks 130' INT
trap '_run_cleanup_hooks 131' QUIT
trap '_run_cleanup_hooks 143' TERM

# --- the watchdog ---------------------------------------------------------
# ctest ends a test that passes its TIMEOUT with SIGKILL: no trap runs and
# its daemons would live on.  So a little before that, the watchdog sends
# SIGTERM to the test shell (and to the command it waits for, since bash
# runs a trap only once its foreground command is done): the cleanup
# hooks then stop every daemon and the test fails, saying why.  The
# timeout is the script's "# ctest-timeout: N" line (default 300, as in
# tests/cluster/CMakeLists.txt).  BASALT_WATCHDOG=0 turns it off.

_watchdog_pid=
_watchdog_mark=$T/.watchdog-fired
_test_timeout=$(sed -n 's/^# ctest-timeout: \([0-9][0-9]*\).*/\1/p' "$0" \
	2>/dev/null | head -n 1)
_test_timeout=${_test_timeout:-300}
# Leave the cleanup time to stop daemons (10 s each, in parallel).
if [ "$_test_timeout" -ge 100 ]; then
	_watchdog_after=$((_test_timeout - 20))
else
	_watchdog_after=$((_test_timeout - _test_timeout / 5))
fi

# Send SIGTERM to the children of the test shell (but the watchdog),
# then to the shell itself.
_watchdog_fire()
{
	local shell=$1 me=$2 f pid ppid rest

	for f in /proc/[0-9]*/stat; do
		pid=${f#/proc/}
		pid=${pid%/stat}
		[ "$pid" != "$me" ] || continue
		# "pid (comm) state ppid ...": comm may hold spaces
		rest=$(cat "$f" 2>/dev/null) || continue
		rest=${rest##*) }
		ppid=$(set -- $rest; echo "$2")
		[ "$ppid" = "$shell" ] && kill -TERM "$pid" 2>/dev/null
	done
	kill -TERM "$shell" 2>/dev/null
}

_watchdog_start()
{
	[ "${BASALT_WATCHDOG:-1}" != 0 ] || return 0
	[ "$_watchdog_after" -gt 0 ] || return 0
	(
		exec </dev/null >/dev/null 2>&1
		end=$((SECONDS + _watchdog_after))
		while [ $SECONDS -lt $end ]; do
			kill -0 $$ 2>/dev/null || exit 0
			sleep 1
		done
		echo "$_watchdog_after" >"$_watchdog_mark"
		_watchdog_fire $$ "$BASHPID"
	) &
	_watchdog_pid=$!
}

# Stop the watchdog (cleanup runs: it has done its job or is not needed).
_watchdog_stop()
{
	if [ -f "$_watchdog_mark" ]; then
		echo "$0: watchdog: the test still ran after ${_watchdog_after}s, close to its ctest timeout of ${_test_timeout}s: stopped it so that cleanup runs" >&2
	fi
	[ -n "$_watchdog_pid" ] || return 0
	kill -TERM "$_watchdog_pid" 2>/dev/null
	wait "$_watchdog_pid" 2>/dev/null
	_watchdog_pid=
	return 0
}
_watchdog_start

# Print every file given that holds a sanitizer report; true if any did.
_sanitizer_reports()
{
	local f found=1

	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"
		then
			echo "$0: sanitizer report in $f:" >&2
			cat "$f" >&2
			found=0
		fi
	done
	return $found
}

# --- small helpers --------------------------------------------------------

# requires CMD [ARGS...]: skip the test (exit 77) unless CMD ARGS runs.
requires()
{
	if ! "$@" >/dev/null 2>&1; then
		echo "$0: test skipped because '$*' failed" >&2
		exit 77
	fi
}

# wait_for SECONDS CMD [ARGS...]: run CMD until it succeeds, at most
# SECONDS; on time-out say what was awaited and fail.
wait_for()
{
	local secs=$1 deadline
	shift

	deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
	until "$@"; do
		if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then
			echo "$0: wait_for: '$*' did not succeed within ${secs}s" >&2
			return 1
		fi
		sleep 0.2
	done
}

# now_ms: a millisecond clock for timing assertions.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# expect_fail EXIT_CODE PATTERN CMD [ARGS...]: CMD must exit with
# EXIT_CODE (or any non-zero code when EXIT_CODE is '!') and print exactly
# one line on stderr matching the extended regex PATTERN.  The line is
# left in $last_err.
expect_fail()
{
	local want=$1 pattern=$2 rc=0 lines
	shift 2

	"$@" >"$T/expect.out" 2>"$T/expect.err" || rc=$?
	last_err=$(<"$T/expect.err")
	if [ $rc -eq 0 ]; then
		echo "$0: '$*' succeeded but should have failed" >&2
		return 1
	fi
	if [ "$want" != '!' ] && [ $rc -ne "$want" ]; then
		echo "$0: '$*' exited $rc, expected $want; stderr: $last_err" >&2
		return 1
	fi
	lines=$(wc -l <"$T/expect.err")
	if [ "$lines" -ne 1 ]; then
		echo "$0: '$*' printed $lines lines on stderr, expected 1:" >&2
		cat "$T/expect.err" >&2
		return 1
	fi
	if ! grep -qE -- "$pattern" <<<"$last_err"; then
		echo "$0: '$*' stderr '$last_err' does not match '$pattern'" >&2
		return 1
	fi
}

# --- free ports -------------------------------------------------------------

# free_port_range [COUNT]: print the first port of COUNT (default 200)
# consecutive ports on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range, chosen at random and locked (a directory under
# ${TMPDIR:-/tmp}/basalt-ports) until the test exits, so that tests running
# in parallel take different ranges.
free_port_range()
{
	local count=${1:-200} lo=10000 hi eph try base lockdir owner

	eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) ||
		eph=32768
	hi=$((eph - count))
	[ "$hi" -gt "$lo" ] || hi=30000
	lockdir=${TMPDIR:-/tmp}/basalt-ports
	mkdir -p "$lockdir"
	for ((try = 0; try < 50; try++)); do
		base=$((lo + (RANDOM * 32768 + RANDOM) % ((hi - lo) / count) * count))
		if ! mkdir "$lockdir/$base" 2>/dev/null; then
			# Taken, unless its owner is gone.
			owner=$(cat "$lockdir/$base/pid" 2>/dev/null) || true
			if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
				rm -rf "${lockdir:?}/$base"
			fi
			continue
		fi
		# $$ is the test's pid, in $(...) too: _run_cleanup_hooks
		# removes the locks holding it.
		echo $$ >"$lockdir/$base/pid"
		if _ports_free "$base" "$count"; then
			echo "$base"
			return 0
		fi
		rm -rf "${lockdir:?}/$base"
	done
	echo "$0: free_port_range: no free range of $count ports found" >&2
	return 1
}

# Remove the port range locks this test holds.
_release_port_locks()
{
	local d

	for d in "${TMPDIR:-/tmp}"/basalt-ports/*; do
		[ -f "$d/pid" ] && [ "$(cat "$d/pid" 2>/dev/null)" = $$ ] &&
			rm -rf "$d"
	done
	return 0
}

# Can every port in [$1, $1 + $2) be bound on 127.0.0.1?
_ports_free()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$1" "$2" <<'EOF'
import socket, sys
base, count = int(sys.argv[1]), int(sys.argv[2])
for p in range(base, base + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
		return
	fi
	# Fallback: nothing listens (a refused connect is quick on loopback).
	local p
	for ((p = $1; p < $1 + $2; p++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			return 1
		fi
	done
}

# --- the cluster ----------------------------------------------------------

CLUSTER_DIR=
BASALT_CONF=

# cluster_start [--mons N] [--osds N] [cluster.sh start options]: start a
# local cluster in $T/cluster on a free port range and register its stop
# and log checks as cleanup.  Sets CLUSTER_DIR and BASALT_CONF.  With
# --osds N it returns once every OSD is up in the map (--osd-size SIZE,
# default 1G sparse files; --hosts H to put several OSDs on one host).
cluster_start()
{
	local base

	base=$(free_port_range 200)
	CLUSTER_DIR=$T/cluster
	BASALT_CONF=$CLUSTER_DIR/basalt.conf
	export CLUSTER_DIR BASALT_CONF
	cleanup_fn _cluster_cleanup
	"$BASALT_SRC/scripts/cluster.sh" start --dir "$CLUSTER_DIR" \
		--port-base "$base" "$@"
}

# cluster.sh on this test's cluster.
cluster_sh()
{
	local cmd=$1
	shift
	"$BASALT_SRC/scripts/cluster.sh" "$cmd" --dir "$CLUSTER_DIR" "$@"
}

# Stop every daemon (fail if one needed SIGKILL), check every log for
# sanitizer reports, and show the logs' tails if the test failed.
_cluster_cleanup()
{
	local rc=0

	[ -n "$CLUSTER_DIR" ] && [ -f "$CLUSTER_DIR/basalt.conf" ] || return 0
	cluster_sh stop --timeout 10 >&2 || rc=1
	_cluster_reap || rc=1
	_sanitizer_reports "$CLUSTER_DIR"/*.log && rc=1
	if [ "$rc" -ne 0 ] || [ "${_test_status:-0}" -ne 0 ]; then
		cluster_dump_logs
	fi
	return $rc
}

# The last word: every daemon cluster.sh ever started for this cluster
# is listed in $CLUSTER_DIR/daemons.pids ("NAME PID" per start).  SIGKILL
# any of them still alive (its command line names our basalt.conf, so a
# reused pid is left alone) and fail if there was one: 'cluster.sh stop'
# should have stopped it.
_cluster_reap()
{
	local name pid left=0

	[ -f "$CLUSTER_DIR/daemons.pids" ] || return 0
	while read -r name pid; do
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		kill -0 "$pid" 2>/dev/null || continue
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			grep -qF -- "$BASALT_CONF" || continue
		echo "$0: $name (pid $pid) still ran after 'cluster.sh stop': SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
		left=1
	done <"$CLUSTER_DIR/daemons.pids"
	return $left
}

# Print the tail of every daemon log (on failure).
cluster_dump_logs()
{
	local f

	for f in "$CLUSTER_DIR"/*.log; do
		[ -f "$f" ] || continue
		echo "=== tail -n 40 $f" >&2
		tail -n 40 "$f" >&2
	done
}

# basalt ARGS...: the CLI on this test's cluster.  Its sanitizer reports
# go to files that cleanup checks, since a command expected to fail would
# otherwise hide them.
basalt()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/cli-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/cli-ubsan" \
		"$BASALT_BIN/basalt" ${BASALT_CONF:+-c "$BASALT_CONF"} "$@"
}

# basalt_bg ARGS...: the CLI in the background, as a child of the test
# shell itself, so that $! is its pid (kill -TERM "$!" reaches it; a
# function run with '&' would be a subshell around it).
basalt_bg()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/cli-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/cli-ubsan" \
		"$BASALT_BIN/basalt" ${BASALT_CONF:+-c "$BASALT_CONF"} "$@" &
}

# mon_addr N: the messenger address of mon.N from the cluster's config.
mon_addr()
{
	awk -v sec="[mon.$1]" '
		/^[[:space:]]*\[/ { gsub(/[[:space:]]/, ""); cur = $0; next }
		cur == sec && $1 == "addr" { print $3; exit }' "$BASALT_CONF"
}

# basalt_on N ARGS...: the CLI talking to mon.N alone, whose reads come
# from mon.N's own applied state (--local: not forwarded to the leader).
basalt_on()
{
	local n=$1
	shift
	basalt --mon-host "$(mon_addr "$n")" --local "$@"
}

# osd_kill N / osd_stop N / osd_revive N: SIGKILL / SIGTERM (bounded) /
# start osd.N again on its data and wait until it is up in the map again.
osd_kill()
{
	cluster_sh kill "osd.$1"
}

osd_stop()
{
	cluster_sh stop "osd.$1"
}

osd_revive()
{
	cluster_sh revive "osd.$1"
}

# osd_add [--host NAME] [--osd-size SIZE]: format and start the next OSD;
# prints its number N (of osd.N).
osd_add()
{
	local out

	out=$(cluster_sh add-osd "$@") || return 1
	out=$(tail -n 1 <<<"$out")
	echo "${out#osd.}"
}

# osd_pid N: the pid of osd.N (fails if it is not running).
osd_pid()
{
	cat "$CLUSTER_DIR/osd.$1.pid"
}

# osd_addr N: the address osd.N listens on (written when it started).
osd_addr()
{
	cat "$CLUSTER_DIR/osd.$1.addr"
}

# osds_up: the number of OSDs up in the map.
osds_up()
{
	basalt osd ls --format json | jq '[.[] | select(.up)] | length'
}

# volume_setup POOL/NAME SIZE [pool create options]: create the pool
# (default --size 3 --pg-num 32 when no option is given) unless it exists,
# then the volume.
volume_setup()
{
	local spec=$1 size=$2 pool=${1%%/*}
	shift 2

	if ! basalt pool ls --format json |
		jq -e --arg p "$pool" 'any(.[]; .name == $p)' >/dev/null; then
		if [ $# -eq 0 ]; then
			set -- --size 3 --pg-num 32
		fi
		basalt pool create "$pool" "$@" >/dev/null
	fi
	basalt volume create "$spec" --size "$size" >/dev/null
}

# The object size of volume POOL/NAME (from the mons' directory alone).
_object_size()
{
	basalt volume ls "${1%%/*}" --format json |
		jq -e --arg n "${1#*/}" '.[] | select(.name == $n) | .object_size'
}

# pg_primary POOL/NAME OBJNO: the N of osd.N, primary of the PG holding
# object OBJNO of the volume (from 'basalt object locate'); fails when the
# PG has no primary up.
pg_primary()
{
	local osize p

	osize=$(_object_size "$1") || return 1
	p=$(basalt object locate "$1" $(($2 * osize)) --format json |
		jq -e '.primary // empty') || return 1
	[ -n "$p" ] || return 1
	echo "$p"
}

# pg_acting POOL/NAME OBJNO: the acting set of that object's PG, one OSD
# number per line.
pg_acting()
{
	local osize

	osize=$(_object_size "$1") || return 1
	basalt object locate "$1" $(($2 * osize)) --format json |
		jq -e '.acting[]'
}

mon_kill()
{
	cluster_sh kill "mon.$1"
}

mon_stop()
{
	cluster_sh stop "mon.$1"
}

mon_revive()
{
	cluster_sh revive "mon.$1"
}

# mon_pid N: the pid of mon.N (fails if it is not running).
mon_pid()
{
	cat "$CLUSTER_DIR/mon.$1.pid"
}

# shellcheck disable=SC2120 # ARGS are optional
# status_json [ARGS]: 'basalt status --format json' (ARGS go before it,
# e.g. --mon-host ADDR).
status_json()
{
	basalt "$@" status --format json
}

# mon_leader: the number N of the current leader mon.N, or fail.
mon_leader()
{
	local l

	l=$(status_json | jq -r '.mons.leader // empty') || return 1
	[ -n "$l" ] || return 1
	echo "${l#mon.}"
}

# cluster_healthy: status answers HEALTH_OK and every PG is active+clean
# (true without pools).  Use it under wait_for.
cluster_healthy()
{
	status_json >"$T/healthy.json" 2>/dev/null || return 1
	jq -e '.health == "HEALTH_OK" and
		(.pgs.total // 0) == (.pgs.states["active+clean"] // 0)' \
		"$T/healthy.json" >/dev/null
}

# mons_in_quorum [N]: a leader is elected and N mons (default: every one)
# are in its quorum, whatever the OSDs and PGs say (a cluster with pools
# and no OSD is HEALTH_WARN).
mons_in_quorum()
{
	status_json >"$T/quorum.json" 2>/dev/null || return 1
	jq -e --argjson n "${1:-0}" '.mons.leader != null and
		(.mons.quorum | length) ==
		(if $n > 0 then $n else .mons.total end)' \
		"$T/quorum.json" >/dev/null
}

# health_has CODE: status lists the health check CODE (e.g. OSD_DOWN).
health_has()
{
	status_json | jq -e --arg c "$1" \
		'any(.health_checks[]; .code == $c)' >/dev/null
}

# osd_state N: "up in", "down out" ... of osd.N in the map, or "absent".
osd_state()
{
	basalt osd ls --format json | jq -r --argjson n "$1" '
		(map(select(.id == $n)) | first) as $o |
		if $o == null then "absent" else
		(if $o.up then "up" else "down" end) + " " +
		(if $o.in then "in" else "out" end) end'
}

# pgs_in_state STATE: how many PGs have every flag of STATE (pg ls).
pgs_in_state()
{
	basalt pg ls --state "$1" --format json | jq length
}

# osd_is_down N / osd_is_out N: osd.N is down / out in the map (for
# wait_for).
osd_is_down()
{
	basalt osd ls --format json |
		jq -e --argjson id "$1" '.[] | select(.id == $id) | .up == false' \
			>/dev/null
}

osd_is_out()
{
	basalt osd ls --format json |
		jq -e --argjson id "$1" '.[] | select(.id == $id) | .in == false' \
			>/dev/null
}

# --- straight to the OSDs: basalt-osd-tool ----------------------------------

# Seconds each basalt-osd-tool call may take (a test may raise it).
osd_tool_timeout=30

# osd_tool CMD [ARGS...]: basalt-osd-tool CMD on this test's cluster.
osd_tool()
{
	local cmd=$1
	shift
	"$BASALT_BIN/basalt-osd-tool" "$cmd" -c "$BASALT_CONF" \
		--timeout "$osd_tool_timeout" "$@"
}

# pgs_clean POOL: every PG of POOL is active+clean at its primary (asked
# of the primaries, not the mons); the states are left in $T/pgs.
pgs_clean()
{
	osd_tool pg-states --pool "$1" --expect-clean >"$T/pgs" 2>&1
}

# osd_objects N: how many objects osd.N holds (its statfs).
osd_objects()
{
	osd_tool statfs --osd "$(osd_addr "$1")" | awk '{ print $7 }'
}

# osds_same_objects N...: every OSD named holds the same number of objects
# (as size 3 on three OSDs must); prints that number.
osds_same_objects()
{
	local n counts

	counts=$(for n in "$@"; do osd_objects "$n" || exit 1; done) ||
		return 1
	echo "objects on osd $*: ${counts//$'\n'/ }" >&2
	[ "$(sort -u <<<"$counts" | wc -l)" -eq 1 ] || return 1
	head -n 1 <<<"$counts"
}

# osd_tool_fill POOL VOL SIZE: write SIZE (e.g. 16M) random bytes to
# volume number VOL of POOL in 1 MiB objects, straight to the OSDs (the
# mons' volume directory is not involved); the data is kept in
# $T/fill.POOL.VOL for osd_tool_check.
osd_tool_fill()
{
	local f=$T/fill.$1.$2

	head -c "$3" /dev/urandom >"$f" || return 1
	osd_tool write --pool "$1" --volume "$2" --object-size 1M "$f"
}

# osd_tool_check POOL VOL [COPIES]: what osd_tool_fill wrote reads back
# byte for byte; with COPIES, every object also has COPIES copies at one
# version.
osd_tool_check()
{
	local f=$T/fill.$1.$2 size

	size=$(stat -c %s "$f") || return 1
	if [ $# -ge 3 ]; then
		osd_tool verify --pool "$1" --volume "$2" --object-size 1M \
			--size "$size" --copies "$3" || return 1
	fi
	osd_tool read --pool "$1" --volume "$2" --object-size 1M \
		--size "$size" "$f.back" || return 1
	cmp "$f" "$f.back"
}

# flip_bytes FILE OFFSET: invert the 64 bytes of FILE at OFFSET.
flip_bytes()
{
	python3 - "$1" "$2" <<'PYEOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(64)
    if len(b) != 64:
        sys.exit("flip_bytes: short read at %d" % off)
    f.seek(off)
    f.write(bytes(x ^ 0xff for x in b))
PYEOF
}

# corrupt_copy POOL VOL OBJNO K: flip 64 bytes of the K-th copy (1: the
# primary's) of object OBJNO of volume number VOL (1 MiB objects) on its
# OSD's disk, found through the store's metadata (basalt-osd-tool locate;
# needs python3).  Sets corrupt_pg (the PG number in the pool) and
# corrupt_osd (osd.N).
corrupt_copy()
{
	local loc=$T/locate.$1.$2.$3 who off

	osd_tool locate --pool "$1" --volume "$2" --object-size 1M \
		--offset $(($3 << 20)) >"$loc" || return 1
	cat "$loc" >&2
	corrupt_pg=$(awk '$1 == "pg" { print $2 }' "$loc")
	read -r who off < <(grep '^osd\.' "$loc" | sed -n "$4p") || true
	if [ -z "$corrupt_pg" ] || [ -z "$who" ] || [ "$off" = hole ]; then
		echo "$0: corrupt_copy: no copy $4 of object $3 to corrupt" >&2
		return 1
	fi
	flip_bytes "$CLUSTER_DIR/$who.data" "$off" || return 1
	# shellcheck disable=SC2034 # for the test
	corrupt_osd=$who
}

# --- the crash writer ---------------------------------------------------------
# basalt_crash_writer keeps writes in flight through libbasalt and logs
# (with fsync) each one the library acknowledged to $writer_log ("A ..."
# lines); verify reads every acknowledged write back.  One writer at a
# time; cleanup kills it and fails the test on its sanitizer reports.

writer_log=$T/acked.log
writer_pid=
_writer_hooks=

# writer_start POOL/NAME [write options, e.g. --depth 16]: start a writer
# on the volume (default --depth 8), a direct child so that $writer_pid
# is its own pid.  Its output goes to $T/writer.out.
writer_start()
{
	local spec=$1
	shift

	if [ -z "$_writer_hooks" ]; then
		# last registered, first run: kill, then look for reports
		cleanup_fn _writer_check_reports
		cleanup_fn writer_kill
		_writer_hooks=1
	fi
	[ $# -gt 0 ] || set -- --depth 8
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
		"$BASALT_BIN/basalt_crash_writer" write -c "$BASALT_CONF" \
		--log "$writer_log" "$@" "$spec" >>"$T/writer.out" 2>&1 &
	writer_pid=$!
}

# writer_running: the writer still runs (it exits on a failed write).
writer_running()
{
	[ -n "$writer_pid" ] && kill -0 "$writer_pid"
}

# writer_finish: SIGTERM the writer, which drains its writes; fails
# unless it exits 0 (no write failed).
writer_finish()
{
	local pid=$writer_pid

	[ -n "$pid" ] || return 1
	writer_pid=
	kill -TERM "$pid" || return 1
	wait "$pid"
}

# writer_kill: kill -9 the writer (if any) mid-load.
writer_kill()
{
	[ -n "$writer_pid" ] || return 0
	kill -KILL "$writer_pid" 2>/dev/null || true
	wait "$writer_pid" 2>/dev/null || true
	writer_pid=
}

# writer_verify POOL/NAME: every write in $writer_log reads back.
writer_verify()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/writer-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/writer-ubsan" \
		timeout -k 10 120 "$BASALT_BIN/basalt_crash_writer" verify \
		-c "$BASALT_CONF" --log "$writer_log" "$1"
}

# writer_acks: how many writes were acknowledged so far.
writer_acks()
{
	local n

	n=$(grep -c '^A ' "$writer_log" 2>/dev/null)
	echo "${n:-0}"
}

# writer_acks_past N: more than N writes acknowledged so far.
writer_acks_past()
{
	[ "$(writer_acks)" -gt "$1" ]
}

# writer_progress N [SECS]: wait (at most SECS, default 60) until N more
# writes than now are acknowledged.
writer_progress()
{
	wait_for "${2:-60}" writer_acks_past $(($(writer_acks) + $1))
}

_writer_check_reports()
{
	cat "$T/writer.out" >&2 2>/dev/null || true
	! _sanitizer_reports "$T"/writer-asan.* "$T"/writer-ubsan.*
}
