#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# basalt-nbd on a 1-mon 3-OSD cluster with real NBD clients: nbdinfo
# lists the volumes and maps a fresh one as one hole and, after a write,
# only the written extent as data; qemu-img converts 64 MiB of random data
# in and out byte for byte; qemu-io writes, reads with pattern checks,
# discards, zeroes, flushes and writes with FUA; nbdcopy copies one volume
# to another; fio's nbd engine verifies crc32c at iodepth 32 over four
# connections at once.
# ctest-timeout: 600
# ctest-labels: cluster;slow
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt-nbd"
requires nbdinfo --version
requires nbdcopy --version
requires qemu-img --version
requires qemu-io --version
requires jq --version
requires fio --enghelp=nbd

check_server_logs()
{
	! _sanitizer_reports "$T"/nbd*.err
}
cleanup_fn check_server_logs

n=0
# nbd ARGS... --run CMD: a captive basalt-nbd on a free port; its exit
# status is CMD's.
nbd()
{
	n=$((n + 1))
	timeout 300 "$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" \
		--listen 127.0.0.1:0 --log-file "$T/nbd$n.log" "$@" \
		2>"$T/nbd$n.err"
}

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/a --size 64M --object-size 1M
basalt volume create rbd/b --size 64M
basalt volume create rbd/c --size 64M
wait_for 60 cluster_healthy

# --- listing and the allocation map ----------------------------------------
nbd --run 'nbdinfo --list --json "$uri" >"$T/list.json"'
test "$(jq -r '[.exports[]."export-name"] | sort | join(" ")' "$T/list.json")" = \
	"rbd/a rbd/b rbd/c"
test "$(jq -r '.exports[] | select(."export-name" == "rbd/a") | ."export-size"' \
	"$T/list.json")" = 67108864

cat >"$T/map.sh" <<'EOF'
set -e -x
nbdinfo --map "$uri/rbd/a" >"$T/map0"
qemu-io -f raw -c 'write -P 0x5a 4M 1M' "$uri/rbd/a"
nbdinfo --map "$uri/rbd/a" >"$T/map1"
EOF
nbd --run 'bash "$T/map.sh"'
test "$(awk '{ print $1, $2, $3 }' "$T/map0")" = "0 67108864 3"
test "$(awk '{ printf "%s %s %s;", $1, $2, $3 }' "$T/map1")" = \
	"0 4194304 3;4194304 1048576 0;5242880 61865984 3;"

# --- data in and out ------------------------------------------------------------
head -c 64M /dev/urandom >"$T/src"
cat >"$T/copy.sh" <<'EOF'
set -e -x
qemu-img convert -n -f raw -O raw "$T/src" "$uri/rbd/a"
qemu-img convert -f raw -O raw "$uri/rbd/a" "$T/dst1"
cmp "$T/src" "$T/dst1"
nbdcopy "$uri/rbd/a" "$uri/rbd/b"
nbdcopy "$uri/rbd/b" "$T/dst2"
cmp "$T/src" "$T/dst2"
EOF
nbd --run 'bash "$T/copy.sh"'

cat >"$T/qemu-io.sh" <<'EOF'
set -e -x
qemu-io -f raw -t none \
	-c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' \
	-c 'write -f -P 0xcd 1M 64k' -c 'read -P 0xcd 1M 64k' \
	-c 'discard 2M 1M' -c 'read -P 0 2M 1M' \
	-c 'write -z 3M 1M' -c 'read -P 0 3M 1M' \
	-c 'write -z -u 4M 1M' -c 'read -P 0 4M 1M' \
	-c 'write -P 0x11 5M 512' -c 'read -P 0x11 5M 512' \
	-c 'write -P 0x33 12345 77' -c 'read -P 0x33 12345 77' \
	-c 'write -P 0x66 32M 32M' -c 'read -P 0x66 32M 32M' \
	-c 'write -P 0x22 66060288 1M' -c 'read -P 0x22 66060288 1M' \
	-c 'flush' "$uri/rbd/c"
# a pattern check that must fail ("! CMD" would not stop "set -e")
if qemu-io -f raw -c 'read -P 0xee 0 4k' "$uri/rbd/c"; then false; fi
# a new connection sees what the last one wrote
qemu-io -f raw -c 'read -P 0xcd 1M 64k' -c 'read -P 0 2M 2M' "$uri/rbd/c"
EOF
nbd --run 'bash "$T/qemu-io.sh"'

# --- fio: 4 connections, iodepth 32, crc32c verified ----------------------------
cat >"$T/fio.job" <<'EOF'
[global]
ioengine=nbd
uri=${uri}
rw=randwrite
bs=4k
iodepth=32
size=4M
verify=crc32c
verify_fatal=1
do_verify=1
[j0]
offset=0
[j1]
offset=16M
[j2]
offset=32M
[j3]
offset=48M
EOF
nbd --export rbd/c --run 'fio --output-format=json \
	--output="$T/fio.json" "$T/fio.job"' || {
	cat "$T/fio.json"
	false
}
# four jobs (four connections), no error, each wrote its 4 MiB and
# read it all back to verify it
jq -e '(.jobs | length) == 4 and all(.jobs[];
	.error == 0 and .write.io_bytes == 4194304 and
	.read.io_bytes == 4194304)' "$T/fio.json"

# the data copied first is still intact after all of that
nbd --export rbd/b --run 'qemu-img compare -f raw -F raw "$T/src" "$uri"'
