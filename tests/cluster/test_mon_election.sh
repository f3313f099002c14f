#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three mons elect exactly one leader; the other two follow it in the
# same term; every mon, asked alone, names that leader; health is OK.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 cluster_healthy

basalt mon ls --format json >"$T/mons.json"
cat "$T/mons.json"
test "$(jq length "$T/mons.json")" -eq 3
test "$(jq '[.[] | select(.state == "leader")] | length' "$T/mons.json")" -eq 1
test "$(jq '[.[] | select(.state == "follower")] | length' "$T/mons.json")" -eq 2
test "$(jq '[.[] | select(.in_quorum)] | length' "$T/mons.json")" -eq 3
test "$(jq -r '[.[].name] | sort | join(",")' "$T/mons.json")" = \
	mon.0,mon.1,mon.2
leader=$(jq -r '.[] | select(.state == "leader") | .name' "$T/mons.json")
# Every mon follows that leader, in one term.
test "$(jq -r '[.[].leader] | unique | join(",")' "$T/mons.json")" = "$leader"
test "$(jq '[.[].term] | unique | length' "$T/mons.json")" -eq 1
test "$(jq '.[0].term' "$T/mons.json")" -ge 1

status_json >"$T/status.json"
cat "$T/status.json"
jq -e --arg l "$leader" '
	.health == "HEALTH_OK" and .checks == [] and .epoch >= 1 and
	.mons.leader == $l and .mons.total == 3 and .mons.down == [] and
	(.mons.quorum | sort) == ["mon.0", "mon.1", "mon.2"] and
	.osds == {"total": 0, "up": 0, "in": 0} and
	.pools == 0 and .volumes == 0 and .health_checks == [] and
	.pgs.total == 0 and .pgs.states == {} and .from_leader and
	.answered_by == $l' "$T/status.json"

# Each mon, asked alone, agrees.
for n in 0 1 2; do
	test "$(basalt_on $n status --format json | jq -r .mons.leader)" = \
		"$leader"
done

# The tables for people say the same.
basalt mon ls >"$T/mons.txt"
cat "$T/mons.txt"
head -n 1 "$T/mons.txt" | grep -q '^NAME  *ADDR  *STATE  *QUORUM  *LEADER'
test "$(grep -c ' leader  *yes ' "$T/mons.txt")" -eq 1
test "$(grep -c ' follower  *yes ' "$T/mons.txt")" -eq 2
basalt status >"$T/status.txt"
cat "$T/status.txt"
grep -q '^health: *HEALTH_OK$' "$T/status.txt"
grep -q "leader $leader " "$T/status.txt"
