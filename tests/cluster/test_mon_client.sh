#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The mon client against real mons: a request goes past dead mons (a
# port nobody listens on, then the killed leader too) to a live one; a
# follower forwards changes and relays the leader's refusals; a map
# subscription ('basalt watch') sees every epoch once, in order, across
# the death of the leader, and stops cleanly on SIGTERM.
# ctest-timeout: 150
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 mons_in_quorum 3

base=$(mon_addr 0)
base=${base##*:}
# In this test's locked port range, and nobody listens there.
dead=127.0.0.1:$((base + 150))
all="$(mon_addr 0),$(mon_addr 1),$(mon_addr 2)"

# --- the subscriber --------------------------------------------------
watch_pid=
stop_watch()
{
	[ -n "$watch_pid" ] || return 0
	kill -TERM "$watch_pid" 2>/dev/null
	wait "$watch_pid"
}
cleanup_fn stop_watch
basalt_bg watch --format json --seconds 120 >"$T/watch.json" \
	2>"$T/watch.err"
watch_pid=$!

# The epochs the watcher printed, as a JSON array.
watched()
{
	jq -s -c 'map(.epoch)' "$T/watch.json" 2>/dev/null
}
# saw EPOCH: the watcher printed that epoch.
saw()
{
	watched | jq -e --argjson e "$1" 'index($e) != null' >/dev/null
}
epoch()
{
	status_json | jq .epoch
}

e0=$(epoch)
wait_for 10 saw "$e0"

# --- past a dead address ---------------------------------------------
start=$(now_ms)
basalt -m "$dead,$all" pool create p1 --size 2
test $(($(now_ms) - start)) -lt 8000
test "$(epoch)" -eq $((e0 + 1))
wait_for 10 saw $((e0 + 1))

# --- a follower forwards, and relays the leader's answers ------------
leader=$(mon_leader)
follower=$(((leader + 1) % 3))
expect_fail 1 "^basalt: pool 'p1' already exists$" \
	basalt -m "$(mon_addr $follower)" pool create p1 --size 2
basalt -m "$(mon_addr $follower)" pool create p2 --size 2
test "$(epoch)" -eq $((e0 + 2))
wait_for 10 saw $((e0 + 2))
expect_fail 1 "^basalt: pool 'nope' does not exist \(see 'basalt pool ls'\)$" \
	basalt -m "$(mon_addr $follower)" pool rm nope --yes-i-really-mean-it

# --- the leader dies: past two dead mons, and the watch goes on -------
mon_kill "$leader"
new_leader()
{
	local l

	l=$(mon_leader) && [ "$l" != "$leader" ]
}
wait_for 20 new_leader
others=
for n in 0 1 2; do
	[ "$n" = "$leader" ] || others+=",$(mon_addr $n)"
done
start=$(now_ms)
basalt -m "$dead,$(mon_addr "$leader")$others" pool create p3 --size 2
echo "p3 created in $(($(now_ms) - start)) ms"
test $(($(now_ms) - start)) -lt 8000
new_epoch=$(epoch)
test "$new_epoch" -eq $((e0 + 3))
wait_for 15 saw "$new_epoch"
mon_revive "$leader"
wait_for 30 mons_in_quorum 3
basalt pool rm p1 --yes-i-really-mean-it
wait_for 10 saw $((e0 + 4))

# Every epoch once, in order; the last one is the map's.
watched | jq -e --argjson a "$e0" --argjson b $((e0 + 4)) \
	'. == [range($a; $b + 1)]'
jq -s -e 'last | .pools == ["p2", "p3"] and .osds.total == 0' \
	"$T/watch.json"

# SIGTERM: a clean stop, exit 0, nothing on stderr.
kill -TERM "$watch_pid"
start=$(now_ms)
wait "$watch_pid"
watch_pid=
test $(($(now_ms) - start)) -lt 3000
test ! -s "$T/watch.err"

# --count 1: the current map, at once.  A follower learns that the last
# change committed with the leader's next heartbeat, so the mon that
# answers may still be one epoch behind for a moment.
watch_one_current()
{
	basalt watch --count 1 --format json >"$T/one.json" &&
		jq -s -e --argjson e $((e0 + 4)) \
			'length == 1 and .[0].epoch == $e' "$T/one.json"
}
wait_for 5 watch_one_current
wait_for 5 eval 'basalt watch --count 1 | grep -E "epoch $((e0 + 4)): 0 osds \(0 up, 0 in\), 2 pools$"'
