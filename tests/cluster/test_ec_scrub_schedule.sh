#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scheduled scrubs of an erasure-coded pool (4+2): with
# osd_deep_scrub_interval short, the primaries deep-scrub their EC PGs by
# themselves and (osd_scrub_auto_repair) rebuild a member's shard whose
# bytes were flipped on disk, without any request.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires python3 --version

osd_tool_timeout=60

cluster_start --mons 1 --osds 6 --osd-size 256M \
	--set osd_deep_scrub_interval=3s --set osd_scrub_interval=2s
basalt pool create ec --ec 4+2 --failure-domain osd --pg-num 4
wait_for 60 pgs_clean ec

osd_tool_fill ec 1 4M

# the shard of slot 3 of object 3 goes bad
corrupt_copy ec 1 3 4
pg=$corrupt_pg who=$corrupt_osd

repaired()
{
	grep -q "pg 1.$pg: deep-scrub (repair): [0-9]* objects, 1 inconsistent, 1 repaired" \
		"$CLUSTER_DIR"/osd.*.log
}
wait_for 60 repaired
grep -h "pg 1.$pg: scrub: object 1.3: $who has a bad block" \
	"$CLUSTER_DIR"/osd.*.log
osd_tool scrub --pool ec --pg "$pg" --deep | tee "$T/scrub"
grep -q ' inconsistent 0 ' "$T/scrub"
osd_tool_check ec 1
