#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two of three mons stopped: a change fails with the no-quorum error
# within a bounded time; status still answers (HEALTH_ERR) from the last
# committed map; once the two are back the same change succeeds.
# ctest-timeout: 150
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 cluster_healthy
basalt pool create rbd --size 3
basalt volume create rbd/v0 --size 1G
epoch=$(status_json | jq .epoch)
# A follower learns that an entry is committed from the leader's next
# message: wait until all three have applied v0, so that the survivor's
# view below is the whole committed state.
all_see_v0()
{
	local n

	for n in 0 1 2; do
		[ "$(basalt_on $n volume ls rbd --format json |
			jq -c 'map(.name)')" = '["v0"]' ] || return 1
	done
}
wait_for 10 all_see_v0

# Keep a follower alive, so that no leader holds the change in its log.
leader=$(mon_leader)
others=()
for n in 0 1 2; do
	[ "$n" = "$leader" ] || others+=("$n")
done
survivor=${others[0]}
mon_stop "$leader"
mon_stop "${others[1]}"

start=$(now_ms)
expect_fail 1 "^basalt: no quorum: only 1 of 3 monitors reachable; a majority \(2\) is needed" \
	basalt volume create rbd/v1 --size 1G
elapsed=$(($(now_ms) - start))
echo "no-quorum error after $elapsed ms: $last_err"
test "$elapsed" -lt 15000

expect_fail 1 "^basalt: no quorum" basalt pool create p2 --size 3

# Status still answers, quickly, from the survivor's last committed map.
start=$(now_ms)
status_json >"$T/status.json"
elapsed=$(($(now_ms) - start))
cat "$T/status.json"
test "$elapsed" -lt 10000
jq -e --argjson e "$epoch" '
	.health == "HEALTH_ERR" and .mons.leader == null and
	.mons.quorum == [] and (.mons.down | length) == 2 and
	.epoch == $e and .pools == 1 and
	(.checks | map(select(startswith("no quorum"))) | length) == 1
	' "$T/status.json"
basalt status | grep -q '^health: *HEALTH_ERR$'
# The survivor, asked alone, knows it has no quorum either.
basalt_on "$survivor" status --format json |
	jq -e '.health == "HEALTH_ERR" and .mons.leader == null'
# Reads still work.
test "$(basalt pool ls --format json | jq -c 'map(.name)')" = '["rbd"]'
test "$(basalt volume ls rbd --format json | jq -c 'map(.name)')" = '["v0"]'
test "$(basalt mon ls --format json |
	jq -r '[.[] | select(.state == "down") | .name] | sort | join(",")')" = \
	"$(printf 'mon.%s\n' "$leader" "${others[1]}" | sort | paste -sd,)"

# Back to a quorum: the change goes through.
mon_revive "$leader"
mon_revive "${others[1]}"
wait_for 30 mons_in_quorum 3
basalt volume create rbd/v1 --size 1G
test "$(basalt volume ls rbd --format json | jq -c 'map(.name)')" = '["v0","v1"]'
basalt pool create p2 --size 3
test "$(status_json | jq .epoch)" -eq $((epoch + 1))
