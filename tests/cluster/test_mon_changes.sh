#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Changes made through the CLI (pool create/rm, volume create, resize, rm)
# are visible from every mon asked alone; pool changes move the map epoch,
# volume changes do not.  Error cases say what is wrong, on one line,
# with exit 1, and change nothing.
# ctest-timeout: 150
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
cluster_start --mons 3
wait_for 30 cluster_healthy
epoch0=$(status_json | jq .epoch)

basalt pool create rbd --size 3 --pg-num 64
basalt pool create fast --size 2 --min-size 1 --failure-domain osd
epoch1=$(status_json | jq .epoch)
test "$epoch1" -eq $((epoch0 + 2))

basalt volume create rbd/vm1 --size 10G
basalt volume create rbd/vm2 --size 1G --object-size 1M
basalt volume create fast/db --size 512M
basalt volume resize rbd/vm1 --size 20G
basalt volume rm rbd/vm2
# Volumes live in the directory: the map epoch did not move.
test "$(status_json | jq .epoch)" -eq "$epoch1"
test "$(status_json | jq .volumes)" -eq 2

want_pools='[{"name":"rbd","kind":"replicated","size":3,"min_size":2,"pg_num":64,"failure_domain":"host"},{"name":"fast","kind":"replicated","size":2,"min_size":1,"pg_num":32,"failure_domain":"osd"}]'
want_vols='[["rbd","vm1",21474836480,4194304],["fast","db",536870912,4194304]]'

# What mon.$1 alone says.
mon_sees()
{
	local pools vols

	pools=$(basalt_on "$1" pool ls --format json |
		jq -c 'map({name, kind, size, min_size, pg_num, failure_domain})')
	vols=$(basalt_on "$1" volume ls --format json |
		jq -c 'map([.pool, .name, .size, .object_size])')
	[ "$pools" = "$2" ] && [ "$vols" = "$3" ] &&
		[ "$(basalt_on "$1" status --format json | jq .epoch)" -eq "$4" ]
}

for n in 0 1 2; do
	wait_for 10 mon_sees $n "$want_pools" "$want_vols" "$epoch1"
	basalt_on $n volume info rbd/vm1 --format json >"$T/vm1.$n.json"
	jq -e '.size == 21474836480 and .objects == 5120 and .pool == "rbd"' \
		"$T/vm1.$n.json"
done
# Every mon gives the same ids.
cmp "$T/vm1.0.json" "$T/vm1.1.json"
cmp "$T/vm1.0.json" "$T/vm1.2.json"

# Tables for people.
basalt volume info rbd/vm1 | grep -q '^size: *20 GiB (21474836480 bytes)$'
basalt pool ls | grep -q '^ *1  rbd  *replicated  *3  *2  *64  *host '
basalt volume ls rbd | grep -q '^rbd  *vm1  *20 GiB  *4 MiB '
test "$(basalt volume ls rbd | wc -l)" -eq 2

# --- errors: one line on stderr, exit 1, nothing changed -------------
expect_fail 1 "^basalt: pool 'rbd' already exists" \
	basalt pool create rbd --size 2
expect_fail 1 "^basalt: volume 'rbd/vm1' already exists" \
	basalt volume create rbd/vm1 --size 1G
expect_fail 1 "^basalt: pool 'nope' does not exist \(see 'basalt pool ls'\)$" \
	basalt volume create nope/v1 --size 1G
expect_fail 1 "^basalt: pool 'nope' does not exist \(see 'basalt pool ls'\)$" \
	basalt volume ls nope
expect_fail 1 "^basalt: pool 'nope' does not exist \(see 'basalt pool ls'\)$" \
	basalt pool rm nope --yes-i-really-mean-it
expect_fail 1 "^basalt: volume 'rbd/nope' does not exist" \
	basalt volume info rbd/nope
expect_fail 1 "^basalt: volume 'rbd/nope' does not exist" \
	basalt volume rm rbd/nope
expect_fail 1 "^basalt: '--size': '10X' is not a size \(use a number with K, M, G or T\)$" \
	basalt volume create rbd/x --size 10X
expect_fail 1 "^basalt: '--size': '10X' is not a size" \
	basalt volume resize rbd/vm1 --size 10X
expect_fail 1 "^basalt: '--size': '1000' must be a positive multiple of 512 bytes$" \
	basalt volume create rbd/x --size 1000
expect_fail 1 "^basalt: shrinking volume 'rbd/vm1' from 20 GiB to 1 GiB .*--allow-shrink$" \
	basalt volume resize rbd/vm1 --size 1G
expect_fail 1 "^basalt: removing pool 'fast' cannot be undone: repeat with --yes-i-really-mean-it$" \
	basalt pool rm fast
expect_fail 1 "^basalt: .*fast.*volume" \
	basalt pool rm fast --yes-i-really-mean-it
expect_fail 1 "^basalt: .*(name|invalid)" \
	basalt pool create 'bad name' --size 3
for n in 0 1 2; do
	wait_for 10 mon_sees $n "$want_pools" "$want_vols" "$epoch1"
done

# Shrinking when asked to, then removing a pool once it is empty.
basalt volume resize rbd/vm1 --size 1G --allow-shrink
basalt volume rm fast/db
basalt pool rm fast --yes-i-really-mean-it
want_pools='[{"name":"rbd","kind":"replicated","size":3,"min_size":2,"pg_num":64,"failure_domain":"host"}]'
want_vols='[["rbd","vm1",1073741824,4194304]]'
for n in 0 1 2; do
	wait_for 10 mon_sees $n "$want_pools" "$want_vols" $((epoch1 + 1))
done
