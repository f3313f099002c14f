#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An ext4 file system on a volume seen through basalt-fuse: mkfs.ext4,
# a clean e2fsck, a file written with debugfs reads back after unmounting
# and mounting again; punching a hole in a volume frees its blocks (they
# read as zeros and SEEK_DATA, from libbasalt's allocation map, skips
# them).  Unmount must be clean.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -c /dev/fuse
requires fusermount3 -V
requires mkfs.ext4 -V
requires e2fsck -V
requires debugfs -V
requires python3 --version
requires jq --version
requires test -x "$BASALT_BIN/basalt-fuse"
requires test -x "$BASALT_BIN/basalt-osd"

mnt=$T/mnt
fuse_pid=

is_mounted()
{
	grep -q " $mnt fuse" /proc/mounts
}

fuse_start()
{
	mkdir -p "$mnt"
	"$BASALT_BIN/basalt-fuse" -c "$BASALT_CONF" "$mnt" -f \
		>>"$T/fuse.log" 2>&1 &
	fuse_pid=$!
	wait_for 30 is_mounted
}

# Unmount, then basalt-fuse must exit 0 on its own within 20 s.
fuse_stop()
{
	local i rc=0

	[ -n "$fuse_pid" ] || return 0
	if is_mounted; then
		fusermount3 -u "$mnt" || rc=1
	fi
	for ((i = 0; i < 200; i++)); do
		kill -0 "$fuse_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$fuse_pid" 2>/dev/null; then
		echo "$0: basalt-fuse did not exit after unmount" >&2
		kill -KILL "$fuse_pid"
		rc=1
	fi
	wait "$fuse_pid" || { echo "$0: basalt-fuse exited $?" >&2; rc=1; }
	fuse_pid=
	if _sanitizer_reports "$T/fuse.log"; then
		rc=1
	fi
	return $rc
}

# Last resort if the test dies half-way: never leave a mount behind.
fuse_cleanup()
{
	local rc=0

	fuse_stop || rc=1
	if is_mounted; then
		fusermount3 -u -z "$mnt"
		rc=1
	fi
	[ $rc -eq 0 ] || tail -n 30 "$T/fuse.log" >&2
	return $rc
}

cluster_start --mons 1 --osds 3
cleanup_fn fuse_cleanup
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/fs1 --size 256M
basalt volume create rbd/raw1 --size 64M
wait_for 60 cluster_healthy

fuse_start
# Every volume is a file of its size.
test "$(stat -c %s "$mnt/rbd/fs1")" -eq $((256 << 20))
test "$(stat -c %s "$mnt/rbd/raw1")" -eq $((64 << 20))
ls -l "$mnt/rbd" | grep -q ' 268435456 .* fs1$'
test -d "$mnt/rbd"
test ! -e "$mnt/rbd/nope"

# --- ext4 ----------------------------------------------------------------
mkfs.ext4 -F -q "$mnt/rbd/fs1"
e2fsck -f -n "$mnt/rbd/fs1"
# thin: the empty file system uses a part of the volume only
fs_used=$(basalt volume info rbd/fs1 --format json | jq -e '.used')
test "$fs_used" -gt 0
test "$fs_used" -lt $((128 << 20))
head -c 3M /dev/urandom >"$T/data"
debugfs -w -R "write $T/data data.bin" "$mnt/rbd/fs1"
sync "$mnt/rbd/fs1"

fuse_stop
fuse_start
debugfs -R "cat /data.bin" "$mnt/rbd/fs1" >"$T/back"
cmp "$T/data" "$T/back"
e2fsck -f -n "$mnt/rbd/fs1"

# --- punch hole and zero range (on another volume) -----------------------
# First offset of data at or after $1 in raw1 (or "none").
seek_data()
{
	python3 - "$mnt/rbd/raw1" "$1" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    print(os.lseek(fd, int(sys.argv[2]), os.SEEK_DATA))
except OSError as e:
    if e.errno != 6:	# ENXIO: no data after the offset
        raise
    print("none")
EOF
}

# The bytes volume rbd/$1 uses, as "basalt volume info" counts them.
used()
{
	basalt volume info "rbd/$1" --format json | jq -e '.used'
}

test "$(used raw1)" -eq 0
head -c 16M /dev/urandom >"$T/raw"
dd if="$T/raw" of="$mnt/rbd/raw1" bs=1M seek=8 conv=notrunc,fsync \
	status=none
cmp -n 16M "$T/raw" <(dd if="$mnt/rbd/raw1" bs=1M skip=8 count=16 \
	status=none)
test "$(seek_data 0)" -eq $((8 << 20))
test "$(used raw1)" -eq $((16 << 20))

# Punch [8M, 16M): the space is freed, it reads as zeros and holds no
# data any more.
fallocate -p -o 8M -l 8M "$mnt/rbd/raw1"
test "$(used raw1)" -eq $((8 << 20))
cmp -n 8M /dev/zero <(dd if="$mnt/rbd/raw1" bs=1M skip=8 count=8 \
	status=none)
test "$(seek_data 0)" -eq $((16 << 20))
# The rest is untouched.
cmp <(tail -c 8M "$T/raw") <(dd if="$mnt/rbd/raw1" bs=1M skip=16 \
	count=8 status=none)

# Punch [21M, 22M) inside an object (of 4M): that 1M is freed.
fallocate -p -o 21M -l 1M "$mnt/rbd/raw1"
test "$(used raw1)" -eq $((7 << 20))
cmp -n 1M /dev/zero <(dd if="$mnt/rbd/raw1" bs=1M skip=21 count=1 \
	status=none)
cmp <(tail -c 2M "$T/raw") <(dd if="$mnt/rbd/raw1" bs=1M skip=22 \
	count=2 status=none)

# Zero [16M, 20M): zeros, still allocated, and the size does not change.
fallocate -z -o 16M -l 4M "$mnt/rbd/raw1"
test "$(used raw1)" -eq $((7 << 20))
cmp -n 4M /dev/zero <(dd if="$mnt/rbd/raw1" bs=1M skip=16 count=4 \
	status=none)
cmp <(head -c 13M "$T/raw" | tail -c 1M) <(dd if="$mnt/rbd/raw1" bs=1M \
	skip=20 count=1 status=none)
test "$(stat -c %s "$mnt/rbd/raw1")" -eq $((64 << 20))

# Punch everything: no data left at all, nothing used.
fallocate -p -o 0 -l 64M "$mnt/rbd/raw1"
test "$(seek_data 0)" = none
test "$(used raw1)" -eq 0

fuse_stop
