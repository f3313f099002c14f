#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# basalt-fuse's file view of the cluster: pools are directories (empty
# ones too), volumes files of their size, a volume created or resized by
# the CLI shows up; data written through one file reads back; writes
# stop at the end of the volume (ENOSPC); truncate grows a volume and
# refuses to shrink it; open(O_TRUNC) keeps the data, as on a block
# device.  SIGTERM unmounts cleanly.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -c /dev/fuse
requires fusermount3 -V
requires jq --version
requires test -x "$BASALT_BIN/basalt-fuse"
requires test -x "$BASALT_BIN/basalt-osd"

mnt=$T/mnt
fuse_pid=

is_mounted()
{
	grep -q " $mnt fuse" /proc/mounts
}

fuse_cleanup()
{
	local i rc=0

	_sanitizer_reports "$T/fuse.log" && rc=1
	[ -n "$fuse_pid" ] || return $rc
	if is_mounted; then
		fusermount3 -u "$mnt" || rc=1
	fi
	for ((i = 0; i < 200; i++)); do
		kill -0 "$fuse_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$fuse_pid" 2>/dev/null; then
		kill -KILL "$fuse_pid"
		rc=1
	fi
	wait "$fuse_pid" || rc=1
	if is_mounted; then
		fusermount3 -u -z "$mnt"
		rc=1
	fi
	[ $rc -eq 0 ] || tail -n 30 "$T/fuse.log" >&2
	return $rc
}

# Bounded retry of a file-system check: attributes are cached for 1 s.
eventually()
{
	wait_for 10 "$@"
}

size_is()
{
	[ "$(stat -c %s "$1")" -eq "$2" ]
}

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt pool create empty --size 2 --failure-domain osd --pg-num 8
basalt volume create rbd/a --size 16M
wait_for 60 cluster_healthy

mkdir -p "$mnt"
"$BASALT_BIN/basalt-fuse" -c "$BASALT_CONF" "$mnt" -f >"$T/fuse.log" 2>&1 &
fuse_pid=$!
cleanup_fn fuse_cleanup
wait_for 30 is_mounted

test "$(ls "$mnt" | sort | xargs)" = "empty rbd"
test -z "$(ls "$mnt/empty")"
test "$(ls "$mnt/rbd")" = a
size_is "$mnt/rbd/a" $((16 << 20))
expect_fail '!' 'No such file' ls "$mnt/nope"

# A volume created now appears, with its size.
basalt volume create rbd/b --size 8M
eventually test -f "$mnt/rbd/b"
size_is "$mnt/rbd/b" $((8 << 20))

# Data round trip, unaligned.
head -c 1234567 /dev/urandom >"$T/data"
dd if="$T/data" of="$mnt/rbd/a" bs=4096 seek=3 conv=notrunc,fsync \
	status=none
cmp "$T/data" <(dd if="$mnt/rbd/a" bs=4096 skip=3 status=none |
	head -c 1234567)
# Reads end at the end of the volume.
test "$(cat "$mnt/rbd/b" | wc -c)" -eq $((8 << 20))

# No writing past the end.
if dd if=/dev/zero of="$mnt/rbd/b" bs=4096 seek=2048 count=1 \
	conv=notrunc 2>"$T/dd.err"; then
	echo "$0: a write past the end of rbd/b succeeded" >&2
	exit 1
fi
grep -q 'No space left on device' "$T/dd.err"

# open(O_TRUNC) leaves the volume alone ("dd" without conv=notrunc).
dd if=/dev/zero of="$mnt/rbd/a" bs=4096 count=1 status=none
size_is "$mnt/rbd/a" $((16 << 20))
cmp "$T/data" <(dd if="$mnt/rbd/a" bs=4096 skip=3 status=none |
	head -c 1234567)

# truncate grows (and the mons know), but does not shrink.
truncate -s 32M "$mnt/rbd/a"
size_is "$mnt/rbd/a" $((32 << 20))
test "$(basalt volume info rbd/a --format json | jq .size)" -eq $((32 << 20))
expect_fail '!' 'Operation not permitted' truncate -s 4M "$mnt/rbd/a"
test "$(basalt volume info rbd/a --format json | jq .size)" -eq $((32 << 20))
cmp "$T/data" <(dd if="$mnt/rbd/a" bs=4096 skip=3 status=none |
	head -c 1234567)

# A resize by the CLI shows.
basalt volume resize rbd/b --size 12M
eventually size_is "$mnt/rbd/b" $((12 << 20))

# SIGTERM: unmount and exit 0.
kill -TERM "$fuse_pid"
for ((i = 0; i < 200; i++)); do
	kill -0 "$fuse_pid" 2>/dev/null || break
	sleep 0.1
done
wait "$fuse_pid"
fuse_pid=
if is_mounted; then
	echo "$0: still mounted after SIGTERM" >&2
	exit 1
fi
