#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scrub of an erasure-coded pool (4+2): bytes flipped in one OSD's data
# file under a shard of a written object (found through the store's
# metadata, basalt-osd-tool locate).  A data shard (a member's, the
# primary's): a read still returns the right data (the primary decodes
# around the shard that fails its checksum) and has the shard rebuilt.
# A parity shard, which reads do not touch: a light scrub sees nothing
# (versions and sizes agree), a deep scrub reports the bad shard, a deep
# scrub with repair rebuilds it from the other shards, the next deep
# scrub is clean and the shard's bytes are back on disk.
# Then a parity shard whose bytes are wrong but whose checksums hold:
# the deep scrub's parity check (bs_ec_verify) finds and repairs it.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-osd-tool"
requires python3 --version

osd_tool_timeout=60

cluster_start --mons 1 --osds 6 --osd-size 256M
basalt pool create ec --ec 4+2 --failure-domain osd --pg-num 4
wait_for 60 pgs_clean ec

osd_tool_fill ec 1 8M
osd_tool_check ec 1

# scrub_all ARGS: scrub every PG of the pool; prints the replies
scrub_all()
{
	local pg

	for pg in 0 1 2 3; do
		osd_tool scrub --pool ec --pg "$pg" "$@" || return 1
	done
}
scrub_all --deep | tee "$T/scrub0"
[ "$(grep -c ' inconsistent 0 ' "$T/scrub0")" -eq 4 ]

# shard_bytes OBJNO K: the 64 bytes at the start of the K-th member's
# shard (1: the primary's) of object OBJNO, from its OSD's data file
shard_bytes()
{
	local who off

	osd_tool locate --pool ec --volume 1 --object-size 1M \
		--offset $(($1 << 20)) >"$T/loc" || return 1
	read -r who off < <(grep '^osd\.' "$T/loc" | sed -n "$2p")
	[ -n "$off" ] && [ "$off" != hole ] || return 1
	dd if="$CLUSTER_DIR/$who.data" bs=1 skip="$off" count=64 \
		status=none | od -An -tx1
}

# --- a data shard (slot 2, not the primary's) of object 5: a read
# decodes around it and has it rebuilt in the background
shard_bytes 5 3 >"$T/good"
corrupt_copy ec 1 5 3
pg5=$corrupt_pg who=$corrupt_osd
! shard_bytes 5 3 | cmp -s - "$T/good"
osd_tool_check ec 1
grep -q 'checksum mismatch' "$CLUSTER_DIR/$who.log"
shard_restored() { shard_bytes "$1" "$2" | cmp -s - "$T/good"; }
wait_for 30 shard_restored 5 3
osd_tool scrub --pool ec --pg "$pg5" --deep | tee "$T/scrub1"
grep -q ' inconsistent 0 ' "$T/scrub1"

# --- the primary's own shard (slot 0) of object 6: the same
shard_bytes 6 1 >"$T/good"
corrupt_copy ec 1 6 1
pg6=$corrupt_pg
osd_tool_check ec 1
wait_for 30 shard_restored 6 1
osd_tool scrub --pool ec --pg "$pg6" --deep | tee "$T/scrub2"
grep -q ' inconsistent 0 ' "$T/scrub2"

# --- a parity shard (slot 4) of object 2, which reads do not touch
shard_bytes 2 5 >"$T/good"
corrupt_copy ec 1 2 5
pg2=$corrupt_pg who=$corrupt_osd
osd_tool_check ec 1
! shard_restored 2 5
# versions and sizes agree: a light scrub cannot see it
osd_tool scrub --pool ec --pg "$pg2" | tee "$T/scrub3"
grep -q ' inconsistent 0 ' "$T/scrub3"
# a deep scrub reads every shard: one object, one bad shard, not repaired
osd_tool scrub --pool ec --pg "$pg2" --deep | tee "$T/scrub4"
grep -q ' inconsistent 1 repaired 0 bad_copies 1$' "$T/scrub4"
grep -q "^detail: object 1.2: $who has a bad block" "$T/scrub4"
# repair: rebuilt from the other five
osd_tool scrub --pool ec --pg "$pg2" --deep --repair | tee "$T/scrub5"
grep -q ' inconsistent 1 repaired 1 bad_copies 1$' "$T/scrub5"
osd_tool scrub --pool ec --pg "$pg2" --deep | tee "$T/scrub6"
grep -q ' inconsistent 0 ' "$T/scrub6"
grep -q "pg 1.$pg2: deep-scrub (repair)" "$CLUSTER_DIR/osd."*.log
shard_restored 2 5

# --- a parity shard of object 3 made wrong with its checksums intact:
# 64 bytes flipped and 4 more set so that the block's crc32c stays
# (crc32c is linear): only the parity check of a deep scrub can see it
shard_bytes 3 6 >"$T/good"
osd_tool locate --pool ec --volume 1 --object-size 1M --offset $((3 << 20)) \
	>"$T/loc3"
pg3=$(awk '$1 == "pg" { print $2 }' "$T/loc3")
read -r who off < <(grep '^osd\.' "$T/loc3" | sed -n 6p)
python3 - "$CLUSTER_DIR/$who.data" "$off" <<'PYEOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    T.append(c)
def lin(b):		# crc32c's linear part: init 0, no final xor
    c = 0
    for x in b:
        c = T[(c ^ x) & 0xff] ^ (c >> 8)
    return c
BS = 4096
delta = bytearray(BS)
for i in range(64):
    delta[i] = 0xff
target = lin(delta)
cols = []
for j in range(32):
    e = bytearray(BS)
    e[64 + j // 8] = 1 << (j % 8)
    cols.append(lin(e))
# solve sum(x_j * cols[j]) = target over GF(2)
rows = [(cols[j], 1 << j) for j in range(32)]
basis = {}
for v, m in rows:
    for bit in range(31, -1, -1):
        if not (v >> bit) & 1:
            continue
        if bit in basis:
            bv, bm = basis[bit]
            v ^= bv
            m ^= bm
        else:
            basis[bit] = (v, m)
            break
v, m = target, 0
for bit in range(31, -1, -1):
    if (v >> bit) & 1:
        if bit not in basis:
            sys.exit("forge: no solution")
        bv, bm = basis[bit]
        v ^= bv
        m ^= bm
for j in range(32):
    if (m >> j) & 1:
        delta[64 + j // 8] ^= 1 << (j % 8)
assert lin(delta) == 0
with open(path, "r+b") as f:
    f.seek(off)
    b = bytearray(f.read(BS))
    for i in range(BS):
        b[i] ^= delta[i]
    f.seek(off)
    f.write(b)
PYEOF
! shard_bytes 3 6 | cmp -s - "$T/good"
osd_tool_check ec 1
osd_tool scrub --pool ec --pg "$pg3" --deep | tee "$T/scrub8"
grep -q ' inconsistent 1 repaired 0 bad_copies 1$' "$T/scrub8"
grep -q "^detail: object 1.3: $who's shard 5 does not match the others (parity)" \
	"$T/scrub8"
osd_tool scrub --pool ec --pg "$pg3" --deep --repair | tee "$T/scrub9"
grep -q ' inconsistent 1 repaired 1 bad_copies 1$' "$T/scrub9"
osd_tool scrub --pool ec --pg "$pg3" --deep | tee "$T/scrub10"
grep -q ' inconsistent 0 ' "$T/scrub10"
shard_restored 3 6

# everything reads back, every PG clean and consistent
osd_tool_check ec 1
wait_for 30 pgs_clean ec
scrub_all --deep | tee "$T/scrub7"
[ "$(grep -c ' inconsistent 0 ' "$T/scrub7")" -eq 4 ]
