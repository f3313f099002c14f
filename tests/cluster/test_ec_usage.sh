#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Erasure-coded objects report their exact allocation and the pools their
# raw versus stored bytes: the same writes, trims and zeroes on a
# replicated (size 3) and an EC 2+1 volume give the same nbdinfo --map,
# the same "volume info" used bytes and the same export; "pool ls" and
# "osd df" show raw / stored of about 3 and 1.5.  A member that missed the
# ops and got its shards back by recovery keeps the same records: as
# primary it gives the same map and sizes.
# ctest-timeout: 300
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires nbdinfo --version
requires qemu-io --version

check_server_logs()
{
	! _sanitizer_reports "$T"/nbd*.err
}
cleanup_fn check_server_logs

n=0
nbd()
{
	n=$((n + 1))
	timeout 300 "$BASALT_BIN/basalt-nbd" -c "$BASALT_CONF" \
		--listen 127.0.0.1:0 --log-file "$T/nbd$n.log" "$@" \
		2>"$T/nbd$n.err"
}

cluster_start --mons 1 --osds 3
basalt pool create rep --size 3 --failure-domain osd --pg-num 16
basalt pool create ec --ec 2+1 --failure-domain osd --pg-num 16
wait_for 60 cluster_healthy

# --- allocation: the same ops on both volumes --------------------------
for p in rep ec; do
	basalt volume create $p/s --size 32M --object-size 1M
done
# partial stripes and blocks, across objects, a trim and zeroes inside
cat >"$T/ops.sh" <<'EOF'
set -e -x
for p in ${pools:-rep ec}; do
	qemu-io -f raw \
		-c 'write -P 0x11 1M 4K' \
		-c 'write -P 0x22 8196K 68K' \
		-c 'write -P 0x33 12M 1M' \
		-c 'write -P 0x44 16380K 8K' \
		-c 'discard 12544K 256K' \
		-c 'write -z -u 12288K 64K' \
		-c 'write -z 20M 12K' \
		"$uri/$p/s"
	nbdinfo --map "$uri/$p/s" >"$T/map.$p"
done
EOF
nbd --run 'bash "$T/ops.sh"'
cat "$T/map.rep" "$T/map.ec"
cmp "$T/map.rep" "$T/map.ec"
# data where written, holes elsewhere (nothing else is one run)
awk '$3 == 0 { d += $2 } END { print d }' "$T/map.ec" >"$T/data"
# 4K + 68K + (1M - 256K - 64K) + 8K + 12K (written zeroes, no hole)
[ "$(cat "$T/data")" = $(( (4 + 68 + 1024 - 256 - 64 + 8 + 12) * 1024 )) ]
[ "$(awk '$3 == 3' "$T/map.ec" | wc -l)" -ge 6 ]

# every object of ec/s has its 3 shards at one version, those sent as
# discards (units never written) included
for osd in 0 1 2; do
	basalt osd list-objects --osd "$osd" --pool ec --format json |
		jq -r '.objects[] | "\(.name) \(.version)"'
done | sort >"$T/shards"
[ "$(cut -d' ' -f1 "$T/shards" | sort -u | wc -l)" = 6 ]
awk '{ n[$1]++; v[$1 " " $2]++ }
     END { for (o in n) if (n[o] != 3) { print "object " o " on " n[o]; bad++ }
	   for (x in v) if (v[x] != 3) { print "version split: " x; bad++ }
	   exit bad }' "$T/shards"

# STAT: the same logical sizes (the end of the highest byte written)
ostat()
{
	osd_tool stat --pool "${1%/*}" --object-size 1M --offset "$2" \
		--volume "$(basalt volume info "$1" --format json | jq .id)" |
		sed 's/^version [0-9a-f]* //'
}
for off in 1M 3M 8M 12M 15M 16M 20M; do
	ostat rep/s $off >"$T/stat.rep"
	ostat ec/s $off >"$T/stat.ec"
	cat "$T/stat.ec"
	cmp "$T/stat.rep" "$T/stat.ec"
done
[ "$(ostat ec/s 8M)" = "size $((72 * 1024))" ]
[ "$(ostat ec/s 20M)" = "size 12288" ]
[ "$(ostat ec/s 3M)" = absent ]

used() { basalt volume info "$1" --format json | jq -r .used; }
[ "$(used rep/s)" = "$(cat "$T/data")" ]
[ "$(used ec/s)" = "$(cat "$T/data")" ]

basalt volume export rep/s "$T/rep.img"
basalt volume export ec/s "$T/ec.img"
cmp "$T/rep.img" "$T/ec.img"
[ "$(od -An -tx1 -j $((8196 * 1024)) -N1 "$T/ec.img" | xargs)" = 22 ]
# export writes only the data: the holes stay sparse
[ "$(du -B1 "$T/ec.img" | cut -f1)" -le $(( $(cat "$T/data") + 1048576 )) ]

# --- recovery carries the records ---------------------------------------
# the same ops on a 2+1 volume (min_size 2) while osd.2 is down; recovery
# rebuilds its shards, with the object's record of their version
basalt pool create ecr --ec 2+1 --min-size 2 --failure-domain osd \
	--pg-num 16
basalt volume create ecr/s --size 32M --object-size 1M
wait_for 60 pgs_clean ecr
osd_kill 2
wait_for 30 osd_is_down 2
nbd --run 'pools=ecr bash "$T/ops.sh"'
cmp "$T/map.rep" "$T/map.ecr"
osd_revive 2
wait_for 120 pgs_clean ecr
grep -q "recovered [1-9]" "$T/pgs"
osd_tool ec-verify --pool ecr --records
# osd.2 is the primary of the PGs where it comes before the OSD down
for x in 0 1; do
	osd_kill $x
	wait_for 30 osd_is_down $x
	nbd --run 'nbdinfo --map "$uri/ecr/s" >"$T/map.ecr"'
	cmp "$T/map.rep" "$T/map.ecr"
	for off in 1M 8M 12M 16M 20M; do
		ostat rep/s $off >"$T/stat.rep"
		ostat ecr/s $off >"$T/stat.ecr"
		cmp "$T/stat.rep" "$T/stat.ecr"
	done
	osd_revive $x
	wait_for 120 pgs_clean ecr
done

# --- raw versus stored: 8M of data into each pool ----------------------
basalt pool create rep2 --size 3 --failure-domain osd --pg-num 16
basalt pool create ec2 --ec 2+1 --failure-domain osd --pg-num 16
head -c 8M /dev/urandom >"$T/src"
basalt volume import "$T/src" rep2/v --object-size 1M
basalt volume import "$T/src" ec2/v --object-size 1M
basalt volume export ec2/v "$T/src.out" --force
cmp "$T/src" "$T/src.out"

basalt pool ls --format json | tee "$T/ls"
pool() { jq -r --arg p "$1" ".[] | select(.name == \$p) | .$2" "$T/ls"; }
[ "$(pool rep2 stored)" = 8388608 ]
[ "$(pool rep2 raw)" = $((3 * 8388608)) ]
[ "$(pool rep2 raw_ratio)" = 3 ]
[ "$(pool rep2 objects)" = 8 ]
[ "$(pool ec2 stored)" = 8388608 ]
[ "$(pool ec2 raw)" = $((3 * 8388608 / 2)) ]
[ "$(pool ec2 raw_ratio)" = 1.5 ]
[ "$(pool ec2 objects)" = 8 ]
basalt pool ls | tee "$T/ls.txt"
grep -Eq '^ *[0-9]+ +ec2 +erasure .* 8 +8\.00 MiB +12\.0 MiB +1\.50$' "$T/ls.txt"
grep -Eq '^ *[0-9]+ +rep2 +replicated .* 8 +8\.00 MiB +24\.0 MiB +3\.00$' \
	"$T/ls.txt"

# osd df: per OSD the stored share, the pools' raw and stored bytes
basalt osd df --format json | tee "$T/df"
[ "$(jq '[.[].pools[] | select(.pool == '"$(pool ec2 id)"') | .raw] | add' \
	"$T/df")" = $((3 * 8388608 / 2)) ]
[ "$(jq '[.[].stored] | add' "$T/df")" = \
	$(( $(jq '[.[] | .stored] | add' "$T/ls") )) ]
basalt osd df | tee "$T/df.txt"
grep -q STORED "$T/df.txt"
