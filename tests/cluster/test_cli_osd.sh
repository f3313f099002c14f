#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'basalt osd ls' and 'basalt osd df' on 3 OSDs: all up and in, each on
# its own host, capacities as configured, use and object counts that grow
# with written data (every OSD holds every object of a size-3 pool), and
# an OSD killed with SIGKILL shows as not answering within a bounded time,
# then answers again once revived.
# ctest-timeout: 180
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

cluster_start --mons 1 --osds 3 --osd-size 256M

basalt osd ls --format json >"$T/ls.json"
jq -e 'length == 3 and (map(.id) == [0, 1, 2]) and
	all(.[]; .up and .in and .weight > 0 and (.addr | test("^127\\.0\\.0\\.1:[0-9]+$"))) and
	(map(.host) | unique | length) == 3 and
	(map(.name) == ["osd.0", "osd.1", "osd.2"])' "$T/ls.json"
# The address each OSD wrote is the one in the map.
for n in 0 1 2; do
	test "$(jq -r ".[$n].addr" "$T/ls.json")" = "$(osd_addr "$n")"
done
test "$(osds_up)" -eq 3
basalt osd ls | grep -E '^osd\.1 +host-1 +127\.0\.0\.1:[0-9]+ +up +in +'

# df: an empty cluster.
basalt osd df --format json >"$T/df.json"
jq -e 'length == 3 and all(.[]; .status == "ok" and .up and .in and
	.capacity > 128 * 1048576 and .capacity <= 256 * 1048576 and
	.used <= .capacity and .avail == .capacity - .used and
	.objects == 0 and .use_percent >= 0 and .use_percent < 5)' "$T/df.json"
test "$(basalt osd df | grep -c '^osd\.')" -eq 3
basalt osd df | grep -q '^TOTAL '

# 8 MiB of data = 2 objects of 4 MiB, on every OSD (size 3 of 3).
volume_setup rbd/v1 64M --size 3 --pg-num 32
head -c $((8 << 20)) /dev/urandom >"$T/data"
basalt volume import "$T/data" rbd/v2
basalt osd df --format json >"$T/df2.json"
jq -e 'all(.[]; .status == "ok" and .objects == 2 and
	.used >= 8 * 1048576 and .used < 64 * 1048576 and .use_percent > 0)' \
	"$T/df2.json"
test "$(jq '[.[].objects] | add' "$T/df2.json")" -eq 6

# A killed OSD does not answer: 'unknown' while the map still says up,
# 'down' once the mons mark it; either way quickly, and the others answer.
osd_kill 2
start=$(now_ms)
basalt osd df --format json >"$T/df3.json"
test $(($(now_ms) - start)) -lt 10000
jq -e '.[2].status == "unknown" or .[2].status == "down"' "$T/df3.json"
jq -e '.[2].capacity == null and .[2].objects == null' "$T/df3.json"
jq -e '[.[0], .[1]] | all(.[]; .status == "ok" and .objects == 2)' \
	"$T/df3.json"
basalt osd df | grep -E '^osd\.2 +host-2 +(unknown|down) +- +- +- +- +- +-$'

df_all_ok()
{
	basalt osd df --format json | jq -e 'all(.[]; .status == "ok")' >/dev/null
}
osd_revive 2
wait_for 30 df_all_ok
basalt osd df --format json | jq -e '.[2].objects == 2'
test "$(osds_up)" -eq 3
