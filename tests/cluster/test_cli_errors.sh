#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI's failures without a running cluster: an unreachable cluster is
# reported quickly; unknown commands and options, missing arguments, bad
# values and a bad --format each give one line on stderr that says what
# to do, and the documented exit code (1 failed, 2 bad command line).
# ctest-timeout: 120
source "$(dirname "$0")/../functions.sh"
set -e -x

requires jq --version

# A config naming three mons on free ports where nothing listens.
base=$(free_port_range 200)
BASALT_CONF=$T/basalt.conf
cat >"$BASALT_CONF" <<CONF
[global]
mon_command_timeout = 5s
[mon.0]
addr = 127.0.0.1:$base
[mon.1]
addr = 127.0.0.1:$((base + 2))
[mon.2]
addr = 127.0.0.1:$((base + 4))
CONF
addrs="127.0.0.1:$base, 127.0.0.1:$((base + 2)), 127.0.0.1:$((base + 4))"

# --- an unreachable cluster: quick, one line, exit 1 ------------------
echo data >"$T/file"
for cmd in "status" "status --format json" "mon ls" "pool ls" \
	"volume ls" "volume info rbd/v" "pool create rbd --size 3" \
	"volume create rbd/v --size 1G" "osd ls" "osd df" \
	"osd list-objects --osd 0 --pg 1.0" "object locate rbd/v 0" \
	"volume import $T/file rbd/v" "volume export rbd/v $T/out" \
	"bench rbd/v --pattern read" "pg ls" "pg scrub 1.0" "osd out 1" \
	"osd add" "watch --count 1"; do
	start=$(now_ms)
	# shellcheck disable=SC2086
	expect_fail 1 "^basalt: cannot reach any monitor at .*: is the cluster running\?$" \
		basalt $cmd
	elapsed=$(($(now_ms) - start))
	echo "'$cmd' failed after $elapsed ms"
	test "$elapsed" -lt 8000
done
# status names every mon it tried.
expect_fail 1 "^basalt: cannot reach any monitor at $addrs: is the cluster running\?$" \
	basalt status
# -m replaces the config's list.
expect_fail 1 "^basalt: cannot reach any monitor at 127.0.0.1:$((base + 4)): is the cluster running\?$" \
	basalt -m "127.0.0.1:$((base + 4))" status
test ! -s "$T/expect.out"

# No config file.
expect_fail 1 "^basalt: cannot open '$T/nope.conf'.*-c FILE" \
	"$BASALT_BIN/basalt" -c "$T/nope.conf" status
expect_fail 1 "^basalt: .*$T/nope.conf.*-c FILE" \
	env BASALT_CONF="$T/nope.conf" "$BASALT_BIN/basalt" status

# --- the command line: exit 2, before anything is sent ---------------
expect_fail 2 "^basalt: unknown command 'frob' \(see 'basalt --help'\)$" \
	basalt frob
expect_fail 2 "^basalt: unknown pool command 'frob': use one of create, ls, rm \(see 'basalt help pool'\)$" \
	basalt pool frob
expect_fail 2 "^basalt: unknown volume command 'grow': use one of create, ls, info, resize, rm" \
	basalt volume grow rbd/v
expect_fail 2 "^basalt: 'pool' needs a command: use one of create, ls, rm" \
	basalt pool
expect_fail 2 "^basalt: no command given \(see 'basalt --help'\)$" basalt
expect_fail 2 "^basalt: 'pool create': missing arguments \(usage: basalt pool create NAME \{--size N \| --ec K\+M" \
	basalt pool create
expect_fail 2 "^basalt: 'pool create' needs --size N" \
	basalt pool create rbd
expect_fail 2 "^basalt: 'volume create' needs --size SIZE \(e.g. --size 10G\)$" \
	basalt volume create rbd/v
expect_fail 2 "^basalt: 'volume info': missing arguments \(usage: basalt volume info POOL/NAME\)$" \
	basalt volume info
expect_fail 2 "^basalt: 'rbd' is not POOL/NAME \(e.g. 'rbd/vm1'\)$" \
	basalt volume info rbd
expect_fail 2 "^basalt: 'a/b/c' is not POOL/NAME" \
	basalt volume rm a/b/c
expect_fail 2 "^basalt: 'pool ls': unexpected argument 'extra'" \
	basalt pool ls extra
expect_fail 2 "^basalt: 'pool ls': unknown option '--bogus' \(see 'basalt help pool ls'\)$" \
	basalt pool ls --bogus
expect_fail 2 "^basalt: 'volume create': option '--size' needs a value" \
	basalt volume create rbd/v --size
expect_fail 2 "^basalt: unknown option '--bogus' \(see 'basalt --help'\)$" \
	basalt --bogus status
expect_fail 2 "^basalt: '--format': 'yaml' is not a format \(use plain or json\)$" \
	basalt status --format yaml
expect_fail 2 "^basalt: '--format': 'xml' is not a format" \
	basalt --format=xml pool ls
expect_fail 2 "^basalt: '--format' needs a value$" \
	basalt status --format
expect_fail 2 "^basalt: '--timeout'" basalt --timeout 0 status
expect_fail 2 "^basalt: 'help': unknown command 'frob'" basalt help frob

# --- bad values: exit 1, before anything is sent ---------------------
expect_fail 1 "^basalt: '--size': '10X' is not a size \(use a number with K, M, G or T\)$" \
	basalt volume create rbd/v --size 10X
expect_fail 1 "^basalt: '--size': '-1G' is not a size" \
	basalt volume create rbd/v --size -1G
expect_fail 1 "^basalt: '--size': '0' must be a positive multiple of 512 bytes$" \
	basalt volume create rbd/v --size 0
expect_fail 1 "^basalt: '--object-size': '3M' must be a power of two from 4K to 64M$" \
	basalt volume create rbd/v --size 1G --object-size 3M
expect_fail 1 "^basalt: '--size': three is not a number|^basalt: '--size': 'three' is not a number" \
	basalt pool create rbd --size three
expect_fail 1 "^basalt: '--size': 0 is out of range \(use 1 to 16\)$" \
	basalt pool create rbd --size 0
expect_fail 1 "^basalt: '--min-size': 3 is out of range \(use 1 to 2\)$" \
	basalt pool create rbd --size 2 --min-size 3
expect_fail 1 "^basalt: '--failure-domain': 'disk' is not a failure domain \(use osd or host\)$" \
	basalt pool create rbd --size 3 --failure-domain disk
expect_fail 1 "^basalt: removing pool 'rbd' cannot be undone: repeat with --yes-i-really-mean-it$" \
	basalt pool rm rbd
expect_fail 1 "^basalt: removing osd\.3 with --force may lose the only copy of some data: repeat with --yes-i-really-mean-it$" \
	basalt osd rm osd.3 --force
expect_fail 1 "^basalt: 'OSD': 'x' is not a number" basalt osd out x
expect_fail 1 "^basalt: 'PGID': '1\.zz' is not a PG id \(POOL_ID\.PG in hex, e\.g\. 1\.2f\)$" \
	basalt pg scrub 1.zz
expect_fail 1 "^basalt: '--count': 0 is out of range" basalt watch --count 0
expect_fail 2 "^basalt: '--state': 'happy' is not a PG state" \
	basalt pg ls --state happy
expect_fail 2 "^basalt: '--state': 'active\+' is not a PG state" \
	basalt pg ls --state active+
expect_fail 2 "^basalt: 'osd rm': missing arguments \(usage: basalt osd rm N " \
	basalt osd rm
expect_fail 2 "^basalt: 'pg deep-scrub': unexpected argument '1\.1'" \
	basalt pg deep-scrub 1.0 1.1
expect_fail 2 "^basalt: unknown pg command 'query': use one of ls, scrub, deep-scrub, repair" \
	basalt pg query 1.0

# --- help and version: exit 0, on stdout ------------------------------
basalt --help >"$T/help"
for c in "status" "mon ls" "pool create NAME {--size N | --ec K+M" "pool ls" "pool rm" \
	"volume create POOL/NAME --size SIZE" "volume ls" "volume info" \
	"volume resize" "volume rm" "volume import FILE POOL/NAME" \
	"volume export POOL/NAME FILE" "osd ls" "osd df" "osd list-objects" \
	"object locate POOL/NAME OFFSET" "bench POOL/NAME --pattern" \
	"osd out N" "osd in N" "osd down N" "osd add [--id N]" \
	"osd rm N [--force --yes-i-really-mean-it]" \
	"pg ls [--pool POOL] [--state STATE] [--osd N]" "pg scrub PGID" \
	"pg deep-scrub PGID" "pg repair PGID" "watch [--count N]" \
	"status [--detail]" \
	"--format plain|json" "-c, --conf FILE"; do
	grep -qF -- "$c" "$T/help"
done
basalt help pool create >"$T/help.pool"
grep -qF 'Usage: basalt pool create NAME {--size N | --ec K+M [--stripe-unit SIZE]}' "$T/help.pool"
grep -q -- '--failure-domain osd|host' "$T/help.pool"
basalt pool create --help | cmp - "$T/help.pool"
basalt help pool | grep -q '^  pool rm NAME --yes-i-really-mean-it$'
basalt help status | grep -q HEALTH_ERR
basalt --version | grep -q '^basalt [0-9]'
