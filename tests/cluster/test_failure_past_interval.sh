#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The acting set moves entirely away from the interval that took the last
# writes while all of that interval's members are down: the PG must not
# go active without them.  Size 3, min_size 2, one PG, five OSDs: data
# written on A = {a0,a1,a2}; a2 dies, more writes go to a0 and a1 only;
# a0 and a1 die; all three are marked out, so the PG moves to the other
# two OSDs, which never held it.  It waits "down", naming a0 or a1 (pg ls,
# status health PG_DOWN), and a read of the data waits rather than
# answering zeros.  The OSD it names comes back (still out): the PG peers
# with it, recovers onto the new members and every acknowledged write
# reads back.  'osd lost' needs its confirmation and a down OSD, and
# giving up on the other OSD of that interval does not end the wait.
# ctest-timeout: 240
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires jq --version

cluster_start --mons 1 --osds 5 --osd-size 256M \
	--set osd_heartbeat_interval=500ms --set osd_heartbeat_grace=3s \
	--set mon_osd_down_out_interval=0
basalt pool create p --size 3 --min-size 2 --failure-domain osd --pg-num 1
wait_for 60 pgs_clean p

# A: where the PG lives now; the two others will take it over
acting=$(basalt pg ls --pool p --format json | jq -r '.[0].acting[]')
read -r a0 a1 a2 <<<"$(echo $acting)"
others=$(for n in 0 1 2 3 4; do
	grep -qx "$n" <<<"$acting" || echo "$n"; done)
echo "acting: $a0 $a1 $a2, others: $(echo $others)"

osd_tool_fill p 1 4M			# written on a0, a1, a2
wait_for 60 pgs_clean p

# a2 dies: a0 and a1 go on (min_size 2) and alone take these writes
osd_kill "$a2"
wait_for 15 osd_is_down "$a2"
osd_tool_fill p 2 4M
osd_kill "$a0"
osd_kill "$a1"
wait_for 15 osd_is_down "$a0"
wait_for 15 osd_is_down "$a1"

# all of A out: the PG moves to the two others, which know nothing of it
basalt osd out "$a0"
basalt osd out "$a1"
basalt osd out "$a2"

pg_down()
{
	basalt pg ls --pool p --format json >"$T/pg.json" || return 1
	jq -e '.[0].state | split("+") | index("down")' "$T/pg.json" \
		>/dev/null
}
wait_for 60 pg_down
cat "$T/pg.json"
# it waits for one of the two that took the last writes
wait_osd=$(jq -r '.[0].waiting_for_osd' "$T/pg.json")
[ "$wait_osd" = "$a0" ] || [ "$wait_osd" = "$a1" ]
since=$(jq -r '.[0].waiting_since_epoch' "$T/pg.json")
[ "$since" -gt 0 ]
for n in $others; do
	jq -e --argjson n "$n" '.[0].acting | index($n)' "$T/pg.json" \
		>/dev/null
done
basalt pg ls --pool p | grep -E "down.*osd\\.$wait_osd \\(writes of epoch $since\\)"
status_json >"$T/status.json"
jq -e '.health == "HEALTH_ERR"' "$T/status.json"
jq -e --arg w "osd.$wait_osd" 'any(.health_checks[];
	.code == "PG_DOWN" and any(.detail[]; contains($w)))' "$T/status.json"
basalt status | grep -q "pgs down"

# it stays down: no activation without the writes of that interval
sleep 3
pg_down

# a read of the data waits (no stale zeros) until the PG can serve it
osd_tool_timeout=120 osd_tool read --pool p --volume 2 --object-size 1M \
	--size 4194304 "$T/during" &
reader=$!
cleanup_fn sh -c "kill $reader 2>/dev/null || true"
sleep 3
kill -0 "$reader"		# still waiting
[ ! -s "$T/during" ]

# 'osd lost' is refused without its confirmation, and for an up OSD
expect_fail '!' "repeat with --yes-i-really-mean-it" \
	basalt osd lost "$wait_osd"
set -- $others
expect_fail '!' "is up" basalt osd lost "$1" --yes-i-really-mean-it
pg_down

# giving up on the other one of the two does not end the wait: the one
# it waits for may still come back with those writes
other_a=$a0
[ "$wait_osd" = "$a0" ] && other_a=$a1
basalt osd lost "$other_a" --yes-i-really-mean-it | grep -q "lost"
basalt osd lost "$other_a" --yes-i-really-mean-it | grep -q "already"
sleep 2
pg_down
[ "$(jq -r '.[0].waiting_for_osd' "$T/pg.json")" = "$wait_osd" ]
kill -0 "$reader"

# the OSD it waits for comes back (out: only a source): the PG peers
# with it and recovers everything onto the new members
osd_revive "$wait_osd"
pg_active()
{
	basalt pg ls --pool p --format json >"$T/pg.json" || return 1
	jq -e '.[0].state | split("+") | index("active")' "$T/pg.json" \
		>/dev/null
}
wait_for 60 pg_active
wait "$reader"
cmp "$T/fill.p.2" "$T/during"
status_json | jq -e '.health_checks | all(.code != "PG_DOWN")'

pg_recovered()
{
	basalt pg ls --pool p --format json >"$T/pg.json" || return 1
	jq -e '.[0] | (.state | split("+") |
		(index("active") and (index("recovering") | not) and
		 (index("backfilling") | not))) and .unfound == 0' \
		"$T/pg.json" >/dev/null
}
wait_for 90 pg_recovered
cat "$T/pg.json"

# the new members hold it all: it reads back without the old one
osd_kill "$wait_osd"
wait_for 15 osd_is_down "$wait_osd"
osd_tool_check p 1
osd_tool_check p 2
