#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/cluster.sh with OSDs: 'start --osds 4 --hosts 2' formats and
# starts four OSDs spread over two hosts and returns once all are up in
# the map; add-osd adds a fifth on its own host; kill and revive restart
# one on its data (a new boot); stop marks one down cleanly; a second
# 'start' brings the whole cluster back without formatting again.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 4 --hosts 2 --osd-size 64M
base=$(mon_addr 0)
base=${base##*:}

# Returned with every OSD up; hosts alternate; ports from base + 100.
basalt osd ls --format json >"$T/ls.json"
jq -e 'length == 4 and all(.[]; .up and .in) and
	(map(.host) == ["host-0", "host-1", "host-0", "host-1"])' "$T/ls.json"
for n in 0 1 2 3; do
	test "$(osd_addr "$n")" = "127.0.0.1:$((base + 100 + n))"
	test "$(jq -r ".[$n].addr" "$T/ls.json")" = "$(osd_addr "$n")"
	test -f "$CLUSTER_DIR/osd.$n.data"
	test -d "$CLUSTER_DIR/osd.$n.meta"
	test "$(stat -c %s "$CLUSTER_DIR/osd.$n.data")" -eq $((64 << 20))
	kill -0 "$(osd_pid "$n")"
done
# Every OSD was formatted once.
test "$(cat "$CLUSTER_DIR"/osd.*.log | grep -c 'cluster.sh: formatting')" -eq 4

# A pool over the two hosts works: 2 copies on distinct hosts.
volume_setup rbd/v 16M --size 2 --pg-num 16
head -c $((16 << 20)) /dev/urandom >"$T/data"
basalt volume import "$T/data" rbd/w
for objnum in 0 1 2 3; do
	hosts=$(for o in $(pg_acting rbd/w "$objnum"); do
		jq -r ".[$o].host" "$T/ls.json"
	done | sort -u | wc -l)
	test "$hosts" -eq 2
done

# add-osd: the next id, on its own host, up when it returns.
n=$(osd_add)
test "$n" = 4
basalt osd ls --format json | jq -e '.[4] | .id == 4 and .host == "host-4" and .up and .in'
test "$(osd_addr 4)" = "127.0.0.1:$((base + 104))"
grep -q '^\[osd\.4\]$' "$BASALT_CONF"

# kill -9 and revive: a new process and a new boot (newer up_from).
old_pid=$(osd_pid 1)
old_from=$(basalt osd ls --format json | jq '.[1].up_from')
osd_kill 1
! kill -0 "$old_pid" 2>/dev/null
test ! -f "$CLUSTER_DIR/osd.1.pid"
osd_revive 1
test "$(osd_pid 1)" != "$old_pid"
basalt osd ls --format json |
	jq -e --argjson f "$old_from" '.[1].up and .[1].up_from > $f'
basalt volume export rbd/w - | cmp "$T/data" -

# stop (SIGTERM) ends it cleanly; the mons learn it is down.
osd_stop 3
test ! -f "$CLUSTER_DIR/osd.3.pid"
osd3_down()
{
	basalt osd ls --format json | jq -e '.[3].up == false' >/dev/null
}
wait_for 30 osd3_down

# stop everything, start again: same config, no mkfs, all up.
cp "$BASALT_CONF" "$T/conf.before"
cluster_sh stop
for n in 0 1 2 3 4; do
	test ! -f "$CLUSTER_DIR/osd.$n.pid"
done
cluster_sh start
cmp "$BASALT_CONF" "$T/conf.before"
test "$(cat "$CLUSTER_DIR"/osd.*.log | grep -c 'cluster.sh: formatting')" -eq 5
test "$(osds_up)" -eq 5
basalt volume export rbd/w - | cmp "$T/data" -

# Bad arguments are refused before anything starts.
expect_fail 1 "'--hosts': '0' must be a number from 1" \
	"$BASALT_SRC/scripts/cluster.sh" start --dir "$T/other" --osds 2 --hosts 0
expect_fail 1 "no daemon 'osd.9'" cluster_sh kill osd.9
