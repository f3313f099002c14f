#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Erasure-coded pools: "pool create --ec K+M" checks the profile, the
# stripe unit and the failure domains the cluster has (OSDs that are in),
# sets min_size to K+1, and lists the profile; placement of an EC pool is
# positional (k+m distinct OSDs per PG).  Reads decode around members
# that are down; members back from the dead get the shards they missed.
# ctest-timeout: 480
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version
requires test -x "$BASALT_BIN/basalt-osd"

# 6 OSDs on 3 hosts
cluster_start --mons 1 --osds 6 --hosts 3 --osd-size 256M

# bad profiles: exit 1 or 2 with a line that says why
expect_fail()
{
	local want=$1
	shift
	if basalt "$@" 2>"$T/err"; then
		echo "expected failure: $*" >&2
		return 1
	fi
	cat "$T/err"
	grep -q -- "$want" "$T/err"
}
expect_fail "m must be from 1 to 4" pool create e --ec 4+5
expect_fail "not a profile K+M" pool create e --ec 4
expect_fail "not a profile K+M" pool create e --ec 4+2x
expect_fail "stripe-unit" pool create e --ec 4+2 --stripe-unit 1000
expect_fail "exclude each other" pool create e --ec 4+2 --size 3
expect_fail "needs --ec" pool create e --size 3 --stripe-unit 4K
# per host: 3 hosts are too few for 4+2 (and even for 2+2)
expect_fail "profile 4+2 needs 6 hosts (one per shard) but the cluster has 3 in" \
	pool create e --ec 4+2
expect_fail "needs 4 hosts" pool create e --ec 2+2
# per OSD: 6 OSDs, 8+3 needs 11
expect_fail "profile 8+3 needs 11 OSDs" pool create e --ec 8+3 \
	--failure-domain osd

basalt pool create ec21 --ec 2+1 | tee "$T/out"
grep -q "erasure 2+1, stripe unit 4096, min_size 3" "$T/out"
basalt pool create ec42 --ec 4+2 --failure-domain osd --stripe-unit 64K \
	--pg-num 8 --format json >"$T/json"
[ "$(jq -r .pool.kind "$T/json")" = erasure ]
[ "$(jq -r .pool.size "$T/json")" = 6 ]
[ "$(jq -r .pool.min_size "$T/json")" = 5 ]
[ "$(jq -r .pool.ec_k "$T/json")" = 4 ]
[ "$(jq -r .pool.ec_m "$T/json")" = 2 ]
[ "$(jq -r .pool.ec_stripe_unit "$T/json")" = 65536 ]
basalt pool ls --format json >"$T/ls"
[ "$(jq -r '.[] | select(.name == "ec42") | .ec_stripe_unit' "$T/ls")" = 65536 ]

# positional placement: every object of ec42 has 6 distinct OSDs
basalt volume create ec42/v --size 64M --object-size 1M
for off in 0 5M 17M 40M 63M; do
	basalt object locate ec42/v "$off" --format json >"$T/loc"
	[ "$(jq '.acting | length' "$T/loc")" = 6 ]
	[ "$(jq '.acting | unique | length' "$T/loc")" = 6 ]
done

verify()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/verify-asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/verify-ubsan" \
		timeout 240 "$BASALT_BIN/basalt_verify" -c "$BASALT_CONF" "$@"
}

# --- a healthy cluster: random writes of every size read back ----------
basalt volume create ec42/t1 --size 48M --object-size 1M
verify --fresh --ops 200 --seed 1 ec42/t1
basalt volume create ec21/t2 --size 16M --object-size 4M
verify --fresh --ops 100 --seed 2 ec21/t2

# every object of ec42/t1 is on 6 OSDs (one shard each), all at one
# version, each shard at most a quarter of the object (4+2, whole stripes)
for osd in 0 1 2 3 4 5; do
	basalt osd list-objects --osd "$osd" --pool ec42 --format json |
		jq -r '.objects[] | "\(.name) \(.version) \(.size)"'
done | sort >"$T/shards"
[ -s "$T/shards" ]
awk '{ n[$1]++; v[$1 " " $2]++; if ($3 > 262144) big++ }
     END { for (o in n) if (n[o] != 6) { print "object " o " on " n[o]; bad++ }
	   for (x in v) if (v[x] != 6) { print "version split: " x; bad++ }
	   if (big) { print big " shards too big"; bad++ }
	   exit bad }' "$T/shards"

# --- degraded: 4+2 (min_size 5) on 6 OSDs, failure domain osd ----------
osd_is_down()
{
	basalt osd ls --format json |
		jq -e --argjson id "$1" '.[] | select(.id == $id) | .up == false' \
			>/dev/null
}

head -c 12M /dev/urandom >"$T/a"
basalt volume import "$T/a" ec42/a --object-size 1M
basalt volume export ec42/a "$T/a.out" --force
cmp "$T/a" "$T/a.out"

# one OSD killed: reads decode around it, writes go on with 5 shards
cluster_sh kill osd.5
wait_for 60 osd_is_down 5
basalt volume export ec42/a "$T/a.out" --force
cmp "$T/a" "$T/a.out"
verify --ops 100 --seed 3 ec42/t1
head -c 8M /dev/urandom >"$T/b"
basalt volume import "$T/b" ec42/b --object-size 1M
basalt volume export ec42/b "$T/b.out" --force
cmp "$T/b" "$T/b.out"

# a second one: 4 shards left, k = 4: reads still right, writes wait
cluster_sh kill osd.4
wait_for 60 osd_is_down 4
basalt volume export ec42/a "$T/a.out" --force
cmp "$T/a" "$T/a.out"
basalt volume export ec42/b "$T/b.out" --force
cmp "$T/b" "$T/b.out"
head -c 2M /dev/urandom >"$T/c"
rc=0
timeout 5 "$BASALT_BIN/basalt" -c "$BASALT_CONF" volume import "$T/c" ec42/c \
	--object-size 1M || rc=$?
[ "$rc" -eq 124 ]	# waited, no error

# both back: writes complete, everything reads back
cluster_sh revive osd.4 osd.5
basalt volume rm ec42/c 2>/dev/null || true
basalt volume import "$T/c" ec42/c --object-size 1M
basalt volume export ec42/c "$T/c.out" --force
cmp "$T/c" "$T/c.out"
basalt volume export ec42/a "$T/a.out" --force
cmp "$T/a" "$T/a.out"
basalt volume export ec42/b "$T/b.out" --force
cmp "$T/b" "$T/b.out"
verify --ops 50 --seed 4 ec42/t1

# --- recovery: the shards the revived OSDs lack are rebuilt ------------
wait_for 120 pgs_clean ec42
# every object: 6 shards, one per OSD, at one version (as above)
for osd in 0 1 2 3 4 5; do
	basalt osd list-objects --osd "$osd" --pool ec42 --format json |
		jq -r '.objects[] | "\(.name) \(.version)"'
done | sort >"$T/shards"
awk '{ n[$1]++; v[$1 " " $2]++ }
     END { for (o in n) if (n[o] != 6) { print "object " o " on " n[o]; bad++ }
	   for (x in v) if (v[x] != 6) { print "version split: " x; bad++ }
	   exit bad }' "$T/shards"
cluster_sh kill osd.0 osd.1
wait_for 60 osd_is_down 0
wait_for 60 osd_is_down 1
basalt volume export ec42/a "$T/a.out" --force
cmp "$T/a" "$T/a.out"
basalt volume export ec42/b "$T/b.out" --force
cmp "$T/b" "$T/b.out"
basalt volume export ec42/c "$T/c.out" --force
cmp "$T/c" "$T/c.out"
cluster_sh revive osd.0 osd.1
wait_for 120 pgs_clean ec42
verify --ops 50 --seed 5 ec42/t1
