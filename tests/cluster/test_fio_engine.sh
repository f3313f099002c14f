#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fio drives a volume through the basalt ioengine (libbasalt's async API):
# random writes at queue depth 32 verified with crc32c, verified again by
# a second fio process, writes with fsync, and trims that read back as
# zeros; fio must report no error.  Skipped unless the engine was built
# (cmake -DBASALT_FIO=ON).
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

engine=$(cd "$BASALT_BIN/.." && pwd)/lib/libfio_basalt.so
if [ ! -f "$engine" ]; then
	echo "$0: test skipped: $engine not built (configure with -DBASALT_FIO=ON)" >&2
	exit 77
fi
requires fio --version
requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

# An engine built with sanitizers needs their runtime loaded first into
# fio, which is not: gcc's libasan is a dependency of the engine, clang's
# runtime is left for the executable to provide.
sanitizer_runtime()
{
	local lib cc

	lib=$(ldd "$engine" | awk '/libasan\.so/ { print $3; exit }')
	if [ -n "$lib" ]; then
		echo "$lib"
		return
	fi
	if nm -D --undefined-only "$engine" "${engine%/*}/libbasalt.so" \
		2>/dev/null | grep -q ' __asan_init'; then
		cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' \
			"$BASALT_BIN/../CMakeCache.txt")
		"${cc:-clang}" -print-file-name=libclang_rt.asan-x86_64.so
	fi
}
preload=$(sanitizer_runtime)

# run_fio NAME ARGS...: fio with our engine on rbd/fio1, jobs as threads
# unless ARGS say --thread=0; its JSON report goes to $T/NAME.json and
# must show no error in any job.
run_fio()
{
	local name=$1
	shift

	LD_PRELOAD=$preload \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout -k 10 240 fio --thread --output-format=json --output="$T/$name.json" \
		--name="$name" --ioengine="external:$engine" \
		--conf="$BASALT_CONF" --pool=rbd --volume=fio1 "$@"
	jq -e '[.jobs[].error] | all(. == 0)' "$T/$name.json"
}

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/fio1 --size 256M
wait_for 60 cluster_healthy

# Random writes, each block read back and checked (crc32c header).
run_fio randwrite --rw=randwrite --bs=4k --iodepth=32 --size=32M \
	--verify=crc32c --do_verify=1 --verify_fatal=1 --randseed=42
jq -e '.jobs[0].write.io_bytes == 33554432 and
	.jobs[0].read.io_bytes == 33554432' "$T/randwrite.json"

# A new process (a new connection) finds every block as written.
run_fio reverify --rw=randwrite --bs=4k --iodepth=16 --size=32M \
	--verify=crc32c --verify_only=1 --verify_fatal=1 --randseed=42
jq -e '.jobs[0].read.io_bytes == 33554432' "$T/reverify.json"

# Larger writes with a flush (basalt_aio_flush) every 8 of them, from two
# jobs in two forked processes (each opens the volume itself).
run_fio fsync --thread=0 --numjobs=2 --offset_increment=16M \
	--rw=randwrite --bs=64k --iodepth=16 --offset=64M --size=16M \
	--fsync=8 --verify=crc32c --do_verify=1 --verify_fatal=1
jq -e '[.jobs[].sync.total_ios > 0] | length == 2 and all' "$T/fsync.json"

# Trim (basalt_aio_discard): a written pattern reads back as zeros.
run_fio pattern --rw=write --bs=128k --iodepth=8 --offset=128M \
	--size=16M --verify=pattern --verify_pattern=0xab --do_verify=1
run_fio trim --rw=trim --bs=1M --iodepth=4 --offset=128M --size=16M
jq -e '.jobs[0].trim.io_bytes == 16777216' "$T/trim.json"
run_fio zeros --rw=write --bs=128k --iodepth=8 --offset=128M \
	--size=16M --verify=pattern --verify_pattern=0x00 --verify_only=1 \
	--verify_fatal=1
jq -e '.jobs[0].read.io_bytes == 16777216' "$T/zeros.json"

# Asking for a volume that does not exist fails with a clear message.
if LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0 fio --name=nope \
	--thread --ioengine="external:$engine" --conf="$BASALT_CONF" --pool=rbd \
	--volume=nope --rw=read --size=1M >"$T/nope.out" 2>&1; then
	cat "$T/nope.out" >&2
	echo "$0: fio on a missing volume succeeded" >&2
	exit 1
fi
grep -q "cannot open volume 'rbd/nope'" "$T/nope.out"
