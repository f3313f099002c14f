#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Erasure-coded shard recovery (4+2, failure domain osd, 7 OSDs): a
# verifying writer goes on while an OSD is killed (-9) and revived; the
# shards it missed are decoded from the others and pushed to it.  Then
# an OSD is marked out: the OSDs that take its slot, and those placement
# moved to another slot, are backfilled, the writer still going.  After
# each, every acknowledged write reads back and every object has one
# shard on each OSD of its acting set, all at one version, each with the
# object's logical-size record of that version (recovery carries it).
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"

cluster_start --mons 1 --osds 7 --osd-size 256M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s \
	--set osd_recovery_bytes_per_sec=1M
basalt pool create ec --ec 4+2 --failure-domain osd --pg-num 8
basalt volume create ec/w --size 24M --object-size 1M
wait_for 60 pgs_clean ec

# pgs_active POOL: every PG of POOL is active (peered) at its primary
pgs_active()
{
	osd_tool pg-states --pool "$1" >"$T/pgs" 2>&1 || return 1
	! grep -v '^pool ' "$T/pgs" | grep -qv ' active'
}

# shards_in_place POOL: every object of POOL is held by exactly the OSDs
# of its PG's acting set, all at one version (from each OSD's listing)
shards_in_place()
{
	local osd

	basalt pg ls --pool "$1" --format json |
		jq -r '.[] | "\(.pgid) \([.acting[] | select(. != null)] |
			sort | map(tostring) | join(","))"' >"$T/acting"
	for osd in $(basalt osd ls --format json | jq -r '.[] | .id'); do
		basalt osd list-objects --osd "$osd" --pool "$1" \
			--format json 2>/dev/null |
			jq -r --arg o "$osd" \
				'.objects[] | "\(.pg) \(.name) \(.version) \($o)"'
	done | sort -k2,2 -k4,4n >"$T/held"
	[ -s "$T/held" ] || return 1
	awk 'NR == FNR { want[$1] = $2; next }
	     $2 != name { if (name != "") check(); name = $2; pg = $1;
			  osds = $4; ver = $3; split_ver = 0; next }
	     { osds = osds "," $4; if ($3 != ver) split_ver = 1 }
	     function check() {
		if (osds != want[pg]) {
			print name " (pg " pg ") on " osds ", acting " want[pg]
			bad++
		}
		if (split_ver) { print name ": versions differ"; bad++ }
	     }
	     END { if (name != "") check(); exit bad > 0 }' \
		"$T/acting" "$T/held"
}

head -c 6M /dev/urandom >"$T/cold"
basalt volume import "$T/cold" ec/cold --object-size 1M

writer_start ec/w
wait_for 60 writer_acks_past 200

# --- one member killed under the writer, then revived ------------------
# The writer never pauses: a write in flight when its primary loses the PG
# (to the revived OSD, or at the out) is rolled back or kept by peering
# (undo records), never left undecodable.
osd_kill 2
wait_for 30 osd_is_down 2
writer_progress 200
osd_revive 2
wait_for 60 pgs_active ec
# recovery (1 MiB/s) rebuilds osd.2's shards while the writer goes on
writer_progress 200
wait_for 120 pgs_clean ec
writer_finish
wait_for 60 pgs_clean ec
grep -q "rebuilt\|recovered [1-9]" "$T/pgs"
shards_in_place ec
osd_tool ec-verify --pool ec --records
writer_verify ec/w
basalt volume export ec/cold "$T/cold.out" --force
cmp "$T/cold" "$T/cold.out"


# --- out: its slots move to other OSDs, and positional placement moves
# some members to other slots too: all of them get their shards rebuilt
writer_start ec/w
writer_progress 100
basalt pg ls --pool ec --format json | jq -c '[.[] | .acting]' >"$T/before"
basalt osd out 5
wait_for 60 pgs_active ec
writer_progress 200
wait_for 120 pgs_clean ec
writer_finish
wait_for 60 pgs_clean ec
basalt pg ls --pool ec --format json | jq -c '[.[] | .acting]' >"$T/after"
cat "$T/before" "$T/after"
! grep -q 5 "$T/after"
shards_in_place ec
osd_tool ec-verify --pool ec --records
writer_verify ec/w
basalt volume export ec/cold "$T/cold.out" --force
cmp "$T/cold" "$T/cold.out"
echo "acknowledged writes: $(writer_acks)"
