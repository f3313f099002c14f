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

cluster_start --mons 1 --osds 3 --osd-size 256M \
	--set osd_deep_scrub_interval=3s --set osd_scrub_interval=2s
basalt pool create rbd --size 3 --failure-domain osd --pg-num 4
wait_for 60 pgs_clean

head -c $((4 << 20)) /dev/urandom >"$T/src"
tool write --pool rbd --volume 1 --object-size 1M "$T/src"

tool locate --pool rbd --volume 1 --object-size 1M --offset $((3 << 20)) \
	| tee "$T/loc"
pg=$(awk '$1 == "pg" { print $2 }' "$T/loc")
read -r who off < <(grep '^osd\.' "$T/loc" | sed -n 3p)
[ "$off" != hole ]
flip "${who#osd.}" "$off"

repaired()
{
	grep -q "pg 1.$pg: deep-scrub (repair): [0-9]* objects, 1 inconsistent, 1 repaired" \
		"$CLUSTER_DIR"/osd.*.log
}
wait_for 60 repaired
grep -h "pg 1.$pg: scrub: object 1.3: $who has a bad block" \
	"$CLUSTER_DIR"/osd.*.log
tool scrub --pool rbd --pg "$pg" --deep | tee "$T/scrub"
grep -q ' inconsistent 0 ' "$T/scrub"
tool read --pool rbd --volume 1 --object-size 1M --size 4M "$T/dst"
cmp "$T/src" "$T/dst"
