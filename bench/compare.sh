#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Basalt side by side with Ceph on this one machine.  Sets up a Basalt
# cluster and a Ceph cluster of the same shape (1 monitor, 3 OSDs on files
# on the same disk, everything on 127.0.0.1; a replicated size-3 pool and
# an erasure-coded 2+1 pool, one volume / RBD image in each, written in
# full first), runs the same fio jobs against both -- Basalt through its
# fio engine and through basalt-nbd with fio's nbd engine, Ceph through
# fio's rbd engine -- and the disk's own limits with fio on a plain file,
# all in one run.  Records IOPS, MB/s, mean and p99 latency (fio JSON) and
# the CPU time of every process (bench/lib/cpuwatch.py, from /proc), and
# prints one table with the targets of docs/performance.md.  Not a test.
#
#   bench/compare.sh                    (as root; about 18 minutes)
#   RUNTIME=5 bench/compare.sh          (a quick check, about 5 minutes)
#   RUNTIME=5 PARTS="basalt ceph" POOLS=ec bench/compare.sh
#                                       (only the EC 2+1 rows, ~4 minutes)
#
# Environment:
#   RUNTIME=20 RAMP=4     seconds measured and warmed up per fio job
#   VOL_SIZE=4G           each volume and RBD image
#   PARTS="disk basalt ceph"   what to run; add "profile" for a CPU
#                         profile of Basalt's OSDs on 4K writes (perf,
#                         cpu-clock sampling with call graphs)
#   POOLS="rep ec"        which pools Basalt and Ceph measure: replicated
#                         size 3, erasure-coded 2+1 (the space each takes
#                         for the prefilled volume is in space.txt)
#   BASALT_BIN            Basalt's binaries (default build-bench/bin: a
#                         Release build without sanitizers, with
#                         -DBASALT_FIO=ON for lib/libfio_basalt.so)
#   WORK_DIR=/var/tmp/basalt-compare   clusters and data files, on the
#                         disk measured; removed at exit unless KEEP=1
#   RESULTS               default bench/results/<UTC date>; raw fio JSON,
#                         CPU samples, logs and report.md
#   REPORT_ONLY=DIR       print the table of an earlier run again
#   RESULTS=DIR PARTS=... measure some parts again into an earlier run
#
# Stops everything it started by pid at exit, binds only 127.0.0.1, and
# refuses to run while another compare.sh holds /var/tmp/basalt-compare.lock.
set -euo pipefail

prog=compare.sh
case "${1:-}" in
'') ;;
-h|--help) sed -n '3,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "$prog: takes no arguments, only environment variables (see --help)" >&2; exit 2 ;;
esac
[[ "${VOL_SIZE:-4G}" =~ ^[1-9][0-9]*[MG]$ ]] || {
	echo "$prog: VOL_SIZE is like 4G or 512M" >&2
	exit 1
}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib=$src/bench/lib
bin=${BASALT_BIN:-$src/build-bench/bin}
engine=${FIO_ENGINE:-$bin/../lib/libfio_basalt.so}
RUNTIME=${RUNTIME:-20}
RAMP=${RAMP:-$([ "$RUNTIME" -ge 10 ] 2>/dev/null && echo 4 || echo 1)}
VOL_SIZE=${VOL_SIZE:-4G}
PARTS=${PARTS:-disk basalt ceph}
POOLS=${POOLS:-rep ec}
WORK=${WORK_DIR:-/var/tmp/basalt-compare}
KEEP=${KEEP:-0}
LOCK=/var/tmp/basalt-compare.lock
vol_mb=$(( ${VOL_SIZE%[MG]} * $([ "${VOL_SIZE: -1}" = G ] && echo 1024 || echo 1) ))
# Basalt's OSDs allocate their data file in full: room for the replicated
# volume and the EC one (1/2 of a volume each), with slack.
BASALT_OSD_SIZE=${BASALT_OSD_SIZE:-$((vol_mb * 2 > 1024 ? vol_mb * 2 : 1024))M}
CEPH_OSD_BYTES=${CEPH_OSD_BYTES:-12884901888}	# 12 GiB sparse, as ceph.md
CEPH_OSD_MEM=${CEPH_OSD_MEM:-1610612736}	# osd_memory_target, as ceph.md
ADDR=127.0.0.1

log()
{
	echo "[$(date -u +%H:%M:%S)] $*" >&2
}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

has_part()
{
	case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

has_pool()
{
	case " $POOLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

if [ -n "${REPORT_ONLY:-}" ]; then
	exec python3 "$lib/compare_report.py" "$REPORT_ONLY"
fi

[[ "$RUNTIME" =~ ^[0-9]+$ ]] && [ "$RUNTIME" -ge 1 ] &&
	[ "$RUNTIME" -le 120 ] || die "RUNTIME is 1 to 120 seconds"
[[ "$RAMP" =~ ^[0-9]+$ ]] && [ "$RAMP" -le 60 ] ||
	die "RAMP is 0 to 60 seconds"
for p in $PARTS; do
	case "$p" in disk|basalt|ceph|profile) ;;
	*) die "PARTS: unknown part '$p' (disk basalt ceph profile)" ;;
	esac
done
for p in $POOLS; do
	case "$p" in rep|ec) ;;
	*) die "POOLS: unknown pool kind '$p' (rep ec)" ;;
	esac
done

# --- one run at a time ------------------------------------------------------

exec 9>>"$LOCK"
if ! flock -n 9; then
	holder=$(head -n 1 "$LOCK" 2>/dev/null) || true
	die "another compare.sh runs (pid ${holder:-?}, lock $LOCK); wait for it to end"
fi
echo "$$" >"$LOCK"

# --- tools ------------------------------------------------------------------

for t in fio python3 flock ss; do
	command -v "$t" >/dev/null || die "needs $t (apt-get install fio python3 util-linux iproute2)"
done
if has_part basalt || has_part profile; then
	for b in basalt basalt-mon basalt-osd basalt-nbd; do
		[ -x "$bin/$b" ] || die "no $bin/$b: build Basalt first" \
			"(cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release" \
			"-DBASALT_FIO=ON && cmake --build build-bench -j2)" \
			"or set BASALT_BIN"
	done
	[ -f "$engine" ] || die "no fio engine $engine: configure with" \
		"-DBASALT_FIO=ON (docs/fio.md) or set FIO_ENGINE"
	if ldd "$engine" "$bin/basalt-osd" | grep -q 'libasan\|libubsan'; then
		die "$bin is a sanitizer build: benchmark a Release build" \
			"(-DCMAKE_BUILD_TYPE=Release, no -DBASALT_SANITIZE)"
	fi
	fio --enghelp=nbd >/dev/null 2>&1 ||
		die "this fio has no nbd engine (Debian's fio has it)"
fi
if has_part ceph; then
	missing=
	for p in ceph-mon ceph-osd ceph-mgr ceph-common librbd1; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		[ "$(id -u)" = 0 ] || die "needs Debian packages:$missing (run as root to install them)"
		log "installing Debian packages:$missing"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends $missing >&2
	fi
	fio --enghelp=rbd >/dev/null 2>&1 ||
		die "this fio has no rbd engine (Debian's fio has it)"
fi
if has_part profile; then
	command -v perf >/dev/null || die "PARTS=profile needs perf (apt-get install linux-perf)"
fi

# --- results and clean-up ---------------------------------------------------

stamp=$(date -u +%Y%m%d-%H%M%S)
RESULTS=${RESULTS:-$src/bench/results/$stamp}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
ln -sfn "$RESULTS" "$src/bench/results/latest" 2>/dev/null || true
exec 3>&2 2> >(exec 9>&-; tee -a "$RESULTS/compare.log" >&3)

bdir=$WORK/basalt	# the Basalt cluster (scripts/cluster.sh --dir)
cdir=$WORK/ceph		# the Ceph cluster
nbd_pid=
watch_pid=
fio_pid=

# Is $1 a live process whose executable is named $2?
pid_is()
{
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# SIGTERM pid $1 (if it is a $2), wait up to $3 s, then SIGKILL it.
stop_pid()
{
	local pid=$1 comm=$2 wait_s=${3:-30} i

	pid_is "$pid" "$comm" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < wait_s * 10; i++)); do
		pid_is "$pid" "$comm" || return 0
		sleep 0.1
	done
	log "$comm (pid $pid) did not stop within ${wait_s}s of SIGTERM: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

ceph_stop()
{
	local f

	[ -d "$cdir/pids" ] || return 0
	for f in "$cdir"/pids/osd.*.pid; do
		[ -f "$f" ] && stop_pid "$(cat "$f")" ceph-osd 60
		rm -f "$f"
	done
	[ -f "$cdir/pids/mgr.x.pid" ] && stop_pid "$(cat "$cdir/pids/mgr.x.pid")" ceph-mgr 30
	[ -f "$cdir/pids/mon.a.pid" ] && stop_pid "$(cat "$cdir/pids/mon.a.pid")" ceph-mon 30
	rm -f "$cdir"/pids/*.pid
}

basalt_stop()
{
	[ -f "$bdir/basalt.conf" ] || return 0
	BASALT_BIN=$bin "$src/scripts/cluster.sh" stop --dir "$bdir" \
		--timeout 30 >&2 || true
}

cleanup()
{
	local rc=$?

	trap '' INT TERM
	trap - EXIT
	[ -z "$fio_pid" ] || kill -TERM "$fio_pid" 2>/dev/null || true
	[ -z "$watch_pid" ] || kill -TERM "$watch_pid" 2>/dev/null || true
	[ -z "$nbd_pid" ] || stop_pid "$nbd_pid" basalt-nbd 15
	if [ "$rc" != 0 ]; then
		mkdir -p "$RESULTS/logs_on_error"
		cp "$bdir"/*.log "$RESULTS/logs_on_error/" 2>/dev/null || true
		cp -r "$cdir/log" "$RESULTS/logs_on_error/ceph" 2>/dev/null || true
	fi
	basalt_stop
	ceph_stop
	if [ "$KEEP" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	: >"$LOCK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- fio jobs and CPU accounting ---------------------------------------------

JOBS=(
	"randwrite_4k_qd32|--rw=randwrite --bs=4k --iodepth=32"
	"randwrite_4k_qd1|--rw=randwrite --bs=4k --iodepth=1"
	"randread_4k_qd32|--rw=randread --bs=4k --iodepth=32"
	"randread_4k_qd1|--rw=randread --bs=4k --iodepth=1"
	"seqwrite_1m_qd8|--rw=write --bs=1M --iodepth=8"
	"seqread_1m_qd8|--rw=read --bs=1M --iodepth=8"
)
# Process groups whose CPU time is sampled during each job: comma lists
# of pids, set by each part.
osd_pids=
mon_pids=

# run_fio SYSTEM JOB TIMEOUT FIO_ARGS...: one fio run, its JSON in
# RESULTS/SYSTEM/JOB.json and the CPU samples of fio (with its children),
# the OSDs, the monitors (and basalt-nbd) in RESULTS/SYSTEM/JOB.cpu.
run_fio()
{
	local sys=$1 job=$2 limit=$3 rc=0
	local out=$RESULTS/$sys
	local -a groups=()

	shift 3
	mkdir -p "$out"
	(
		cd "$out"
		exec 9>&- timeout -k 10 "$limit" fio --name="$job" --thread "$@" \
			--output-format=json --output="$out/$job.json" \
			>>"$out/fio.stderr" 2>&1
	) &
	fio_pid=$!
	[ -z "$osd_pids" ] || groups+=("osd=$osd_pids")
	[ -z "$mon_pids" ] || groups+=("mon=$mon_pids")
	[ -z "$nbd_pid" ] || groups+=("nbd=$nbd_pid")
	9>&- python3 "$lib/cpuwatch.py" --out "$out/$job.cpu" \
		--interval 0.5 --max-seconds $((limit + 30)) \
		"${groups[@]}" "tree:fio=$fio_pid" &
	watch_pid=$!
	wait "$fio_pid" || rc=$?
	fio_pid=
	kill -TERM "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" || true
	watch_pid=
	if [ "$rc" != 0 ]; then
		log "$sys: fio $job failed (exit $rc); see $out/fio.stderr"
		tail -n 5 "$out/fio.stderr" >&2 || true
	fi
	return "$rc"
}

# run_jobs SYSTEM FIO_ARGS...: every job of JOBS against one target.
run_jobs()
{
	local sys=$1 t job args failed=0

	shift
	for t in "${JOBS[@]}"; do
		job=${t%%|*}
		args=${t#*|}
		log "$sys: $job (${RAMP}s ramp + ${RUNTIME}s)"
		# shellcheck disable=SC2086
		run_fio "$sys" "$job" $((RAMP + RUNTIME + 60)) "$@" $args \
			--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" \
			--lat_percentiles=1 --randrepeat=0 --norandommap ||
			failed=1
	done
	echo "ok" >"$RESULTS/$sys/status"
	[ "$failed" = 0 ] || echo "some jobs failed: see fio.stderr" \
		>"$RESULTS/$sys/status"
}

# prefill SYSTEM FIO_ARGS...: write the whole target once (4M, depth 16),
# so that reads read disks, not holes; its JSON is SYSTEM/prefill.json.
prefill()
{
	local sys=$1

	shift
	log "$sys: writing the whole $VOL_SIZE volume first"
	run_fio "$sys" prefill 900 "$@" --rw=write --bs=4M --iodepth=16 \
		--lat_percentiles=1
}

# na SYSTEM REASON: this target was not measured.
na()
{
	mkdir -p "$RESULTS/$1"
	echo "$2" >"$RESULTS/$1/status"
	log "$1: $2"
}

# Fail unless every TCP socket the pids $@ listen on is on 127.0.0.1.
check_loopback()
{
	local sockets pid re=

	sockets=$(ss -Hltnp) || return 0
	for pid in "$@"; do
		re="${re:+$re|}pid=$pid,"
	done
	grep -E "$re" <<<"$sockets" >>"$RESULTS/listen_sockets.txt" || true
	if grep -E "$re" <<<"$sockets" | awk '{ print $4 }' |
		grep -vE '^127\.0\.0\.1:[0-9]+$' | grep -q .; then
		grep -E "$re" <<<"$sockets" >&2
		die "a daemon listens beyond 127.0.0.1 (above)"
	fi
}

# A port range of 200 that no TCP socket uses, below the ephemeral ports
# (32768 and up) so that no outgoing connection takes one meanwhile.
free_base()
{
	local base try used

	used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }')
	for ((try = 0; try < 50; try++)); do
		base=$((21000 + RANDOM % 50 * 200))
		awk -v b="$base" '$1 >= b && $1 < b + 200 { f = 1 } END { exit !f }' \
			<<<"$used" || { echo "$base"; return 0; }
	done
	die "no free port range"
}

# --- meta data ------------------------------------------------------------------

# RESULTS=DIR of an earlier run with PARTS=... measures those parts again
# into it (the other parts' results stay); meta.env says so.
if [ -f "$RESULTS/meta.env" ]; then
	echo "rerun=$(date -u '+%Y-%m-%d %H:%M UTC'): PARTS=\"$PARTS\" RUNTIME=$RUNTIME RAMP=$RAMP, $(uptime)" \
		>>"$RESULTS/meta.env"
else
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')" >"$RESULTS/meta.env"
fi
{
	echo "runtime=$RUNTIME"
	echo "ramp=$RAMP"
	echo "vol_size=$VOL_SIZE"
	echo "parts=$PARTS"
	echo "pools=$POOLS"
	echo "uptime_before=$(uptime)"
	echo "kernel=$(uname -r)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
	echo "mem=$(free -g | awk '/Mem:/ { print $2 }') GiB"
	echo "disk=$(findmnt -no SOURCE,FSTYPE --target "$(dirname "$WORK")" | xargs)"
	echo "fio=$(fio --version)"
	echo "basalt=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" status --porcelain 2>/dev/null | grep -q . && echo ' + uncommitted changes')"
	echo "basalt_bin=$bin"
	echo "basalt_build=$bin, built $(date -u -r "$bin/basalt-osd" '+%F %H:%M UTC' 2>/dev/null || echo '?')"
	if has_part ceph; then
		echo "ceph=$(ceph --version | awk '{ print $3, $5 }')"
	fi
} >>"$RESULTS/meta.env"
# A run killed with SIGKILL leaves its daemons: stop them (by the pids it
# recorded) before starting again.
basalt_stop
ceph_stop
rm -rf "$WORK"
mkdir -p "$WORK"

# Enough room on the disk for the biggest part (they run one at a time)?
need_mb=$((vol_mb + 1024))
if has_part basalt || has_part profile; then
	osd_mb=$(numfmt --from=iec "$BASALT_OSD_SIZE")
	osd_mb=$((osd_mb / 1048576))
	[ $((3 * osd_mb + 1024)) -le "$need_mb" ] ||
		need_mb=$((3 * osd_mb + 1024))
fi
if has_part ceph; then
	# 3 copies of the replicated image, 1.5 of the EC one, BlueStore's DB.
	[ $((vol_mb * 9 / 2 + 4096)) -le "$need_mb" ] ||
		need_mb=$((vol_mb * 9 / 2 + 4096))
fi
avail_mb=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
[ "$avail_mb" -ge "$need_mb" ] ||
	die "$WORK has $avail_mb MiB free, this run needs about $need_mb MiB (try a smaller VOL_SIZE)"

# --- the disk alone ---------------------------------------------------------------

part_disk()
{
	local f=$WORK/disk.file

	osd_pids='' mon_pids=''
	log "disk: laying out a $VOL_SIZE file on $(dirname "$WORK")"
	9>&- fio --name=layout --filename="$f" --size="$VOL_SIZE" --rw=write \
		--bs=1M --ioengine=io_uring --direct=1 --iodepth=8 \
		--end_fsync=1 --output-format=terse >/dev/null
	run_jobs disk --filename="$f" --size="$VOL_SIZE" --ioengine=io_uring \
		--direct=1
	rm -f "$f"
}

# --- Basalt -----------------------------------------------------------------------

basalt()
{
	"$bin/basalt" -c "$bdir/basalt.conf" "$@"
}

part_basalt()
{
	local port out n

	log "basalt: starting 1 mon + 3 OSDs in $bdir"
	BASALT_BIN=$bin 9>&- "$src/scripts/cluster.sh" start --dir "$bdir" \
		--mons 1 --osds 3 --osd-size "$BASALT_OSD_SIZE" --mkfs-zero \
		--port-base "$(free_base)" >&2
	osd_pids=$(cat "$bdir"/osd.{0,1,2}.pid | paste -sd,)
	mon_pids=$(cat "$bdir/mon.0.pid")
	check_loopback ${osd_pids//,/ } $mon_pids
	local -a eng=(--ioengine="external:$engine" --conf="$bdir/basalt.conf")
	has_pool rep || { basalt_ec; basalt_done; return 0; }
	basalt pool create rbd --size 3 --failure-domain osd --pg-num 64 >&2
	basalt volume create rbd/rep --size "$VOL_SIZE" >&2

	prefill basalt_rep_engine "${eng[@]}" --pool=rbd --volume=rep
	basalt_space rbd
	run_jobs basalt_rep_engine "${eng[@]}" --pool=rbd --volume=rep

	# The same volume through basalt-nbd and fio's nbd engine.
	port=$(($(free_base) + 7))
	log "basalt: basalt-nbd on 127.0.0.1:$port"
	9>&- "$bin/basalt-nbd" -c "$bdir/basalt.conf" --listen "$ADDR:$port" \
		--export rbd/rep --log-file "$bdir/nbd.log" </dev/null \
		>>"$bdir/nbd.log" 2>&1 &
	nbd_pid=$!
	for ((n = 0; n < 100; n++)); do
		ss -Hltn "sport = :$port" | grep -q . && break
		pid_is "$nbd_pid" basalt-nbd || die "basalt-nbd exited; see $bdir/nbd.log"
		sleep 0.1
	done
	check_loopback "$nbd_pid"
	run_jobs basalt_rep_nbd --ioengine=nbd --uri="nbd://$ADDR:$port/rbd/rep"
	stop_pid "$nbd_pid" basalt-nbd 15
	nbd_pid=
	! has_pool ec || basalt_ec
	basalt_done
}

# Basalt's raw and stored bytes of pool $1 after its prefill (pool ls).
basalt_space()
{
	basalt pool ls --format json >"$RESULTS/basalt_pools.json" 2>&1 ||
		return 0
	python3 - "$RESULTS/basalt_pools.json" "$1" >>"$RESULTS/space.txt" <<'EOF' || true
import json, sys
for p in json.load(open(sys.argv[1])):
    if p["name"] == sys.argv[2] and p.get("stored"):
        print(f"basalt {p['name']} (erasure {p['ec_k']}+{p['ec_m']})"
              if p["kind"] == "erasure" else
              f"basalt {p['name']} (replicated size {p['size']})",
              f"stored={p['stored']} raw={p['raw']} "
              f"raw/stored={p['raw'] / p['stored']:.2f}")
EOF
}

# Erasure coding 2+1: the same jobs through the fio engine.
basalt_ec()
{
	local out

	if out=$(basalt pool create ecpool --ec 2+1 --failure-domain osd \
		--pg-num 32 2>&1); then
		echo "$out" >&2
		if basalt volume create ecpool/ec --size "$VOL_SIZE" >&2 &&
			prefill basalt_ec_engine "${eng[@]}" --pool=ecpool --volume=ec
		then
			basalt_space ecpool
			run_jobs basalt_ec_engine "${eng[@]}" --pool=ecpool --volume=ec
		else
			na basalt_ec_engine "n/a (EC volume could not be written: see basalt_ec_engine/fio.stderr)"
		fi
	else
		echo "$out" >"$RESULTS/ec_pool_create.txt"
		na basalt_ec_engine "n/a (EC pools not supported by this build)"
	fi
}

basalt_done()
{
	du -sh --apparent-size "$bdir"/osd.*.data >"$RESULTS/basalt_osd_files.txt" 2>&1 || true
	du -sh "$bdir"/osd.* >>"$RESULTS/basalt_osd_files.txt" 2>&1 || true
	cp "$bdir/basalt.conf" "$RESULTS/basalt.conf"
	log "basalt: stopping the cluster"
	osd_pids='' mon_pids=''
	basalt_stop
	cp "$bdir"/*.log "$RESULTS/" 2>/dev/null || true
	rm -rf "$bdir"
}

# --- Ceph -------------------------------------------------------------------------

# Every ceph and rbd command is bounded in time (timeout runs the
# programs, not these functions).
ceph()
{
	timeout 120 ceph "$@"
}

rbd()
{
	timeout 120 rbd "$@"
}

ceph_wait()
{
	local t=$1 i

	shift
	for ((i = 0; i < t; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	die "ceph: timeout ($t s) waiting for: $*"
}

ceph_all_up()
{
	ceph osd stat -f json | python3 -c \
		'import json, sys; sys.exit(json.load(sys.stdin)["num_up_osds"] != 3)'
}

ceph_all_clean()
{
	ceph status -f json | python3 -c '
import json, sys
m = json.load(sys.stdin)["pgmap"]
clean = sum(x["count"] for x in m.get("pgs_by_state", [])
            if x["state_name"] == "active+clean")
sys.exit(not (m["num_pgs"] > 0 and clean == m["num_pgs"]))'
}

# Ceph's stored and raw bytes of pool $1 after its prefill (ceph df).
ceph_space()
{
	local i

	# the OSDs' PG stats reach the mgr every few seconds: wait (up to a
	# minute) for the whole prefilled volume
	for ((i = 0; i < 20; i++)); do
		ceph df detail -f json >"$RESULTS/ceph_df.json" 2>/dev/null || return 0
		python3 - "$RESULTS/ceph_df.json" "$1" "$((vol_mb * 1048576))" <<'EOF' && break
import json, sys
for p in json.load(open(sys.argv[1]))["pools"]:
    if p["name"] == sys.argv[2]:
        sys.exit(p["stats"]["stored"] < int(sys.argv[3]) * 0.99)
sys.exit(1)
EOF
		sleep 3
	done
	python3 - "$RESULTS/ceph_df.json" "$1" >>"$RESULTS/space.txt" <<'EOF' || true
import json, sys
for p in json.load(open(sys.argv[1]))["pools"]:
    if p["name"] == sys.argv[2] and p["stats"]["stored"]:
        s = p["stats"]
        print(f"ceph {p['name']} stored={s['stored']} "
              f"raw={s['bytes_used']} "
              f"raw/stored={s['bytes_used'] / s['stored']:.2f}")
EOF
}

ceph_daemon()
{
	local name=$1

	shift
	9>&- "$@" -f </dev/null >>"$cdir/log/$name.stdout" 2>&1 &
	echo $! >"$cdir/pids/$name.pid"
}

part_ceph()
{
	local i uuid id p

	for p in 3300 6789; do
		! ss -Hltn "sport = :$p" | grep -q . ||
			die "ceph: port $p is taken (another Ceph?); stop it first"
	done
	mkdir -p "$cdir"/{mon/ceph-a,mgr/ceph-x,run,log,pids,crash}
	export CEPH_CONF=$cdir/ceph.conf
	export CEPH_ARGS="--conf $CEPH_CONF"
	cat >"$CEPH_CONF" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon_initial_members = a
mon_host = [v2:$ADDR:3300,v1:$ADDR:6789]
public_addr = $ADDR
cluster_addr = $ADDR
public_network = $ADDR/32
cluster_network = $ADDR/32
ms_bind_ipv4 = true
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $cdir/keyring
run_dir = $cdir/run
admin_socket = $cdir/run/\$cluster-\$name.asok
log_file = $cdir/log/\$cluster-\$name.log
pid_file = $cdir/run/\$cluster-\$name.pid
crash_dir = $cdir/crash
osd_pool_default_size = 3
osd_pool_default_min_size = 2
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_delete = true
mon_data_avail_warn = 5

[mon]
mon_data = $cdir/mon/\$cluster-\$id

[mgr]
mgr_data = $cdir/mgr/\$cluster-\$id

[osd]
osd_data = $cdir/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $CEPH_OSD_BYTES
osd_memory_target = $CEPH_OSD_MEM
# the virtio disk says rotational=1 but is flash: BlueStore's SSD profile
bluestore_debug_enforce_settings = ssd
osd_recovery_sleep_hdd = 0

[client]
rbd_cache = false
admin_socket = $cdir/run/\$cluster-\$name.\$pid.asok
EOF
	log "ceph: mon.a"
	ceph-authtool --create-keyring "$cdir/keyring" --gen-key -n mon. \
		--cap mon 'allow *' >/dev/null
	ceph-authtool "$cdir/keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	monmaptool --create --clobber --fsid "$(sed -n 's/^fsid = //p' "$CEPH_CONF")" \
		--addv a "[v2:$ADDR:3300,v1:$ADDR:6789]" "$cdir/monmap" >/dev/null
	ceph-mon --mkfs -i a --monmap "$cdir/monmap" --keyring "$cdir/keyring"
	ceph_daemon mon.a ceph-mon -i a
	ceph_wait 60 ceph -s --connect-timeout 5
	log "ceph: mgr.x"
	ceph_daemon mgr.x ceph-mgr -i x
	for i in 0 1 2; do
		uuid=$(cat /proc/sys/kernel/random/uuid)
		id=$(ceph osd new "$uuid")
		mkdir -p "$cdir/osd/ceph-$id"
		log "ceph: mkfs osd.$id (BlueStore on a sparse file)"
		9>&- ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" \
			>>"$cdir/log/osd.$id.mkfs" 2>&1
		ceph_daemon "osd.$id" ceph-osd -i "$id"
	done
	ceph_wait 180 ceph_all_up
	ceph osd crush rule create-replicated rep_osd default osd >&2
	ceph osd pool create rbd 64 64 replicated rep_osd >&2
	ceph osd pool set rbd size 3 >&2
	ceph osd pool set rbd min_size 2 >&2
	ceph osd erasure-code-profile set ec21 k=2 m=1 plugin=isa \
		technique=reed_sol_van crush-failure-domain=osd >&2
	ceph osd pool create ecpool 32 32 erasure ec21 >&2
	ceph osd pool set ecpool allow_ec_overwrites true >&2
	ceph osd pool application enable ecpool rbd >&2
	rbd pool init rbd
	rbd create --size "$VOL_SIZE" rbd/img_rep
	rbd create --size "$VOL_SIZE" --data-pool ecpool rbd/img_ec
	ceph_wait 180 ceph_all_clean
	log "ceph: all PGs active+clean"
	osd_pids=$(cat "$cdir"/pids/osd.*.pid | paste -sd,)
	mon_pids=$(cat "$cdir/pids/mon.a.pid" "$cdir/pids/mgr.x.pid" | paste -sd,)
	check_loopback ${osd_pids//,/ } ${mon_pids//,/ }
	cp "$CEPH_CONF" "$RESULTS/ceph.conf"
	ceph osd pool ls detail >"$RESULTS/ceph_pools.txt" 2>&1 || true

	local -a r=(--ioengine=rbd --clientname=admin --pool=rbd --invalidate=0)
	if has_pool rep; then
		prefill ceph_rep "${r[@]}" --rbdname=img_rep
		ceph_space rbd
		run_jobs ceph_rep "${r[@]}" --rbdname=img_rep
	fi
	if has_pool ec; then
		prefill ceph_ec "${r[@]}" --rbdname=img_ec
		ceph_space ecpool
		run_jobs ceph_ec "${r[@]}" --rbdname=img_ec
	fi

	ceph status >"$RESULTS/ceph_status.txt" 2>&1 || true
	log "ceph: stopping the cluster"
	osd_pids='' mon_pids=''
	ceph_stop
	rm -rf "$cdir"
}

# --- profile of Basalt's OSDs on 4K writes ---------------------------------------------

# perf sampling the CPU clock (this VM has no hardware counters, so
# "perf stat -e instructions" says <not supported>, but the software
# cpu-clock event works), with DWARF call graphs (the Release build has no
# frame pointers), in all three OSDs during 4K random writes at depth 32.
# valgrind is no alternative here: under valgrind 3.19 (even --tool=none)
# an OSD boots but its data path stalls (its io_uring loop never sees the
# completion of the commit thread's eventfd write).
part_profile()
{
	local out=$RESULTS/profile pid

	mkdir -p "$out"
	log "profile: Basalt cluster for the profile"
	BASALT_BIN=$bin 9>&- "$src/scripts/cluster.sh" start --dir "$bdir" \
		--mons 1 --osds 3 --osd-size 4G --mkfs-zero \
		--port-base "$(free_base)" >&2
	osd_pids=$(cat "$bdir"/osd.{0,1,2}.pid | paste -sd,)
	mon_pids=$(cat "$bdir/mon.0.pid")
	basalt pool create rbd --size 3 --failure-domain osd --pg-num 64 >&2
	basalt volume create rbd/prof --size 1G >&2
	local -a eng=(--ioengine="external:$engine" --conf="$bdir/basalt.conf"
		--pool=rbd --volume=prof)
	run_fio profile prefill 300 "${eng[@]}" --rw=write --bs=4M --iodepth=16

	log "profile: perf record -e cpu-clock on the OSDs, ${RUNTIME}s of 4K random writes"
	9>&- perf record -e cpu-clock -F 499 --call-graph dwarf,16384 \
		-o "$WORK/perf.data" -p "$osd_pids" -- sleep $((RUNTIME + 1)) \
		>"$out/perf.stderr" 2>&1 &
	pid=$!
	run_fio profile randwrite_4k_qd32 $((RUNTIME + 60)) "${eng[@]}" \
		--rw=randwrite --bs=4k --iodepth=32 --time_based \
		--runtime="$RUNTIME" --randrepeat=0 --norandommap \
		--lat_percentiles=1 || true
	wait "$pid" || true
	osd_pids='' mon_pids=''
	basalt_stop
	rm -rf "$bdir"
	log "profile: perf report"
	# Where the CPU goes by shared object, by function (self), and by
	# call chain (children: a function with everything it calls).
	perf report -i "$WORK/perf.data" --stdio --no-children --sort dso \
		-g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
		head -n 20 >"$out/perf_dso.txt" || true
	perf report -i "$WORK/perf.data" --stdio --no-children \
		--sort dso,sym -g none 2>/dev/null | grep -v '^#' |
		grep -v '^$' | head -n 60 >"$out/perf_self.txt" || true
	perf report -i "$WORK/perf.data" --stdio --children --sort sym \
		-g none --percent-limit 1 2>/dev/null | grep -v '^#' |
		grep -v '^$' | head -n 150 >"$out/perf_children.txt" || true
	rm -f "$WORK/perf.data"
	log "profile: $out"
}

# --- run ------------------------------------------------------------------------

start_s=$SECONDS
log "results in $RESULTS (RUNTIME=$RUNTIME RAMP=$RAMP VOL_SIZE=$VOL_SIZE; load: $(cut -d' ' -f1-3 /proc/loadavg))"
! has_part disk || part_disk
! has_part basalt || part_basalt
! has_part ceph || part_ceph
! has_part profile || part_profile
echo "uptime_after=$(uptime)" >>"$RESULTS/meta.env"
echo "elapsed_s=$((SECONDS - start_s))" >>"$RESULTS/meta.env"
log "done in $((SECONDS - start_s)) s"
python3 "$lib/compare_report.py" "$RESULTS" | tee "$RESULTS/report.md"
