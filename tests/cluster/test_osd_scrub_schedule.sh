#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scheduled scrubs: with osd_deep_scrub_interval short, the primaries
# deep-scrub their PGs by themselves and (osd_scrub_auto_repair) repair a
# replica's copy whose bytes were flipped on disk, without any request.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires python3 --version

osd_tool_timeout=60

cluster_start --mons 1 --osds 3 --osd-size 256M \
	--set osd_deep_scrub_interval=3s --set osd_scrub_interval=2s
basalt pool create rbd --size 3 --failure-domain osd --pg-num 4
wait_for 60 pgs_clean rbd

osd_tool_fill rbd 1 4M

# the third copy of object 3 goes bad
corrupt_copy rbd 1 3 3
pg=$corrupt_pg who=$corrupt_osd

repaired()
{
	grep -q "pg 1.$pg: deep-scrub (repair): [0-9]* objects, 1 inconsistent, 1 repaired" \
		"$CLUSTER_DIR"/osd.*.log
}
wait_for 60 repaired
grep -h "pg 1.$pg: scrub: object 1.3: $who has a bad block" \
	"$CLUSTER_DIR"/osd.*.log
osd_tool scrub --pool rbd --pg "$pg" --deep | tee "$T/scrub"
grep -q ' inconsistent 0 ' "$T/scrub"
osd_tool_check rbd 1
