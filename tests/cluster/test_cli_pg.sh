#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'basalt status' and 'basalt pg ...' with real OSDs: an idle cluster is
# HEALTH_OK with every PG active+clean; 'pg ls' lists each PG with its
# acting set, primary and objects, and filters by pool, state and OSD; a
# replica's block flipped on disk is found by 'pg deep-scrub' (not by a
# light scrub), rewritten by 'pg repair', and the data reads back whole;
# with one OSD killed, status and 'pg ls' show the PGs undersized and the
# copies degraded, and all is clean again once it is back.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires python3 --version
requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --pg-num 8 --failure-domain osd
wait_for 60 cluster_healthy

# --- an idle cluster ---------------------------------------------------
status_json >"$T/st.json"
jq -e '.health == "HEALTH_OK" and .checks == [] and
	.osds == {"total": 3, "up": 3, "in": 3} and .pools == 1 and
	.pgs.total == 8 and .pgs.states == {"active+clean": 8} and
	.pgs.active_clean == 8 and .pgs.unknown == 0 and .pgs.inactive == 0 and
	.usage.capacity > 3 * 128 * 1048576 and .recovery.degraded == 0' \
	"$T/st.json"
basalt status >"$T/st.txt"
grep -q '^health: *HEALTH_OK$' "$T/st.txt"
grep -q '^pgs: *8$' "$T/st.txt"
grep -q '^ *8 active+clean$' "$T/st.txt"

basalt pg ls --format json >"$T/pgs.json"
jq -e 'length == 8 and (map(.pgid) == ["1.0","1.1","1.2","1.3","1.4","1.5","1.6","1.7"]) and
	all(.[]; .pool == "rbd" and .pool_id == 1 and .state == "active+clean" and
		(.acting | length) == 3 and (.acting | unique | length) == 3 and
		.primary == .acting[0] and .reporter == .primary and
		.degraded == 0)' "$T/pgs.json"
basalt pg ls >"$T/pgs.txt"
head -n 1 "$T/pgs.txt" | grep -q '^PG  *STATE  *ACTING  *PRIMARY  *OBJECTS'
test "$(grep -c '^1\.[0-7]  *active+clean  *\[[0-2],[0-2],[0-2]\] ' "$T/pgs.txt")" -eq 8
test "$(basalt pg ls --pool rbd --state active+clean --format json | jq length)" -eq 8
test "$(basalt pg ls --state degraded --format json | jq length)" -eq 0
test "$(basalt pg ls --osd 2 --format json | jq length)" -eq 8
expect_fail 1 "^basalt: pool 'nope' does not exist \(see 'basalt pool ls'\)$" \
	basalt pg ls --pool nope
expect_fail 2 "^basalt: '--state': 'happy' is not a PG state" \
	basalt pg ls --state happy

# --- data, and a scrub of every PG --------------------------------------
head -c $((8 << 20)) /dev/urandom >"$T/src"
basalt volume import "$T/src" rbd/v --object-size 1M
vid=$(basalt volume info rbd/v --format json | jq .id)
eight_objects()
{
	basalt pg ls --format json | jq -e '(map(.objects) | add) == 8' \
		>/dev/null
}
wait_for 20 eight_objects

objects=0
for pg in 0 1 2 3 4 5 6 7; do
	basalt pg scrub "1.$pg" --format json >"$T/scrub.json"
	jq -e --arg id "1.$pg" '.pgid == $id and .deep == false and
		.inconsistent == 0 and .copies_bad == 0 and .repaired == 0 and
		(.members | length) == 3' "$T/scrub.json"
	objects=$((objects + $(jq .objects "$T/scrub.json")))
done
test "$objects" -eq 8

# --- a replica's copy of object 5 goes bad on disk ---------------------
corrupt_copy rbd "$vid" 5 2
pg=1.$corrupt_pg who=$corrupt_osd

# The versions agree: a light scrub sees nothing.
basalt pg scrub "$pg" --format json | jq -e '.inconsistent == 0'
# A deep scrub reads every copy: one object with one bad copy.
basalt pg deep-scrub "$pg" --format json >"$T/deep.json"
cat "$T/deep.json"
jq -e --arg who "$who" '.deep and .repair == false and .inconsistent == 1 and
	.copies_bad == 1 and .repaired == 0 and
	any(.details[]; contains($who))' "$T/deep.json"
basalt pg deep-scrub "$pg" | grep -q "^pg $pg deep-scrubbed by osd\.[0-2], members \[[0-2],[0-2],[0-2]\]: [0-9]* objects checked, 1 inconsistent (1 bad copies), 0 repaired$"
# Repair rewrites it from the good copies; then all is consistent.
basalt pg repair "$pg" --format json |
	jq -e '.deep and .repair and .inconsistent == 1 and .repaired == 1'
basalt pg deep-scrub "$pg" --format json |
	jq -e '.inconsistent == 0 and .copies_bad == 0'
basalt volume export rbd/v - | cmp "$T/src" -

expect_fail 1 "^basalt: pg 1\.8 does not exist: pool 'rbd' has 8 PGs \(0 to 7\)$" \
	basalt pg scrub 1.8
expect_fail 1 "^basalt: pg 7\.0: there is no pool 7 \(see 'basalt pool ls'\)$" \
	basalt pg deep-scrub 7.0
expect_fail 1 "^basalt: 'PGID': 'one' is not a PG id" basalt pg repair one
expect_fail 2 "^basalt: 'pg scrub': missing arguments" basalt pg scrub

# --- one OSD down: undersized, degraded --------------------------------
osd_kill 2
degraded()
{
	status_json >"$T/st.json" &&
	jq -e '.health == "HEALTH_WARN" and .osds.up == 2 and
		.pgs.states == {"active+undersized+degraded": 8} and
		.pgs.undersized == 8 and .pgs.degraded == 8 and
		.recovery.object_copies == 24 and .recovery.degraded == 8 and
		(.health_checks | map(.code) | sort) == ["OSD_DOWN", "PG_DEGRADED"]' \
		"$T/st.json" >/dev/null
}
wait_for 30 degraded
jq -e '(.health_checks[] | select(.code == "PG_DEGRADED") |
	.message == "degraded data redundancy: 8/24 object copies degraded (33.333%), 8 pgs degraded, 8 pgs undersized" and
	(.detail | length) == 8)' "$T/st.json"
basalt status --detail >"$T/st.txt"
cat "$T/st.txt"
grep -q '^ *8 active+undersized+degraded$' "$T/st.txt"
grep -q '^ *pg 1\.[0-7] is active+undersized+degraded, acting ' "$T/st.txt"
grep -q '^recovery: 8/24 object copies degraded (33.333%)' "$T/st.txt"
test "$(basalt pg ls --state undersized+degraded --format json | jq length)" -eq 8
test "$(basalt pg ls --state active+clean --format json | jq length)" -eq 0
basalt volume export rbd/v - | cmp "$T/src" -

osd_revive 2
wait_for 60 cluster_healthy
status_json | jq -e '.recovery.degraded == 0 and .pgs.active_clean == 8'
basalt volume export rbd/v - | cmp "$T/src" -
