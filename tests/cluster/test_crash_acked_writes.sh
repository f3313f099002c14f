#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every write libbasalt acknowledged survives kill -9 of every daemon, and
# a client carries on by itself when the cluster comes back.
# basalt_crash_writer keeps 16 writes in flight and logs (with fsync)
# each one the library acknowledged.
#   Round 1: kill -9 the mon, all OSDs and the writer at once, mid-load;
#            restart; a new client reads every acknowledged write back.
#   Round 2: a new writer; kill -9 the mon and all OSDs under it and
#            restart them: the writer must go on (the library resends, no
#            error reaches it); then it stops cleanly and all is verified.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires test -x "$BASALT_BIN/basalt-osd"
requires test -x "$BASALT_BIN/basalt_crash_writer"

daemons="mon.0 osd.0 osd.1 osd.2"

cluster_start --mons 1 --osds 3
basalt pool create rbd --size 3 --failure-domain osd --pg-num 32
basalt volume create rbd/c1 --size 64M --object-size 1M
wait_for 60 cluster_healthy

# Round 1: everything dies at once, the writer too.
writer_start rbd/c1 --depth 16
wait_for 60 writer_acks_past 300
writer_kill
cluster_sh kill $daemons
cluster_sh revive $daemons
wait_for 60 cluster_healthy
writer_verify rbd/c1

# Round 2: the cluster dies under a running writer and comes back.
writer_start rbd/c1 --depth 16
writer_progress 200
cluster_sh kill $daemons
before=$(writer_acks)
sleep 1
cluster_sh revive $daemons
wait_for 60 cluster_healthy
wait_for 60 writer_acks_past $((before + 200))
writer_running			# still running: it never saw an error
writer_finish			# drains and exits 0
writer_verify rbd/c1
echo "acknowledged writes: $(writer_acks)"
