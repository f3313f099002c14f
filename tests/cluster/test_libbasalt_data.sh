#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libbasalt end to end on a 1-mon 3-OSD cluster with a size-3 pool:
# basalt_verify writes known patterns at random offsets and sizes
# (unaligned, across object boundaries, at the very end of the volume),
# reads them back, checks that holes read as zeros, discard, write_zeroes
# and block status, the -ERANGE/-EINVAL/-ENOENT cases, async I/O with many
# requests in flight from two threads, basalt_resize shrinking (the data
# past the end is freed) and growing, and the data after reopening and
# reconnecting.  Then the same on a volume whose size is not a multiple of
# its object size, and once more on the first one from a new client.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_verify"

# Client-side sanitizer reports go to files that cleanup checks.
verify()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/verify-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/verify-ubsan" \
		timeout 240 "$BASALT_BIN/basalt_verify" -c "$BASALT_CONF" "$@"
}

check_client_reports()
{
	! _sanitizer_reports "$T"/verify-asan.* "$T"/verify-ubsan.*
}
cleanup_fn check_client_reports

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/t1 --size 64M --object-size 1M
wait_for 60 cluster_healthy

verify --fresh --ops 200 --seed 1 rbd/t1

# 9 MiB + 3.5 KiB in 4 MiB objects: the last object is partial
basalt volume create rbd/t2 --size 9440768 --object-size 4M
verify --fresh --ops 100 --seed 2 rbd/t2

# the data of t1 is still there for a new client, which carries on
verify --ops 20 --seed 3 rbd/t1
