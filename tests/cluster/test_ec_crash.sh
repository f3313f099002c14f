#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Erasure-coded stripes survive a power cut: kill -9 of every daemon during
# a burst of partial-stripe writes (4+2, 4 KiB stripe unit: writes of 16 B
# to 40 KB at 16-byte-aligned offsets, so sub-unit, unaligned, crossing
# units and stripes) leaves shards of some objects at two versions.
# Peering must roll each torn write forward (k shards hold it) or back
# (the undo records of the shards that took it), so that after the
# restart every PG is active+clean, every acknowledged write reads back,
# and every object's k+m shards are at one version with parity that
# agrees with data (basalt-osd-tool ec-verify reads every shard), and
# every member keeps the object's logical-size record of that version (a
# roll-back puts back the record of the version it goes back to).
# Three rounds, the writer killed with the cluster each time.
# ctest-timeout: 600
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"
requires test -x "$BASALT_BIN/basalt-osd-tool"

daemons="mon.0 osd.0 osd.1 osd.2 osd.3 osd.4 osd.5"

# 6 OSDs on 3 hosts; one shard per OSD
cluster_start --mons 1 --osds 6 --hosts 3 --osd-size 256M
basalt pool create ec --ec 4+2 --failure-domain osd --pg-num 16
basalt volume create ec/c1 --size 24M --object-size 1M
wait_for 120 cluster_healthy

rolled_back()
{
	cat "$CLUSTER_DIR"/osd.*.log | grep -c "shard rolled back" || true
}

ec_verify()
{
	osd_tool ec-verify --pool ec --records | tee "$T/ec-verify"
}

acks=0
for round in 1 2 3; do
	writer_start ec/c1 --depth 16 --max-len 40000 --seed "$round"
	wait_for 60 writer_acks_past $((acks + 300))
	# the power cut: every daemon at once, then the writer
	cluster_sh kill $daemons
	writer_kill
	acks=$(writer_acks)
	cluster_sh revive $daemons
	wait_for 120 pgs_clean ec
	wait_for 120 cluster_healthy
	writer_verify ec/c1
	ec_verify
	grep -q " 0 bad" "$T/ec-verify"
done
echo "acknowledged writes: $acks, shards rolled back: $(rolled_back)"

# the cluster still takes writes, and they are consistent too
writer_start ec/c1 --depth 16 --max-len 40000 --seed 7
wait_for 60 writer_acks_past $((acks + 200))
writer_finish
writer_verify ec/c1
ec_verify
