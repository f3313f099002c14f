#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'basalt volume resize --allow-shrink' frees the data past the new end on
# the OSDs (whole objects deleted, the cut one trimmed), so that growing
# the volume again shows zeros there, never the old data; growing keeps
# the data.  Without --allow-shrink nothing changes.
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 2 --osd-size 256M
basalt pool create rbd --size 2 --pg-num 8 --failure-domain osd
wait_for 60 cluster_healthy

# 16 MiB in objects of 4 MiB: objects 0-3.
head -c $((16 << 20)) /dev/urandom >"$T/src"
basalt volume import "$T/src" rbd/v
vid=$(basalt volume info rbd/v --format json | jq .id)

# objnums OSD: the object numbers of rbd/v that osd.OSD holds, sorted.
objnums()
{
	basalt osd list-objects --osd "$1" --pool rbd --format json |
		jq -c --argjson v "$vid" \
		'[.objects[] | select(.volume_id == $v) | .objnum] | sort'
}
for n in 0 1; do
	test "$(objnums $n)" = '[0,1,2,3]'
done

# Refused without --allow-shrink: nothing is freed.
expect_fail 1 "^basalt: shrinking volume 'rbd/v' from 16 MiB to 6 MiB .*--allow-shrink$" \
	basalt volume resize rbd/v --size 6M
test "$(objnums 0)" = '[0,1,2,3]'

# Shrink to 6 MiB: objects 2 and 3 go, object 1 keeps its first 2 MiB.
basalt volume resize rbd/v --size 6M --allow-shrink --format json |
	jq -e '.size == 6291456 and .objects == 2'
for n in 0 1; do
	test "$(objnums $n)" = '[0,1]'
done
basalt volume info rbd/v --format json | jq -e '.used <= 6291456'
basalt volume export rbd/v - | cmp - <(head -c $((6 << 20)) "$T/src")

# Grow back to 16 MiB: the first 6 MiB as written, zeros after.
basalt volume resize rbd/v --size 16M | grep -qx "volume 'rbd/v' resized from 6 MiB to 16 MiB"
{ head -c $((6 << 20)) "$T/src"; head -c $((10 << 20)) /dev/zero; } \
	>"$T/want"
basalt volume export rbd/v "$T/got"
cmp "$T/want" "$T/got"
basalt volume info rbd/v --format json | jq -e '.size == 16777216 and .used <= 6291456'

# A shrink on a 4 MiB boundary: object 1 goes whole.
basalt volume resize rbd/v --size 4M --allow-shrink
for n in 0 1; do
	test "$(objnums $n)" = '[0]'
done
basalt volume resize rbd/v --size 16M
{ head -c $((4 << 20)) "$T/src"; head -c $((12 << 20)) /dev/zero; } \
	>"$T/want"
basalt volume export rbd/v - | cmp "$T/want" -
