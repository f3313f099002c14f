#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every object of a written volume is where 'basalt object locate' says:
# on the three distinct OSDs of its acting set, as each OSD's own listing
# (BS_MSG_OSD_PG_LIST through 'basalt osd list-objects') shows, and on no
# other OSD; the primary is the first of the set.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 4
volume_setup rbd/empty 8M --size 3 --pg-num 16
# 8 objects of random data.
head -c $((32 << 20)) /dev/urandom >"$T/data"
basalt volume import "$T/data" rbd/loc
vol_id=$(basalt volume info rbd/loc --format json | jq .id)

# Each OSD's whole listing of the pool, once.
for osd in 0 1 2 3; do
	basalt osd list-objects --osd "$osd" --pool rbd --format json \
		>"$T/osd.$osd.json"
	jq -e --argjson o "$osd" '.osd == $o' "$T/osd.$osd.json"
done

for objnum in $(seq 0 7); do
	off=$((objnum * (4 << 20) + 12345))
	basalt object locate rbd/loc "$off" --format json >"$T/loc.json"
	jq -e --argjson n "$objnum" --argjson v "$vol_id" \
		'.objnum == $n and .volume_id == $v and .object_offset == 12345' \
		"$T/loc.json"
	pg=$(jq -r .pg "$T/loc.json")
	name=$(jq -r .name "$T/loc.json")
	[[ "$pg" =~ ^1\.[0-9a-f]+$ ]]
	acting=$(jq -c '.acting' "$T/loc.json")
	# Three distinct OSDs; the primary leads the set.
	jq -e '(.acting | length) == 3 and (.acting | unique | length) == 3 and
		.primary == .acting[0] and .up == .acting' "$T/loc.json"
	test "$(pg_primary rbd/loc "$objnum")" = "$(jq .primary "$T/loc.json")"

	# Who really holds it, by the OSDs' own listings.
	holders=$(for osd in 0 1 2 3; do
		jq -e --arg pg "$pg" --arg name "$name" \
			'any(.objects[]; .pg == $pg and .name == $name)' \
			"$T/osd.$osd.json" >/dev/null && echo "$osd"
	done | jq -sc 'sort')
	test "$holders" = "$(jq -c 'sort' <<<"$acting")"

	# The same seen one PG at a time, and at one version everywhere.
	versions=$(for osd in $(jq '.[]' <<<"$acting"); do
		basalt osd list-objects --osd "$osd" --pg "$pg" --format json |
			jq --arg name "$name" '.objects[] | select(.name == $name) | .version'
	done | sort -u | wc -l)
	test "$versions" -eq 1
done

# 8 objects x 3 copies, nothing else.
total=$(jq -s 'map(.objects | map(select(.volume_id == '"$vol_id"')) | length) | add' \
	"$T"/osd.*.json)
test "$total" -eq 24

# A plain listing of one PG names the object.
basalt osd list-objects --osd "$(pg_primary rbd/loc 0)" \
	--pg "$(basalt object locate rbd/loc 0 --format json | jq -r .pg)" |
	grep -q "vol\.$(printf %x "$vol_id")\.0000000000000000"
basalt object locate rbd/loc 0 | grep -E '^pg 1\.[0-9a-f]+, map epoch [0-9]+: acting \[[0-9],[0-9],[0-9]\], primary osd\.[0-9]$'
