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

tool()
{
	local cmd=$1
	shift
	"$BASALT_BIN/basalt-osd-tool" "$cmd" -c "$BASALT_CONF" --timeout 60 "$@"
}

pgs_clean()
{
	tool pg-states --pool rbd --expect-clean >"$T/pgs" 2>&1
}

# flip OSD OFFSET: invert 64 bytes of osd.OSD's data file at OFFSET
flip()
{
	python3 - "$CLUSTER_DIR/osd.$1.data" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(64)
    f.seek(off)
    f.write(bytes(x ^ 0xff for x in b))
EOF
}

cluster_start --mons 1 --osds 3 --osd-size 256M
basalt pool create rbd --size 3 --failure-domain osd --pg-num 8
wait_for 60 pgs_clean

head -c $((8 << 20)) /dev/urandom >"$T/src"
tool write --pool rbd --volume 1 --object-size 1M "$T/src"
tool read --pool rbd --volume 1 --object-size 1M --size 8M "$T/dst"
cmp "$T/src" "$T/dst"

# --- the primary's copy of object 2 goes bad: reads repair it
tool locate --pool rbd --volume 1 --object-size 1M --offset $((2 << 20)) \
	| tee "$T/loc2"
pg2=$(awk '$1 == "pg" { print $2 }' "$T/loc2")
read -r who off < <(grep '^osd\.' "$T/loc2" | head -n 1)
[ "$off" != hole ]
flip "${who#osd.}" "$off"
tool read --pool rbd --volume 1 --object-size 1M --size 8M "$T/dst"
cmp "$T/src" "$T/dst"
grep -q 'checksum mismatch' "$CLUSTER_DIR/$who.log"
# repaired in place: a deep scrub finds nothing to fix
tool scrub --pool rbd --pg "$pg2" --deep | tee "$T/scrub0"
grep -q ' inconsistent 0 ' "$T/scrub0"

# --- a replica's copy of object 5 goes bad
tool locate --pool rbd --volume 1 --object-size 1M --offset $((5 << 20)) \
	| tee "$T/loc5"
pg5=$(awk '$1 == "pg" { print $2 }' "$T/loc5")
read -r who off < <(grep '^osd\.' "$T/loc5" | sed -n 2p)
[ "$off" != hole ]
flip "${who#osd.}" "$off"

# versions agree: a light scrub cannot see it
tool scrub --pool rbd --pg "$pg5" | tee "$T/scrub1"
grep -q ' inconsistent 0 ' "$T/scrub1"
# a deep scrub reads every copy: one object, one bad copy, not repaired
tool scrub --pool rbd --pg "$pg5" --deep | tee "$T/scrub2"
grep -q ' inconsistent 1 repaired 0 bad_copies 1$' "$T/scrub2"
grep -q "^detail: object 1.5: $who has a bad block" "$T/scrub2"
# repair it from the good copies
tool scrub --pool rbd --pg "$pg5" --deep --repair | tee "$T/scrub3"
grep -q ' inconsistent 1 repaired 1 bad_copies 1$' "$T/scrub3"
tool scrub --pool rbd --pg "$pg5" --deep | tee "$T/scrub4"
grep -q ' inconsistent 0 ' "$T/scrub4"
grep -q "pg 1.$pg5: deep-scrub (repair)" "$CLUSTER_DIR/osd."*.log

# the data is whole and every PG clean
tool read --pool rbd --volume 1 --object-size 1M --size 8M "$T/dst"
cmp "$T/src" "$T/dst"
wait_for 30 pgs_clean
tool verify --pool rbd --volume 1 --object-size 1M --size 8M --copies 3
