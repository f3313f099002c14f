#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 the leader: the other two elect a new one within a bounded
# time, nothing committed is lost, changes go on; the old leader, revived
# on its data, catches up with what it missed.
# ctest-timeout: 150
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 cluster_healthy

basalt pool create rbd --size 3
basalt volume create rbd/before --size 1G
basalt volume resize rbd/before --size 2G
epoch=$(status_json | jq .epoch)

# Pools with $1 PGs and no OSD: HEALTH_WARN, for that reason alone.
health_only_osd_none()
{
	status_json | jq -e --argjson n "$1" '.health == "HEALTH_WARN" and
		(.health_checks | map(.code)) == ["OSD_NONE"] and
		.pgs.total == $n and .pgs.states == {"unknown": $n}' >/dev/null
}
wait_for 10 health_only_osd_none 32

old=$(mon_leader)
mon_kill "$old"

# A new leader, another mon, within the bound.
new_leader()
{
	local l

	l=$(mon_leader) && [ "$l" != "$old" ]
}
start=$(now_ms)
wait_for 20 new_leader
echo "new leader after $(($(now_ms) - start)) ms"
new=$(mon_leader)
test "$new" != "$old"

# HEALTH_WARN naming the dead mon, once the survivors settle (and the
# pool without OSDs: OSD_NONE).
warn_old_down()
{
	status_json >"$T/status.json" &&
	jq -e --arg old "mon.$old" --arg new "mon.$new" '
		.health == "HEALTH_WARN" and .mons.leader == $new and
		.mons.down == [$old] and (.mons.quorum | length) == 2 and
		(.health_checks | map(.code) | sort) == ["MON_DOWN", "OSD_NONE"] and
		(.health_checks[] | select(.code == "MON_DOWN") | .message |
			startswith($old + " is down"))
		' "$T/status.json"
}
wait_for 10 warn_old_down
cat "$T/status.json"

# Nothing committed was lost (the new leader may apply the last entries
# of the old term a moment after its election).
nothing_lost()
{
	[ "$(basalt volume info rbd/before --format json | jq .size)" = \
		2147483648 ] &&
		[ "$(status_json | jq .epoch)" -eq "$epoch" ] &&
		[ "$(basalt pool ls --format json | jq -c 'map(.name)')" = \
			'["rbd"]' ]
}
wait_for 10 nothing_lost

# Changes go on.
basalt volume create rbd/after --size 3G
basalt pool create p2 --size 2
basalt volume rm rbd/before

# The old leader comes back on its data and catches up.
mon_revive "$old"
caught_up()
{
	local pools vols

	pools=$(basalt_on "$old" pool ls --format json | jq -c 'map(.name)')
	vols=$(basalt_on "$old" volume ls --format json |
		jq -c 'map([.pool, .name, .size])')
	[ "$pools" = '["rbd","p2"]' ] &&
		[ "$vols" = '[["rbd","after",3221225472]]' ] &&
		[ "$(basalt_on "$old" status --format json | jq .epoch)" -eq \
			$((epoch + 1)) ]
}
wait_for 30 caught_up
# Every mon in quorum again; the only warning left is the pools that
# have no OSD to live on.
wait_for 30 mons_in_quorum 3
wait_for 10 health_only_osd_none 64
test "$(basalt mon ls --format json | jq '[.[] | select(.in_quorum)] | length')" -eq 3
