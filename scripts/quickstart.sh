#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: install dependencies, build, start a local
# cluster (3 mons, 3 OSDs on files under ./run, all on 127.0.0.1), create a
# replicated pool and a 10 GiB volume, serve it over NBD, and print how to
# use it.  Running it again restarts what is not running and changes
# nothing else.
#
#   scripts/quickstart.sh          start (or restart) and print the recipes
#   scripts/quickstart.sh stop     stop everything it started
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
run=${BASALT_RUN_DIR:-$src/run}
build=${BASALT_BUILD_DIR:-$src/build}
bin=$build/bin
conf=$run/basalt.conf
nbd_addr=127.0.0.1:10809
nbd_sock=$run/nbd.sock
nbd_pid=$run/basalt-nbd.pid
pool=rbd
volume=vol0

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

stop_nbd()
{
	local pid
	[ -f "$nbd_pid" ] || return 0
	pid=$(cat "$nbd_pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$nbd_pid"
}

if [ "${1:-}" = stop ]; then
	stop_nbd
	[ -f "$conf" ] && BASALT_BIN=$bin "$src/scripts/cluster.sh" stop --dir "$run"
	exit 0
fi

say "installing dependencies (Debian packages)"
"$src/scripts/install-deps.sh"

say "building into $build"
fio_opt=-DBASALT_FIO=OFF
if "$src/scripts/fetch-fio-headers.sh" >/dev/null 2>&1; then
	fio_opt=-DBASALT_FIO=ON
fi
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release "$fio_opt" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

say "starting the cluster in $run"
mkdir -p "$run"
BASALT_BIN=$bin "$src/scripts/cluster.sh" start --dir "$run" --mons 3 \
	--osds 3 --osd-size 16G --port-base 16789

basalt() { "$bin/basalt" -c "$conf" "$@"; }

if ! basalt pool ls --format json | grep -q "\"name\": *\"$pool\""; then
	say "creating pool '$pool' (3 replicas)"
	basalt pool create "$pool" --size 3 --pg-num 64
fi
if ! basalt volume info "$pool/$volume" >/dev/null 2>&1; then
	say "creating volume '$pool/$volume' (10 GiB, thin)"
	basalt volume create "$pool/$volume" --size 10G
fi

if [ -f "$nbd_pid" ] && kill -0 "$(cat "$nbd_pid")" 2>/dev/null; then
	say "basalt-nbd already running (pid $(cat "$nbd_pid"))"
else
	say "starting basalt-nbd on $nbd_addr and $nbd_sock"
	rm -f "$nbd_sock"
	nohup "$bin/basalt-nbd" -c "$conf" --listen "$nbd_addr" \
		--socket "$nbd_sock" --pidfile "$nbd_pid" \
		>"$run/basalt-nbd.log" 2>&1 </dev/null &
	for _ in $(seq 100); do
		[ -S "$nbd_sock" ] && [ -f "$nbd_pid" ] && break
		sleep 0.1
	done
	[ -S "$nbd_sock" ] || { tail "$run/basalt-nbd.log"; exit 1; }
fi

uri="nbd://$nbd_addr/$pool/$volume"
engine=$build/lib/libfio_basalt.so
cat <<EOT

Basalt is running: 3 mons, 3 OSDs, pool '$pool', volume '$pool/$volume'.

  export BASALT_CONF=$conf
  $bin/basalt status
  $bin/basalt volume ls

Over NBD:
  nbdinfo '$uri'
  nbdinfo --map '$uri'
  qemu-img convert -p -O raw disk.img '$uri'
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
  mkdir -p /mnt/basalt && $bin/basalt-fuse -c $conf /mnt/basalt
  ls -l /mnt/basalt/$pool/ && mkfs.ext4 /mnt/basalt/$pool/$volume
  fusermount3 -u /mnt/basalt

Benchmark:  $bin/basalt bench $pool/$volume --pattern randwrite --bs 4K --iodepth 32 --seconds 10
Stop it:    $0 stop
EOT
