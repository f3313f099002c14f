#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark a local Basalt cluster with 'basalt bench' (libbasalt's async
# calls, like 'rbd bench'): 1 or 3 mons and 3 OSDs (6 with a 4+2 pool) on
# sparse files in a temporary directory, all on 127.0.0.1; per pool of
# --pools (rep3: replicated size 3; ec42, ec21: erasure-coded 4+2, 2+1;
# failure domain osd) one volume written in full first, the space it
# takes (stored and raw bytes, 'basalt pool ls'), then 4 KiB random
# writes and reads at queue depth 1 and 32 and 1 MiB sequential writes
# and reads at depth 8, each bounded by --seconds.  Prints a table (and
# --json FILE saves every run's JSON).  Stops every daemon it started, by
# pid.  Not a test.
#
#   bench/basalt-bench.sh [--mons 1|3] [--seconds 15] [--size 1G]
#                         [--pools "rep3 ec42"] [--osd-size 8G]
#                         [--json FILE] [--keep]
#
# Use a build without sanitizers for figures worth comparing:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
#   BASALT_BIN=$PWD/build-rel/bin bench/basalt-bench.sh
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${BASALT_BIN:-$src/build/bin}
export BASALT_BIN=$bin

mons=1
seconds=15
size=1G
osd_size=8G
json_out=
keep=0
pools="rep3 ec42"
while [ $# -gt 0 ]; do
	case "$1" in
	--mons) mons=${2:?}; shift 2 ;;
	--seconds) seconds=${2:?}; shift 2 ;;
	--size) size=${2:?}; shift 2 ;;
	--osd-size) osd_size=${2:?}; shift 2 ;;
	--pools) pools=${2:?}; shift 2 ;;
	--json) json_out=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "basalt-bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ "$mons" =~ ^(1|3)$ ]] || { echo "basalt-bench.sh: --mons is 1 or 3" >&2; exit 2; }
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] && [ "$seconds" -le 60 ] ||
	{ echo "basalt-bench.sh: --seconds is 1 to 60" >&2; exit 2; }
osds=3
for p in $pools; do
	case "$p" in
	rep3|ec21) ;;
	ec42) osds=6 ;;
	*) echo "basalt-bench.sh: --pools: unknown pool '$p' (rep3 ec42 ec21)" >&2; exit 2 ;;
	esac
done
command -v jq >/dev/null || { echo "basalt-bench.sh: needs jq" >&2; exit 1; }
for b in basalt basalt-mon basalt-osd; do
	[ -x "$bin/$b" ] || {
		echo "basalt-bench.sh: no $bin/$b: build first or set BASALT_BIN" >&2
		exit 1
	}
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/basalt-bench.XXXXXX")
conf=$dir/cluster/basalt.conf
cleanup()
{
	local rc=$?

	trap '' EXIT INT TERM
	if [ -f "$conf" ]; then
		"$src/scripts/cluster.sh" stop --dir "$dir/cluster" >&2 || rc=1
	fi
	if [ "$keep" = 1 ]; then
		echo "basalt-bench.sh: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port range nothing listens on (mons from P, OSDs from P + 100).
free_base()
{
	local base p try

	for ((try = 0; try < 50; try++)); do
		base=$((20000 + RANDOM % 50 * 200))
		for ((p = base; p < base + 200; p++)); do
			(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue 2
		done
		echo "$base"
		return 0
	done
	echo "basalt-bench.sh: no free port range" >&2
	return 1
}

basalt()
{
	"$bin/basalt" -c "$conf" "$@"
}

"$src/scripts/cluster.sh" start --dir "$dir/cluster" --mons "$mons" \
	--osds "$osds" --osd-size "$osd_size" --mkfs-zero \
	--port-base "$(free_base)" >&2
bytes=$(numfmt --from=iec "$size")

runs=(
	"randwrite 4K 1"
	"randwrite 4K 32"
	"randread 4K 1"
	"randread 4K 32"
	"write 1M 8"
	"read 1M 8"
)
results=()
spaces=()
for pool in $pools; do
	case "$pool" in
	rep3) basalt pool create "$pool" --size 3 --failure-domain osd \
		--pg-num 64 >&2 ;;
	ec42) basalt pool create "$pool" --ec 4+2 --failure-domain osd \
		--pg-num 64 >&2 ;;
	ec21) basalt pool create "$pool" --ec 2+1 --failure-domain osd \
		--pg-num 64 >&2 ;;
	esac
	echo "basalt-bench.sh: $pool: writing the $size volume in full first" >&2
	# Random data everywhere, so that reads read disks, not holes.
	head -c "$bytes" /dev/urandom |
		basalt volume import - "$pool/bench" --size "$bytes" \
			--format json >"$dir/prefill.json"
	used=$(basalt volume info "$pool/bench" --format json | jq '.used // 0')
	echo "basalt-bench.sh: $pool: prefill $(jq .elapsed_ms "$dir/prefill.json") ms, $used of $bytes bytes allocated" >&2
	spaces+=("$(basalt pool ls --format json |
		jq -c --arg p "$pool" '.[] | select(.name == $p)')")
	for r in "${runs[@]}"; do
		read -r pattern bs depth <<<"$r"
		echo "basalt-bench.sh: $pool: $pattern bs $bs iodepth $depth, ${seconds}s" >&2
		out=$(basalt bench "$pool/bench" --pattern "$pattern" \
			--bs "$bs" --iodepth "$depth" --seconds "$seconds" \
			--format json)
		results+=("$(jq -c --arg p "$pool" '. + { pool: $p }' <<<"$out")")
	done
done

if [ -n "$json_out" ]; then
	{
		printf '%s\n' "${results[@]}" | jq -s .
		printf '%s\n' "${spaces[@]}" | jq -s .
	} | jq -s '{ runs: .[0], pools: .[1] }' >"$json_out"
fi

echo
echo "Basalt ($(basename "$(dirname "$bin")")): $mons mon(s), $osds OSDs (pools: $pools; pg_num 64, failure domain osd), volume $size, ${seconds}s per run, $(date -u +%FT%TZ)"
echo
echo '| pool | test | IOPS | MiB/s | mean us | p50 us | p99 us | p99.9 us |'
echo '|---|---|---:|---:|---:|---:|---:|---:|'
for out in "${results[@]}"; do
	jq -r '"| \(.pool) | \(.pattern) \(if .bs >= 1048576 then "\(.bs / 1048576 | floor)M" else "\(.bs / 1024 | floor)K" end) qd\(.iodepth) | \(.iops | floor) | \(.mib_per_sec) | \(.latency_us.mean) | \(.latency_us.p50) | \(.latency_us.p99) | \(.latency_us.p99_9) |"' \
		<<<"$out"
done
echo
echo "Space for the same $size of data (after the prefill, before the runs):"
echo
echo '| pool | kind | stored MiB | raw MiB | raw / stored |'
echo '|---|---|---:|---:|---:|'
for s in "${spaces[@]}"; do
	jq -r '"| \(.name) | \(if .kind == "erasure" then "erasure \(.ec_k)+\(.ec_m)" else "replicated \(.size)" end) | \(.stored / 1048576 | . * 10 | floor / 10) | \(.raw / 1048576 | . * 10 | floor / 10) | \(.raw_ratio // "-") |"' \
		<<<"$s"
done
