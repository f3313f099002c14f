#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The mons' failure handling, driven by fake OSDs (basalt-mon-fake-osd):
# an OSD whose beacons stop is marked down after osd_heartbeat_grace, out
# after mon_osd_down_out_interval, and the cluster is HEALTH_OK again once
# its PGs are active+clean elsewhere; it boots back up and in; a refused
# connection reported by a peer marks an OSD down at once (it boots
# again: "wrongly marked down"); osd rm refuses an up or an in OSD and
# removes a down and out one; osd add takes the lowest free id.
# ctest-timeout: 150
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-mon-fake-osd"

cluster_start --mons 3 --set osd_heartbeat_interval=200ms \
	--set osd_heartbeat_grace=2s --set mon_osd_down_out_interval=4s

fake()
{
	"$BASALT_BIN/basalt-mon-fake-osd" "$1" -c "$BASALT_CONF" "${@:2}"
}

# st LINE...: the leader's status holds every LINE (KEY=VALUE, "check ...").
st()
{
	local l

	fake status >"$T/status" || return 1
	for l in "$@"; do
		grep -qxF -- "$l" "$T/status" || return 1
	done
}

# st_now LINE...: st, and show the status when it does not hold.
st_now()
{
	st "$@" || { cat "$T/status" >&2; return 1; }
}

fake_start()
{
	"$BASALT_BIN/basalt-mon-fake-osd" osd -c "$BASALT_CONF" --id "$1" \
		>>"$T/fake$1.log" 2>&1 &
	echo $! >"$T/fake$1.pid"
}

# fake_stop N: stop fake osd.N by its pid (SIGTERM: it exits at once
# without telling the mons, like a crash).
fake_stop()
{
	local pid

	[ -f "$T/fake$1.pid" ] || return 0
	pid=$(cat "$T/fake$1.pid")
	rm -f "$T/fake$1.pid"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

fake_kill9()
{
	local pid=$(cat "$T/fake$1.pid")

	rm -f "$T/fake$1.pid"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
}

cleanup_fn fake_stop 3
cleanup_fn fake_stop 2
cleanup_fn fake_stop 1
cleanup_fn fake_stop 0

basalt pool create rbd --size 2 --pg-num 16
for n in 0 1 2; do
	fake_start $n
done
wait_for 20 st health=HEALTH_OK up=3 in=3 pgs=16 active_clean=16
test "$(fake pgs --pool rbd | grep -c ' active+clean ')" -eq 16

# SIGKILL: beacons stop; down after the 2 s grace, not before.
t0=$(now_ms)
fake_kill9 2
wait_for 10 st up=2
dt=$(($(now_ms) - t0))
test "$dt" -ge 1500 && test "$dt" -le 6000
wait_for 2 st in=3 "check HEALTH_WARN OSD_DOWN 1 osds down"
grep -q 'osd.2 marked down: no beacon for' "$CLUSTER_DIR"/mon.*.log

# Out after 4 s down; the survivors hold every PG: healthy again.
wait_for 15 st up=2 in=2
wait_for 10 st health=HEALTH_OK active_clean=16
grep -q 'osd.2 marked out: down for' "$CLUSTER_DIR"/mon.*.log

# It comes back: up and in.
fake_start 2
wait_for 10 st health=HEALTH_OK up=3 in=3 active_clean=16

# A peer finds osd.1's port closed: down at once (osd.1 is in fact alive
# here, so it boots again by itself).
fake report --reporter 0 --target 1 --immediate
wait_for 5 grep -q 'osd.1 marked down: osd.0 found it gone (connection refused)' \
	"$CLUSTER_DIR"/mon.*.log
wait_for 10 grep -q 'booting again' "$T/fake1.log"
wait_for 10 st health=HEALTH_OK up=3 in=3

# osd rm: not while up, not while in; then it goes.
expect_fail ! 'osd.2 is up: stop it first' fake rm --id 2
fake_stop 2
wait_for 10 st up=2
expect_fail ! "osd.2 is in: mark it out first" fake rm --id 2
wait_for 15 st in=2
wait_for 10 st health=HEALTH_OK active_clean=16
fake rm --id 2 | grep -qx 'osd.2 removed'
st_now osds=2 up=2 in=2

# osd add: the lowest free id, down and out until it boots.
test "$(fake add)" -eq 2
st_now osds=3 up=2 in=2
# (a PG whose primary changed is "unknown" until the new one reports it,
# a beacon interval later: health is awaited, not sampled)
wait_for 5 st health=HEALTH_OK
fake_start 2
wait_for 10 st health=HEALTH_OK osds=3 up=3 in=3

# The leader dies: the next one starts its failure detector over (a whole
# grace for every OSD); beacons reach it through the survivors, so no OSD
# is marked down (the map epoch stays), and the dead mon is out of quorum.
wait_for 5 st health=HEALTH_OK
old=$(sed -n 's/^leader=//p' "$T/status")
epoch=$(sed -n 's/^epoch=//p' "$T/status")
mon_kill "$old"
wait_for 20 st up=3 "check HEALTH_WARN MON_DOWN mon.$old out of quorum"
sleep 3
st_now up=3 in=3 "epoch=$epoch"
mon_revive "$old"
wait_for 30 st health=HEALTH_OK up=3 "epoch=$epoch"
