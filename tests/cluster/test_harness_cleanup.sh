#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test harness itself (tests/functions.sh): a test that hangs past
# its "# ctest-timeout" is stopped by the watchdog a little before ctest
# would SIGKILL it, so that its cleanup runs and no daemon outlives it;
# and a daemon whose pid file was lost is still stopped, by the pid
# cluster.sh recorded when it started it, failing the test.
# ctest-timeout: 90
source "$(dirname "$0")/../functions.sh"
set -e -x

# child NAME BODY: a test script $T/NAME.sh that starts a one-mon
# cluster, records what the parent checks in $OUT, then runs BODY.
child()
{
	cat >"$T/$1.sh" <<EOF
#!/usr/bin/env bash
# ctest-timeout: 15
source "\$BASALT_SRC/tests/functions.sh"
set -e
cluster_start --mons 1 >/dev/null
cat "\$CLUSTER_DIR/mon.0.pid" >"\$OUT/mon.pid"
$2
EOF
}

# run_child NAME: run it; its exit status, stderr and duration in $OUT.
run_child()
{
	local start rc=0

	OUT=$T/$1.out
	mkdir -p "$OUT"
	start=$(now_ms)
	OUT=$OUT timeout 60 bash "$T/$1.sh" >"$OUT/stdout" 2>"$OUT/stderr" ||
		rc=$?
	echo "$rc" >"$OUT/rc"
	echo $(($(now_ms) - start)) >"$OUT/ms"
	cat "$OUT/stderr" >&2
}

# alive PID: the process runs (a zombie, not reaped yet, has stopped).
alive()
{
	local state

	state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' \
		"/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# gone PID: it does not run (a plain command, so that set -e sees it).
gone()
{
	! alive "$1"
}

# --- a hung test: stopped by the watchdog, cleaned up -----------------
child hung 'sleep 100
echo reached >"$OUT/reached"'
run_child hung
OUT=$T/hung.out
test "$(cat "$OUT/rc")" -eq 143
# 15 s timeout: the watchdog fires at 12 s, well before 15
ms=$(cat "$OUT/ms")
test "$ms" -ge 11000 && test "$ms" -lt 15000
test ! -e "$OUT/reached"
grep -q 'watchdog: the test still ran after 12s, close to its ctest timeout of 15s' \
	"$OUT/stderr"
grep -q 'cluster.sh: stopped mon.0' "$OUT/stderr"
pid=$(cat "$OUT/mon.pid")
gone "$pid"

# --- a lost pid file: the daemon is stopped anyway, the test fails ----
child lost 'rm "$CLUSTER_DIR/mon.0.pid"'
run_child lost
OUT=$T/lost.out
test "$(cat "$OUT/rc")" -eq 1
grep -q 'mon.0 (pid [0-9]*) still runs without its pid file: stopping it' \
	"$OUT/stderr"
pid=$(cat "$OUT/mon.pid")
gone "$pid"

# --- a test that passes: exit 0, no watchdog, nothing left ------------
child fine 'basalt status >/dev/null'
run_child fine
OUT=$T/fine.out
test "$(cat "$OUT/rc")" -eq 0
test "$(cat "$OUT/ms")" -lt 11000
test "$(grep -c watchdog "$OUT/stderr")" -eq 0
pid=$(cat "$OUT/mon.pid")
gone "$pid"
