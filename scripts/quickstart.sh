#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: install dependencies, build, start a local
# cluster (3 mons, 3 OSDs on files under ./run, all on 127.0.0.1), create a
# replicated pool and a 10 GiB volume, serve it over NBD, and print how to
# use it.  Running it again starts what is not running, changes nothing
# else and prints the same recipes.  See "quickstart.sh --help".
set -euo pipefail

usage()
{
	cat <<'EOF'
Usage:
  scripts/quickstart.sh          install, build, start (or restart) the local
                                 cluster and basalt-nbd, print the recipes
  scripts/quickstart.sh stop     stop everything it started (by pid)

Environment:
  BASALT_RUN_DIR               cluster data, logs, pid files (default ./run)
  BASALT_BUILD_DIR             build directory (default ./build)
  BASALT_QUICKSTART_NO_BUILD=1 skip installing packages and building: use
                               the binaries already in BASALT_BUILD_DIR/bin
  BASALT_QUICKSTART_PORT_BASE  first port of the cluster (default 16789):
                               mons on P..P+5, OSDs on P+100..P+102
  BASALT_QUICKSTART_NBD_PORT   basalt-nbd's TCP port (default 10809)
  BASALT_QUICKSTART_OSD_SIZE   size of each OSD's data file, allocated in
                               full (default 16G, or less to use at most
                               half of the free space)
Ports apply when the cluster is created; a cluster already in
BASALT_RUN_DIR keeps those of its basalt.conf.
EOF
}

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BASALT_BUILD_DIR:-$src/build}
bin=$build/bin
port_base=${BASALT_QUICKSTART_PORT_BASE:-16789}
nbd_port=${BASALT_QUICKSTART_NBD_PORT:-10809}

# The run directory (absolute once it exists: daemons' command lines name
# its basalt.conf, which tells our processes from others) and its files.
set_run_dir()
{
	run=$1
	[ ! -d "$run" ] || run=$(cd "$run" && pwd)
	conf=$run/basalt.conf
	nbd_sock=$run/nbd.sock
	nbd_pid=$run/basalt-nbd.pid
	nbd_addr_file=$run/basalt-nbd.addr
	mnt=$run/mnt
}
set_run_dir "${BASALT_RUN_DIR:-$src/run}"
pool=rbd
volume=vol0
volume_size=10G

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "quickstart: $*" >&2; exit 1; }

case "${1:-}" in
'' | start) ;;
stop) ;;
-h | --help) usage; exit 0 ;;
*) echo "quickstart: unknown command '$1'" >&2; usage >&2; exit 2 ;;
esac

for v in port_base nbd_port; do
	[[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1024 ] &&
		[ "${!v}" -le 65000 ] ||
		die "${v}: '${!v}' must be a port from 1024 to 65000"
done

cluster_sh() { BASALT_BIN=$bin "$src/scripts/cluster.sh" "$@" >&2; }
basalt() { "$bin/basalt" -c "$conf" "$@"; }

# Does process $1 run?  (A zombie, which nobody may reap here, has ended.)
alive()
{
	local state

	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" \
		2>/dev/null) || return 1
	[ "$state" != Z ] && [ "$state" != X ]
}

# The pid in pid file $1 if it is a live process started with our
# basalt.conf (not a reused pid), else fail.
our_pid()
{
	local pid

	[ -f "$1" ] || return 1
	pid=$(<"$1")
	[[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$conf" ||
		return 1
	echo "$pid"
}

stop_nbd()
{
	local pid i

	if pid=$(our_pid "$nbd_pid"); then
		kill -TERM "$pid"
		# shutdown_timeout (10 s) lets clients drain first
		for ((i = 0; i < 150; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			echo "quickstart: basalt-nbd (pid $pid) did not stop within 15s of SIGTERM; sent SIGKILL" >&2
		else
			echo "quickstart: stopped basalt-nbd (pid $pid)" >&2
		fi
	fi
	rm -f "$nbd_pid" "$nbd_addr_file"
}

if [ "${1:-}" = stop ]; then
	stop_nbd
	# a FUSE mount made with the recipe below would outlive the OSDs
	if grep -qF " $mnt fuse" /proc/mounts 2>/dev/null; then
		fusermount3 -u "$mnt" && echo "quickstart: unmounted $mnt" >&2
	fi
	[ ! -f "$conf" ] || cluster_sh stop --dir "$run"
	exit 0
fi

# --- ports ---------------------------------------------------------------

# Does something listen on 127.0.0.1:$1 (or on every address)?
port_in_use()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
		return
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# "NAME PORT" for every port the cluster listens on: from its basalt.conf
# once it exists, else the ones cluster.sh will give it.
cluster_ports()
{
	local i

	if [ -f "$conf" ]; then
		awk '
			/^[[:space:]]*\[/ { gsub(/[][[:space:]]/, ""); s = $0; next }
			$1 == "addr" || $1 == "raft_addr" {
				n = split($3, a, ":"); print s, a[n]
			}' "$conf"
		return
	fi
	for i in 0 1 2; do
		echo "mon.$i $((port_base + 2 * i))"
		echo "mon.$i $((port_base + 2 * i + 1))"
		echo "osd.$i $((port_base + 100 + i))"
	done
}

# Fail with a clear message if a port we need is held by another program
# (ports of our own daemons, running already, are fine).
check_ports()
{
	local name port

	while read -r name port; do
		[ "$port" != 0 ] || continue
		our_pid "$run/$name.pid" >/dev/null && continue
		port_in_use "$port" || continue
		if [ -f "$conf" ]; then
			die "port $port on 127.0.0.1, which $name of the cluster in $run uses, is taken by another program: stop that program, or start a new cluster elsewhere (BASALT_RUN_DIR=DIR BASALT_QUICKSTART_PORT_BASE=PORT $0)"
		fi
		die "port $port on 127.0.0.1 (for $name) is taken by another program: stop it, or choose other ports (BASALT_QUICKSTART_PORT_BASE=PORT uses PORT..PORT+5 and PORT+100..PORT+102)"
	done < <(cluster_ports)
	if ! our_pid "$nbd_pid" >/dev/null && port_in_use "$nbd_port"; then
		die "port $nbd_port on 127.0.0.1 (for basalt-nbd) is taken by another program (another NBD server?): stop it, or choose another port (BASALT_QUICKSTART_NBD_PORT=PORT)"
	fi
}

# --- OSD size ------------------------------------------------------------

# Each OSD preallocates its data file in full: 16G each, unless that
# would take more than half of the free space.
osd_size()
{
	local avail_k gib

	if [ -n "${BASALT_QUICKSTART_OSD_SIZE:-}" ]; then
		echo "$BASALT_QUICKSTART_OSD_SIZE"
		return
	fi
	avail_k=$(df -Pk "$run" | awk 'NR == 2 { print $4 }')
	gib=$((avail_k / 2 / 3 / 1024 / 1024))
	[ "$gib" -le 16 ] || gib=16
	[ "$gib" -ge 1 ] ||
		die "only $((avail_k / 1024)) MiB free in $run: the 3 OSDs need at least 3 GiB (set BASALT_RUN_DIR to a roomier place)"
	[ "$gib" -eq 16 ] ||
		say "$((avail_k / 1024 / 1024)) GiB free in $run: OSDs of ${gib} GiB each (the ${volume_size} volume is thin: about ${gib} GiB of it can be written)"
	echo "${gib}G"
}

# --- build -----------------------------------------------------------------

if [ "${BASALT_QUICKSTART_NO_BUILD:-0}" = 1 ]; then
	for b in basalt basalt-mon basalt-osd basalt-nbd basalt-fuse; do
		[ -x "$bin/$b" ] ||
			die "BASALT_QUICKSTART_NO_BUILD=1 but there is no $bin/$b: build first (or unset it)"
	done
else
	say "installing dependencies (Debian packages)"
	"$src/scripts/install-deps.sh"

	say "building into $build (log: $build/quickstart-build.log)"
	mkdir -p "$build"
	fio_opt=-DBASALT_FIO=OFF
	if "$src/scripts/fetch-fio-headers.sh" >/dev/null 2>&1; then
		fio_opt=-DBASALT_FIO=ON
	fi
	if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		"$fio_opt" && cmake --build "$build" -j"$(nproc)"; } \
		>"$build/quickstart-build.log" 2>&1; then
		tail -n 40 "$build/quickstart-build.log" >&2
		die "the build failed (log above, in $build/quickstart-build.log)"
	fi
fi

build=$(cd "$build" && pwd)
bin=$build/bin

# --- the cluster -------------------------------------------------------------

mkdir -p "$run"
set_run_dir "$run"
check_ports

say "starting the cluster in $run"
start_opts=(--dir "$run" --mons 3 --osds 3 --port-base "$port_base")
if [ ! -f "$conf" ]; then
	size=$(osd_size)
	start_opts+=(--osd-size "$size")
fi
cluster_sh start "${start_opts[@]}"

pools=$(basalt pool ls --format json)
if ! grep -q "\"name\": *\"$pool\"" <<<"$pools"; then
	say "creating pool '$pool' (3 replicas)"
	basalt pool create "$pool" --size 3 --pg-num 64 >/dev/null
fi
volumes=$(basalt volume ls "$pool" --format json)
if ! grep -q "\"name\": *\"$volume\"" <<<"$volumes"; then
	say "creating volume '$pool/$volume' ($volume_size, thin)"
	basalt volume create "$pool/$volume" --size "$volume_size" >/dev/null
fi

# --- basalt-nbd --------------------------------------------------------------

if pid=$(our_pid "$nbd_pid"); then
	nbd_addr=$(cat "$nbd_addr_file" 2>/dev/null) ||
		nbd_addr=127.0.0.1:$nbd_port
	say "basalt-nbd already runs (pid $pid) on $nbd_addr and $nbd_sock"
else
	nbd_addr=127.0.0.1:$nbd_port
	say "starting basalt-nbd on $nbd_addr and $nbd_sock"
	rm -f "$nbd_sock" "$nbd_pid"
	echo "--- $(date -u +%FT%TZ) quickstart: starting basalt-nbd" \
		>>"$run/basalt-nbd.log"
	(
		# no inherited fd (a caller's pipe) stays open in the daemon
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null || continue
			eval "exec $fd>&-" 2>/dev/null || true
		done
		exec nohup "$bin/basalt-nbd" -c "$conf" --listen "$nbd_addr" \
			--socket "$nbd_sock" --pidfile "$nbd_pid" \
			</dev/null >>"$run/basalt-nbd.log" 2>&1
	) &
	started=$!
	for _ in $(seq 100); do
		[ -S "$nbd_sock" ] && [ -s "$nbd_pid" ] && break
		alive "$started" || break
		sleep 0.1
	done
	if ! [ -S "$nbd_sock" ] || ! our_pid "$nbd_pid" >/dev/null; then
		tail -n 20 "$run/basalt-nbd.log" >&2
		die "basalt-nbd did not start (log above, in $run/basalt-nbd.log)"
	fi
	echo "$nbd_addr" >"$nbd_addr_file"
fi

# --- the recipes (stdout; the same on every run) ------------------------------

uri="nbd://$nbd_addr/$pool/$volume"
stop_cmd="$src/scripts/quickstart.sh stop"
[ "$run" = "$src/run" ] || stop_cmd="BASALT_RUN_DIR=$run $stop_cmd"
engine=$build/lib/libfio_basalt.so
cat <<EOT

Basalt is running: 3 mons, 3 OSDs, pool '$pool', volume '$pool/$volume'.

  export BASALT_CONF=$conf
  $bin/basalt status
  $bin/basalt volume ls

Over NBD (also nbd+unix:///$pool/$volume?socket=$nbd_sock):
  nbdinfo '$uri'
  nbdinfo --map '$uri'
  qemu-img convert -n -p -f raw -O raw disk.img '$uri'
  qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' '$uri'
  fio --name=nbd --ioengine=nbd --uri='$uri' --rw=randwrite --bs=4k \\
      --iodepth=32 --size=1G --time_based --runtime=10

With Basalt's own fio engine (libbasalt, no NBD):
EOT
if [ -f "$engine" ]; then
	cat <<EOT
  fio --name=basalt --ioengine=external:$engine \\
      --conf=$conf --pool=$pool --volume=$volume \\
      --rw=randwrite --bs=4k --iodepth=32 --size=1G --time_based --runtime=10
EOT
else
	echo "  (not built: scripts/fetch-fio-headers.sh could not fetch fio's source)"
fi
cat <<EOT

As a file (FUSE):
  mkdir -p $mnt && $bin/basalt-fuse -c $conf $mnt
  ls -l $mnt/$pool/
  mkfs.ext4 $mnt/$pool/$volume
  fusermount3 -u $mnt

Benchmark:  $bin/basalt bench $pool/$volume --pattern randwrite --bs 4K --iodepth 32 --seconds 10
Stop it:    $stop_cmd
EOT
