#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every pool and volume survives a restart of all three mons: first a
# clean one (SIGTERM), then kill -9 of all three at once.  Ids go on
# from where they were, never reused.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 cluster_healthy

# The last pool and the last volume made are removed again: their ids
# must not come back after the restarts.
basalt pool create rbd --size 3 --pg-num 16
basalt pool create ssd --size 2 --failure-domain osd
basalt pool create tmp --size 1
tmp_id=$(basalt pool ls --format json | jq '.[] | select(.name == "tmp") | .id')
basalt pool rm tmp --yes-i-really-mean-it
basalt volume create rbd/a --size 1G
basalt volume create ssd/c --size 3G --object-size 64K
basalt volume create rbd/b --size 2G
b_id=$(basalt volume info rbd/b --format json | jq .id)
basalt volume resize rbd/a --size 4G
basalt volume rm rbd/b

snapshot()
{
	basalt pool ls --format json >"$T/pools.$1"
	basalt volume ls --format json >"$T/volumes.$1"
	status_json | jq '{epoch, pools, volumes}' >"$T/counts.$1"
}
same_as_before()
{
	snapshot after && cmp "$T/pools.before" "$T/pools.after" &&
		cmp "$T/volumes.before" "$T/volumes.after" &&
		cmp "$T/counts.before" "$T/counts.after"
}
snapshot before
cat "$T/pools.before" "$T/volumes.before" "$T/counts.before"
test "$(jq -c 'map(.name)' "$T/pools.before")" = '["rbd","ssd"]'
test "$(jq -c 'map([.name, .size])' "$T/volumes.before")" = \
	'[["a",4294967296],["c",3221225472]]'

# A clean restart: every mon must stop on SIGTERM.
cluster_sh stop
cluster_sh start
wait_for 30 mons_in_quorum 3
wait_for 20 same_as_before

# kill -9 all three: nothing acknowledged is lost.
for n in 0 1 2; do
	mon_kill $n
done
cluster_sh start
wait_for 30 mons_in_quorum 3
wait_for 20 same_as_before

# Every mon alone has it all, once it has learnt from the new leader
# how far the log is committed.
mon_has_all()
{
	[ "$(basalt_on "$1" volume ls --format json |
		jq -c 'map([.pool, .name, .size])')" = \
		'[["rbd","a",4294967296],["ssd","c",3221225472]]' ] &&
	[ "$(basalt_on "$1" pool ls --format json | jq -c 'map(.name)')" = \
		'["rbd","ssd"]' ]
}
for n in 0 1 2; do
	wait_for 10 mon_has_all $n
done

# Ids are not reused after a restart.
basalt pool create new --size 2
basalt volume create rbd/d --size 1G
test "$(basalt pool ls --format json |
	jq '.[] | select(.name == "new") | .id')" -gt "$tmp_id"
test "$(basalt volume info rbd/d --format json | jq .id)" -gt "$b_id"
