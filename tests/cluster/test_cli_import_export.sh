#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'basalt volume import' of a sparse file (holes, random data, written
# zeros, a size that is not whole sectors) and 'volume export' back, to a
# file and to stdout, round-trip byte for byte; zeros are not stored (used
# < provisioned) and the exported file is sparse again.  Import from
# stdin, refusing to overwrite a file without --force, and an import under
# a taken name that leaves the existing volume alone.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --pg-num 32

# 40 MiB + 1000 bytes: holes, random data (not 4K-aligned), 1 MiB of
# written zeros, random bytes at the very end.
src=$T/src.img
truncate -s $((40 << 20)) "$src"
dd if=/dev/urandom of="$src" bs=1M count=3 seek=1 conv=notrunc status=none
dd if=/dev/urandom of="$src" bs=1000 count=7 seek=9000 conv=notrunc status=none
dd if=/dev/zero of="$src" bs=1M count=1 seek=20 conv=notrunc status=none
dd if=/dev/urandom of="$src" bs=4096 count=5 seek=7000 conv=notrunc status=none
head -c 1000 /dev/urandom >>"$src"
src_size=$(stat -c %s "$src")
vol_size=$(((src_size + 511) / 512 * 512))
random_bytes=$(((3 << 20) + 7000 + 5 * 4096 + 1000))

basalt volume import "$src" rbd/img --format json >"$T/import.json"
jq -e --argjson s "$vol_size" '.size == $s and .bytes_read == '"$src_size" \
	"$T/import.json"
written=$(jq .bytes_written "$T/import.json")
test "$written" -ge "$random_bytes"
test "$written" -lt $((6 << 20))

# The volume has the file's size rounded up to 512; only data is used.
basalt volume info rbd/img --format json >"$T/info.json"
jq -e --argjson s "$vol_size" '.size == $s' "$T/info.json"
used=$(jq -e .used "$T/info.json")
test "$used" -ge "$random_bytes"
test "$used" -lt "$vol_size"
test "$used" -lt $((6 << 20))
basalt volume info rbd/img | grep -E '^used: +[0-9.]+ MiB \([0-9]+ bytes, [0-9.]+%\)$'

# Export to a file: byte for byte the source, zeros after its end, sparse.
basalt volume export rbd/img "$T/out.img" --format json >"$T/export.json"
jq -e --argjson s "$vol_size" '.size == $s and .used == '"$used" \
	"$T/export.json"
test "$(stat -c %s "$T/out.img")" -eq "$vol_size"
cmp -n "$src_size" "$src" "$T/out.img"
cmp <(tail -c +$((src_size + 1)) "$T/out.img") \
	<(head -c $((vol_size - src_size)) /dev/zero)
allocated=$(($(stat -c %b "$T/out.img") * $(stat -c %B "$T/out.img")))
test "$allocated" -lt $((8 << 20))

# Export to stdout: every byte, in order.
basalt volume export rbd/img - | cmp -n "$src_size" "$src" -
test "$(basalt volume export rbd/img - | wc -c)" -eq "$vol_size"

# An existing file is not overwritten without --force.
expect_fail 1 "^basalt: '.*/out.img' already exists \(remove it or use --force to overwrite it\)$" \
	basalt volume export rbd/img "$T/out.img"
echo garbage >"$T/old.img"
basalt volume export rbd/img "$T/old.img" --force
cmp -n "$src_size" "$src" "$T/old.img"
test "$(stat -c %s "$T/old.img")" -eq "$vol_size"

# Import from stdin needs --size; the data round-trips.
expect_fail 2 "^basalt: 'volume import': reading from a stream \('-'\) needs --size SIZE$" \
	basalt volume import - rbd/piped <"$src"
basalt volume import - rbd/piped --size "$vol_size" <"$src"
basalt volume export rbd/piped - | cmp -n "$src_size" "$src" -

# A taken name: refused, and the volume there keeps its data.
expect_fail 1 "already exists" basalt volume import "$src" rbd/img
basalt volume export rbd/img - | cmp -n "$src_size" "$src" -

# A small object size works too (many objects).
head -c $((1 << 20)) /dev/urandom >"$T/small.img"
basalt volume import "$T/small.img" rbd/small --object-size 64K
test "$(basalt volume info rbd/small --format json | jq .objects)" -eq 16
basalt volume export rbd/small - | cmp "$T/small.img" -
