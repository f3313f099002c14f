#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The mons' handling of OSD failures, with real basalt-osd daemons: an OSD
# killed with SIGKILL is marked down within osd_heartbeat_grace, out
# after mon_osd_down_out_interval (its data is copied elsewhere: healthy
# again), up and in once it runs again.  The operator's marks: 'osd down'
# (a running OSD boots again), 'osd out' (kept across a restart) and 'osd
# in'.  'osd rm' refuses an up, an in, or a needed OSD ('--force' only
# with '--yes-i-really-mean-it'), then removes it; 'osd add' and
# 'cluster.sh add-osd' reuse the lowest free id.  The death of the leader
# mon marks no OSD down.  The data reads back the same at the end.
# ctest-timeout: 240
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

grace_ms=2000
out_ms=5000
cluster_start --mons 3 --osds 3 --osd-size 256M \
	--set osd_heartbeat_interval=200ms --set osd_heartbeat_grace=2s \
	--set mon_osd_down_out_interval=5s

basalt pool create rbd --size 2 --pg-num 16
head -c $((12 << 20)) /dev/urandom >"$T/src"
basalt volume import "$T/src" rbd/v --object-size 1M
wait_for 60 cluster_healthy
same_data()
{
	basalt volume export rbd/v - | cmp "$T/src" -
}
same_data

osd_is()
{
	[ "$(osd_state "$1")" = "$2" ]
}
# rbd_clean: every PG of pool rbd is active+clean.
rbd_clean()
{
	basalt pg ls --pool rbd --format json |
		jq -e 'length == 16 and all(.[]; .state == "active+clean")' \
		>/dev/null
}
mon_logs_have()
{
	cat "$CLUSTER_DIR"/mon.*.log | grep -qE -- "$1"
}

# --- SIGKILL: down within the grace, out after the interval -----------
t0=$(now_ms)
osd_kill 2
wait_for 10 osd_is 2 "down in"
dt=$(($(now_ms) - t0))
echo "osd.2 marked down $dt ms after SIGKILL"
test "$dt" -le $((grace_ms + 3000))
mon_logs_have 'marking osd\.2 down: '
status_json >"$T/st.json"
jq -e '.health == "HEALTH_WARN" and .osds == {"total": 3, "up": 2, "in": 3}
	and any(.health_checks[]; .code == "OSD_DOWN" and
		.message == "1 osds down")' "$T/st.json"
# one copy of everything is left
same_data

t1=$(now_ms)
wait_for 20 osd_is 2 "down out"
dt=$(($(now_ms) - t0))
echo "osd.2 marked out $dt ms after SIGKILL"
test "$dt" -ge $((out_ms - 1000))
mon_logs_have 'marking osd\.2 out: down for'
# Its PGs are rebuilt on the other two: healthy without it.
wait_for 60 cluster_healthy
status_json | jq -e '.osds == {"total": 3, "up": 2, "in": 2}'
same_data

# It runs again: up, and in again (the out was automatic).
osd_revive 2
wait_for 10 osd_is 2 "up in"
wait_for 60 cluster_healthy

# --- the operator's marks ---------------------------------------------
# osd down on a running OSD: it finds itself down and boots again.
from=$(basalt osd ls --format json | jq '.[1].up_from')
basalt osd down 1 | grep -q '^osd\.1 marked down'
rebooted()
{
	basalt osd ls --format json |
		jq -e --argjson f "$from" '.[1].up and .[1].up_from > $f' \
		>/dev/null
}
wait_for 20 rebooted
# osd out is kept across a restart, until osd in.
basalt osd out 1 --format json |
	jq -e '.osd == 1 and .name == "osd.1" and .epoch > 0'
osd_is 1 "up out"
osd_stop 1
osd_revive 1
osd_is 1 "up out"
wait_for 60 cluster_healthy
no_pgs_on()
{
	basalt pg ls --osd "$1" --format json | jq -e 'length == 0' >/dev/null
}
wait_for 10 no_pgs_on 1
basalt osd in 1 | grep -q '^osd\.1 marked in'
osd_is 1 "up in"
wait_for 60 cluster_healthy
same_data

# --- osd rm: what it refuses, then the removal -------------------------
expect_fail 1 "^basalt: osd\.2 is up: stop it first$" basalt osd rm 2
osd_stop 2
wait_for 10 osd_is 2 "down in"
expect_fail 1 "^basalt: osd\.2 is in: mark it out first \('basalt osd out 2'\) and wait until every pg is active\+clean$" \
	basalt osd rm 2
expect_fail 1 "^basalt: removing osd\.2 with --force may lose the only copy of some data: repeat with --yes-i-really-mean-it$" \
	basalt osd rm 2 --force
basalt osd out 2
wait_for 60 rbd_clean
# A pool of size 3 cannot be clean on two OSDs: nothing may go then.
basalt pool create three --size 3 --pg-num 8
three_undersized()
{
	basalt pg ls --pool three --state active+undersized --format json |
		jq -e 'length == 8' >/dev/null
}
wait_for 30 three_undersized
expect_fail 1 "^basalt: osd\.2 may hold the only copy of some data: pg 2\.[0-7] is active\+undersized\+degraded; wait until every pg is active\+clean, or use --force" \
	basalt osd rm 2
# --force does it anyway: on an OSD that never held anything.
test "$(basalt osd add --id 9)" = 9
osd_is 9 "down out"
expect_fail 1 "^basalt: osd\.9 may hold the only copy" basalt osd rm 9
basalt osd rm 9 --force --yes-i-really-mean-it | grep -qx 'osd\.9 removed'
osd_is 9 absent
basalt pool rm three --yes-i-really-mean-it
wait_for 60 cluster_healthy
basalt osd rm 2 | grep -qx 'osd\.2 removed'
osd_is 2 absent
status_json | jq -e '.osds == {"total": 2, "up": 2, "in": 2}'
expect_fail 1 "^basalt: osd\.2 does not exist \(see 'basalt osd ls'\)$" \
	basalt osd rm 2
same_data

# --- osd add: the lowest free id -------------------------------------
test "$(basalt osd add)" = 2
osd_is 2 "down out"
basalt osd ls --format json | jq -e '.[2].weight == 0 and .[2].addr == null'
expect_fail 1 "^basalt: osd\.2 already exists$" basalt osd add --id 2
basalt osd rm 2 | grep -qx 'osd\.2 removed'
# cluster.sh add-osd asks for the id, and starts osd.2 afresh.
test "$(osd_add)" = 2
osd_is 2 "up in"
# formatted again: a new, empty disk
test "$(grep -c 'cluster.sh: formatting osd.2' "$CLUSTER_DIR/osd.2.log")" -eq 2
wait_for 60 cluster_healthy
same_data

# --- the leader mon dies: no OSD is marked down -----------------------
epoch=$(status_json | jq .epoch)
marks=$(cat "$CLUSTER_DIR"/mon.*.log | grep -c 'marking osd' || true)
old=$(mon_leader)
mon_kill "$old"
new_leader()
{
	local l

	l=$(mon_leader) && [ "$l" != "$old" ]
}
wait_for 20 new_leader
# The new leader gives each OSD a whole grace, then judges by the
# beacons that reach it: wait two graces, and nothing must have changed.
sleep $((2 * grace_ms / 1000))
status_json >"$T/st.json"
jq -e --argjson e "$epoch" '.epoch == $e and
	.osds == {"total": 3, "up": 3, "in": 3}' "$T/st.json"
test "$(cat "$CLUSTER_DIR"/mon.*.log | grep -c 'marking osd' || true)" -eq "$marks"
mon_revive "$old"
wait_for 30 mons_in_quorum 3
wait_for 60 cluster_healthy
test "$(status_json | jq .epoch)" -eq "$epoch"
same_data
