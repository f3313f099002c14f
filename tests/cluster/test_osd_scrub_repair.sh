#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Silent corruption: bytes flipped in an OSD's data file under a written
# object (the block found through the store's metadata, BS_MSG_OSD_LOCATE).
#   On the primary: a read still returns the right data (the primary reads
#   a bad checksum, fetches the object from a replica, repairs its copy).
#   On a replica: a light scrub sees nothing (versions agree), a deep scrub
#   reports the bad copy, a deep scrub with repair rewrites it, and the
#   next deep scrub finds the PG consistent.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires python3 --version

osd_tool_timeout=60

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --failure-domain osd --pg-num 8
wait_for 60 pgs_clean rbd

osd_tool_fill rbd 1 8M
osd_tool_check rbd 1

# --- the primary's copy of object 2 goes bad: reads repair it
corrupt_copy rbd 1 2 1
osd_tool_check rbd 1
grep -q 'checksum mismatch' "$CLUSTER_DIR/$corrupt_osd.log"
# repaired in place: a deep scrub finds nothing to fix
osd_tool scrub --pool rbd --pg "$corrupt_pg" --deep | tee "$T/scrub0"
grep -q ' inconsistent 0 ' "$T/scrub0"

# --- a replica's copy of object 5 goes bad
corrupt_copy rbd 1 5 2
pg5=$corrupt_pg who=$corrupt_osd

# versions agree: a light scrub cannot see it
osd_tool scrub --pool rbd --pg "$pg5" | tee "$T/scrub1"
grep -q ' inconsistent 0 ' "$T/scrub1"
# a deep scrub reads every copy: one object, one bad copy, not repaired
osd_tool scrub --pool rbd --pg "$pg5" --deep | tee "$T/scrub2"
grep -q ' inconsistent 1 repaired 0 bad_copies 1$' "$T/scrub2"
grep -q "^detail: object 1.5: $who has a bad block" "$T/scrub2"
# repair it from the good copies
osd_tool scrub --pool rbd --pg "$pg5" --deep --repair | tee "$T/scrub3"
grep -q ' inconsistent 1 repaired 1 bad_copies 1$' "$T/scrub3"
osd_tool scrub --pool rbd --pg "$pg5" --deep | tee "$T/scrub4"
grep -q ' inconsistent 0 ' "$T/scrub4"
grep -q "pg 1.$pg5: deep-scrub (repair)" "$CLUSTER_DIR/osd."*.log

# the data is whole and every PG clean
osd_tool_check rbd 1
wait_for 30 pgs_clean rbd
osd_tool_check rbd 1 3
