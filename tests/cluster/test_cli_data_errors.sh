#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The data commands' bad inputs (unknown volume, OSD or PG, offset past
# the end, bad --pattern or --bs, missing or empty file, a stream without
# --size) each fail with one clear line on stderr and the documented exit
# code (1 failed or a bad value, 2 a wrong command line), and leave no
# volume behind.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 3 --osd-size 128M
volume_setup rbd/v 64M

# Unknown volume (and pool), for every data command.
expect_fail 1 "^basalt: volume 'rbd/nope' does not exist" \
	basalt object locate rbd/nope 0
expect_fail 1 "^basalt: volume 'rbd/nope' does not exist \(see 'basalt volume ls" \
	basalt volume export rbd/nope "$T/out"
test ! -e "$T/out"
expect_fail 1 "^basalt: volume 'rbd/nope' does not exist \(see 'basalt volume ls" \
	basalt bench rbd/nope --pattern read --seconds 1
expect_fail 1 "^basalt: pool 'nopool' does not exist" \
	basalt object locate nopool/v 0
expect_fail 2 "^basalt: 'rbd' is not POOL/NAME" basalt object locate rbd 0

# Offsets: past the end, not a number.
expect_fail 1 "^basalt: offset 67108864 is past the end of volume 'rbd/v' \(size 64 MiB, 67108864 bytes\)$" \
	basalt object locate rbd/v 64M
basalt object locate rbd/v $(((64 << 20) - 1)) --format json |
	jq -e '.objnum == 15'
expect_fail 1 "^basalt: 'OFFSET': 'ten' is not a size" \
	basalt object locate rbd/v ten
expect_fail 2 "missing arguments" basalt object locate rbd/v

# bench: pattern and block size.
expect_fail 1 "^basalt: '--pattern': 'zigzag' is not a pattern \(use randwrite, randread, write or read\)$" \
	basalt bench rbd/v --pattern zigzag
expect_fail 2 "^basalt: 'bench' needs --pattern randwrite\|randread\|write\|read$" \
	basalt bench rbd/v
expect_fail 1 "^basalt: '--bs': '3X' is not a size" \
	basalt bench rbd/v --pattern read --bs 3X
expect_fail 1 "^basalt: '--bs': '1000' must be a multiple of 512 from 512 to 16M$" \
	basalt bench rbd/v --pattern read --bs 1000
expect_fail 1 "^basalt: '--iodepth': 0 is out of range" \
	basalt bench rbd/v --pattern read --iodepth 0
expect_fail 1 "^basalt: '--size': 128 MiB is past the end of volume 'rbd/v' \(size 64 MiB\)$" \
	basalt bench rbd/v --pattern read --size 128M
expect_fail 2 "unknown option '--depth'" \
	basalt bench rbd/v --pattern read --depth 4
# and a short good run, bounded by --seconds.
start=$(now_ms)
basalt bench rbd/v --pattern randwrite --seconds 1 --iodepth 4 --format json \
	>"$T/bench.json"
test $(($(now_ms) - start)) -lt 15000
jq -e '.ops > 0 and .iops > 0 and .latency_us.p50 > 0 and
	.latency_us.p99 >= .latency_us.p50 and
	.latency_us.p99_9 >= .latency_us.p99 and .bytes == .ops * 4096' \
	"$T/bench.json"

# import: missing, empty, a directory, a stream without --size.
expect_fail 1 "^basalt: cannot open '$T/missing': No such file or directory$" \
	basalt volume import "$T/missing" rbd/new
: >"$T/empty"
expect_fail 1 "^basalt: '$T/empty' is empty: a volume needs a size \(use --size SIZE\)$" \
	basalt volume import "$T/empty" rbd/new
expect_fail 1 "is a directory" basalt volume import "$T" rbd/new
head -c 4096 /dev/urandom >"$T/small"
expect_fail 1 "^basalt: '--size': '1K' is smaller than '$T/small'" \
	basalt volume import "$T/small" rbd/new --size 1K
expect_fail 2 "needs --size SIZE" basalt volume import - rbd/new </dev/null
expect_fail 1 "is longer than --size" \
	basalt volume import - rbd/new --size 512 <"$T/small"
expect_fail 2 "missing arguments" basalt volume import "$T/small"
expect_fail 1 "^basalt: pool 'nopool' does not exist" \
	basalt volume import "$T/small" nopool/new
# None of the failures left a volume.
test "$(basalt volume ls --format json | jq -c 'map(.name)')" = '["v"]'

# export: a directory, an unwritable place.
expect_fail 1 "is a directory" basalt volume export rbd/v "$T"
expect_fail 1 "^basalt: cannot create '/nonexistent/x'" \
	basalt volume export rbd/v /nonexistent/x

# list-objects: OSD and PG.
expect_fail 2 "needs --osd N" basalt osd list-objects --pg 1.0
expect_fail 1 "^basalt: osd.9 does not exist \(see 'basalt osd ls'\)$" \
	basalt osd list-objects --osd 9 --pg 1.0
expect_fail 1 "^basalt: '--pg': '1x2' is not a PG id \(POOL_ID.PG in hex, e.g. 1.2f\)$" \
	basalt osd list-objects --osd 0 --pg 1x2
expect_fail 1 "^basalt: pg 1.ff does not exist: pool 'rbd' has 32 PGs \(0 to 1f\)$" \
	basalt osd list-objects --osd 0 --pg 1.ff
expect_fail 1 "^basalt: pg 7.0: there is no pool 7" \
	basalt osd list-objects --osd 0 --pg 7.0
basalt osd list-objects --osd osd.0 --pg 1.1f --format json |
	jq -e '.osd == 0 and .count == 0'

# With every OSD stopped (they tell the mons), data commands fail at
# once instead of waiting for an OSD; info says used is unknown.
cluster_sh stop osd.0 osd.1 osd.2
no_osd_up()
{
	test "$(osds_up)" -eq 0
}
wait_for 30 no_osd_up
start=$(now_ms)
expect_fail 1 "^basalt: 32 of 32 PGs of pool 'rbd' have no OSD up: their I/O would wait \(see 'basalt osd ls'\)$" \
	basalt volume export rbd/v "$T/out"
test ! -e "$T/out"
expect_fail 1 "have no OSD up" basalt bench rbd/v --pattern read --seconds 1
expect_fail 1 "have no OSD up" basalt volume import "$T/small" rbd/new
basalt volume info rbd/v --format json |
	jq -e '.used == null and (.used_error | test("no OSD up"))'
basalt volume info rbd/v | grep -q '^used: *unknown (32 PGs of pool .rbd. have no OSD up)$'
basalt osd df --format json | jq -e 'all(.[]; .status == "down" and .used == null)'
test $(($(now_ms) - start)) -lt 15000
test "$(basalt volume ls --format json | jq -c 'map(.name)')" = '["v"]'
