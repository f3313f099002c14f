#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A local Basalt cluster on 127.0.0.1 for development and tests: writes
# DIR/basalt.conf, starts, stops, kills and revives daemons by the pids in
# DIR/<name>.pid (never by process name).  See "cluster.sh --help".
set -euo pipefail

prog=cluster.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir=${BASALT_BIN:-$script_dir/../build/bin}

usage()
{
	cat <<EOF
Usage:
  $prog start   --dir DIR [--mons N] [--osds N] [--osd-size SIZE]
                          [--mkfs-zero] [--hosts H] [--port-base P]
                          [--wait SECONDS] [--set KEY=VALUE]...
  $prog add-osd --dir DIR [--host NAME] [--osd-size SIZE] [--mkfs-zero]
                          [--wait SECONDS]
  $prog stop    --dir DIR [--timeout SECONDS] [NAME...]
  $prog kill    --dir DIR NAME...
  $prog revive  --dir DIR [--wait SECONDS] NAME...
  $prog status  --dir DIR

start   writes DIR/basalt.conf (first time only: a DIR that already holds a
        cluster is started again on its data and its basalt.conf), formats
        every OSD that has no data file yet (basalt-osd --mkfs), starts
        every daemon not already running and waits until 'basalt status'
        reports a quorum and every OSD is up in the map (each wait 30 s by
        default; on timeout it prints the logs' tails).
        mon.N listens on 127.0.0.1:P+2N (raft on P+2N+1), osd.N on P+100+N
        (port 0, any free port, from osd.100 on; the bound address is
        written to DIR/osd.N.addr); P defaults to a value derived from
        DIR.  osd.N keeps its data in DIR/osd.N.data (a file of
        --osd-size, default 1G, allocated in full) and DIR/osd.N.meta.  Each OSD is
        its own host (host-N) unless --hosts H spreads them over H hosts
        (osd.N on host-(N mod H)).  --set KEY=VALUE adds a [global] key.
        --mkfs-zero sets mkfs_zero in each new [osd.N]: the data file is
        written with zeroes at format time (benchmarks; docs/osd.md).
        Default: 3 mons, 0 osds.
add-osd creates an OSD id in the map ('basalt osd add': the lowest free
        one), formats and starts it in a running cluster, on its own host
        unless --host, and waits until it is up in the map.  The id of an
        OSD removed with 'basalt osd rm' is given out again: its old
        files are deleted first.  Prints its name (osd.N) last.
stop    SIGTERM, wait (default 10 s), then SIGKILL; fails if any daemon had
        to be killed.  Without NAME, every daemon of DIR (OSDs first).
kill    SIGKILL the named daemons (e.g. mon.0, osd.2).
revive  start the named daemons again on their existing data and wait
        until each mon answers and each OSD is up in the map again (a
        new boot).
status  which daemons of DIR run, and 'basalt status'.

Binaries come from \$BASALT_BIN (default: build/bin of this repository).
Each daemon logs to DIR/<name>.log; its pid is in DIR/<name>.pid, and
DIR/daemons.pids lists every daemon ever started ("NAME PID"): 'stop'
without NAME also stops any of them that lost its pid file.
EOF
}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

# --- arguments ---------------------------------------------------------

cmd=${1:-}
[ -n "$cmd" ] || { usage >&2; exit 2; }
shift
case "$cmd" in
-h|--help|help) usage; exit 0 ;;
start|stop|kill|revive|status) ;;
add-osd) cmd=add_osd ;;
*) echo "$prog: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac

dir=
mons=3
osds=0
osd_size=
mkfs_zero=
hosts=
osd_host=
port_base=
wait_s=30
stop_timeout=10
names=()
sets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir=${2:?--dir needs a value}; shift 2 ;;
	--mons) mons=${2:?--mons needs a value}; shift 2 ;;
	--osds) osds=${2:?--osds needs a value}; shift 2 ;;
	--osd-size) osd_size=${2:?--osd-size needs a value}; shift 2 ;;
	--mkfs-zero) mkfs_zero=1; shift ;;
	--hosts) hosts=${2:?--hosts needs a value}; shift 2 ;;
	--host) osd_host=${2:?--host needs a value}; shift 2 ;;
	--set) sets+=("${2:?--set needs KEY=VALUE}"); shift 2 ;;
	--port-base) port_base=${2:?--port-base needs a value}; shift 2 ;;
	--wait) wait_s=${2:?--wait needs a value}; shift 2 ;;
	--timeout) stop_timeout=${2:?--timeout needs a value}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) die "unknown option '$1' (see '$prog --help')" ;;
	*) names+=("$1"); shift ;;
	esac
done
[ -n "$dir" ] || die "'--dir DIR' is required (see '$prog --help')"
is_uint()
{
	[[ "$1" =~ ^[0-9]+$ ]]
}
{ is_uint "$mons" && [ "$mons" -ge 1 ] && [ "$mons" -le 9 ]; } ||
	die "'--mons': '$mons' must be a number from 1 to 9"
{ is_uint "$osds" && [ "$osds" -le 1000 ]; } ||
	die "'--osds': '$osds' must be a number from 0 to 1000"
[ -z "$hosts" ] || { is_uint "$hosts" && [ "$hosts" -ge 1 ]; } ||
	die "'--hosts': '$hosts' must be a number from 1"
[ -z "$osd_host" ] || [[ "$osd_host" =~ ^[A-Za-z0-9_.-]{1,63}$ ]] ||
	die "'--host': '$osd_host' must be 1-63 of A-Z a-z 0-9 _ . -"
for kv in "${sets[@]}"; do
	[[ "$kv" =~ ^[a-z_][a-z0-9_]*=.+$ ]] ||
		die "'--set': '$kv' is not KEY=VALUE"
done
is_uint "$wait_s" || die "'--wait': '$wait_s' is not a number of seconds"
is_uint "$stop_timeout" ||
	die "'--timeout': '$stop_timeout' is not a number of seconds"
[ -z "$osd_size" ] || [[ "$osd_size" =~ ^[0-9]+[KMGTkmgt]?$ ]] ||
	die "'--osd-size': '$osd_size' is not a size (e.g. 10G)"
[ -z "$port_base" ] || {
	is_uint "$port_base" && [ "$port_base" -ge 1024 ] &&
		[ "$port_base" -le 65000 ]
} || die "'--port-base': '$port_base' must be a port from 1024 to 65000"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/basalt.conf

# --- daemons and their pids ---------------------------------------------

# Print the pid of daemon $1 if it runs (its pid file names a live,
# non-zombie process started with our config), else nothing and fail.
daemon_pid()
{
	local pidf=$dir/$1.pid pid stat state ppid
	[ -f "$pidf" ] || return 1
	pid=$(<"$pidf")
	is_uint "$pid" || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Orphans are not always reaped here: a zombie has stopped.
	stat=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) \([0-9]*\) .*/\1 \2/p' \
		/proc/"$pid"/stat 2>/dev/null) || return 1
	read -r state ppid <<<"$stat"
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
	# Guard against pid reuse: the process must be ours.  A child this
	# script just forked has not exec'ed the daemon yet, so its command
	# line does not name the config: it is ours by its parent.
	[ "$ppid" = "$$" ] && { echo "$pid"; return 0; }
	tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$conf" ||
		return 1
	echo "$pid"
}

# Every daemon named in basalt.conf, in file order (mons, then OSDs).
conf_daemons()
{
	sed -n 's/^[[:space:]]*\[\(\(mon\|osd\)\.[0-9]\+\)\][[:space:]]*$/\1/p' \
		"$conf"
}

# The OSD ids of basalt.conf, one a line.
conf_osd_ids()
{
	conf_daemons | sed -n 's/^osd\.//p'
}

# The value of key $2 in section [$1] of basalt.conf.
conf_get()
{
	awk -v sec="[$1]" -v key="$2" '
		/^[[:space:]]*\[/ { gsub(/[[:space:]]/, ""); cur = $0; next }
		cur == sec {
			line = $0
			sub(/[;#].*/, "", line)
			n = index(line, "=")
			if (n == 0) next
			k = substr(line, 1, n - 1); v = substr(line, n + 1)
			gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
			gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
			if (k == key) { print v; exit }
		}' "$conf"
}

check_name()
{
	grep -qx -- "$1" <(conf_daemons) ||
		die "no daemon '$1' in $conf (daemons: $(conf_daemons | xargs))"
}

# In the child about to become a daemon: close every inherited fd but
# 0-2, so that no caller's pipe (a test's $(...), ctest's output) stays
# open for the daemon's life.
close_fds()
{
	local fd

	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null || continue
		eval "exec $fd>&-" 2>/dev/null || true
	done
}

need_bin()
{
	[ -x "$bin_dir/$1" ] ||
		die "no $bin_dir/$1: build first or set \$BASALT_BIN"
}

# Format osd.$1 if its data file does not exist yet (first start).
osd_mkfs()
{
	local name=osd.$1 data

	data=$(conf_get "$name" data_path)
	[ -n "$data" ] || die "$name has no data_path in $conf"
	[ -e "$data" ] && return 0
	need_bin basalt-osd
	echo "--- $(date -u +%FT%TZ) $prog: formatting $name" >>"$dir/$name.log"
	if ! "$bin_dir/basalt-osd" -c "$conf" --id "$1" --mkfs \
		</dev/null >>"$dir/$name.log" 2>&1; then
		tail -n 25 "$dir/$name.log" >&2
		die "$name: 'basalt-osd --mkfs' failed (log above, in $dir/$name.log)"
	fi
	echo "$prog: formatted $name ($data)"
}

start_daemon()
{
	local name=$1 kind=${1%%.*} id=${1#*.} pid

	if pid=$(daemon_pid "$name"); then
		echo "$prog: $name already runs (pid $pid)"
		return 0
	fi
	# The child records its own pid before it becomes the daemon, so
	# that no daemon runs without a pid file even if this script is
	# killed right after the fork; DIR/daemons.pids keeps every pid
	# ever started (tests reap from it what 'stop' might have missed).
	case "$kind" in
	mon)
		need_bin basalt-mon
		echo "--- $(date -u +%FT%TZ) $prog: starting $name" \
			>>"$dir/$name.log"
		(
			close_fds
			echo "$BASHPID" >"$dir/$name.pid"
			echo "$name $BASHPID" >>"$dir/daemons.pids"
			exec "$bin_dir/basalt-mon" -c "$conf" --id "$id" \
				</dev/null >>"$dir/$name.log" 2>&1
		) &
		;;
	osd)
		need_bin basalt-osd
		osd_mkfs "$id"
		rm -f "$dir/$name.addr"
		echo "--- $(date -u +%FT%TZ) $prog: starting $name" \
			>>"$dir/$name.log"
		(
			close_fds
			echo "$BASHPID" >"$dir/$name.pid"
			echo "$name $BASHPID" >>"$dir/daemons.pids"
			exec "$bin_dir/basalt-osd" -c "$conf" --id "$id" \
				--addr-file "$dir/$name.addr" \
				</dev/null >>"$dir/$name.log" 2>&1
		) &
		;;
	*)
		die "$name: unknown kind of daemon"
		;;
	esac
	pid=$!
	echo "$pid" >"$dir/$name.pid"
	echo "$prog: started $name (pid $pid)"
}

# SIGTERM every daemon named, wait up to $stop_timeout s for all of them,
# then SIGKILL those left.  Returns 1 if any had to be killed.
stop_daemons()
{
	local name pid i rc=0 left
	local -A pids=()

	for name in "$@"; do
		if pid=$(daemon_pid "$name"); then
			pids[$name]=$pid
			kill -TERM "$pid" 2>/dev/null || true
		else
			rm -f "$dir/$name.pid"
		fi
	done
	for ((i = 0; i < stop_timeout * 10; i++)); do
		left=0
		for name in "${!pids[@]}"; do
			if daemon_pid "$name" >/dev/null; then
				left=1
				continue
			fi
			rm -f "$dir/$name.pid"
			echo "$prog: stopped $name (pid ${pids[$name]})"
			unset "pids[$name]"
		done
		[ "$left" -eq 1 ] || return 0
		sleep 0.1
	done
	for name in "${!pids[@]}"; do
		kill -KILL "${pids[$name]}" 2>/dev/null || true
		rm -f "$dir/$name.pid"
		echo "$prog: $name (pid ${pids[$name]}) did not stop within ${stop_timeout}s of SIGTERM; sent SIGKILL" >&2
		rc=1
	done
	return $rc
}

kill_daemon()
{
	local name=$1 pid i

	if ! pid=$(daemon_pid "$name"); then
		rm -f "$dir/$name.pid"
		echo "$prog: $name is not running"
		return 0
	fi
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		daemon_pid "$name" >/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/$name.pid"
	echo "$prog: killed $name (pid $pid)"
}

tail_logs()
{
	local name

	for name in "$@"; do
		[ -f "$dir/$name.log" ] || continue
		echo "=== tail of $dir/$name.log" >&2
		tail -n 25 "$dir/$name.log" >&2
	done
}

cli()
{
	"$bin_dir/basalt" -c "$conf" "$@"
}

# Does the cluster report a leader (a quorum)?
has_quorum()
{
	local out

	out=$(cli status --format json 2>/dev/null) || return 1
	grep -q '"leader": *"' <<<"$out"
}

# "ID UP UP_FROM" for every OSD in the map (from 'basalt osd ls', whose
# JSON has one key per line).
map_osds()
{
	local out

	out=$(cli osd ls --format json 2>/dev/null) || return 1
	awk '
		/"id":/ { v = $2; gsub(/[^0-9]/, "", v); id = v; ids[id] = 1 }
		/"up":/ { up[id] = ($2 ~ /true/) ? 1 : 0 }
		/"up_from":/ { v = $2; gsub(/[^0-9]/, "", v); from[id] = v }
		END { for (i in ids) print i, up[i] + 0, from[i] + 0 }
	' <<<"$out"
}

# Wait until every OSD named ("osd.N") is up in the map with an up_from
# above the one given in the map ${old[osd.N]} (0: any), failing if one
# exits or the wait passes $wait_s.
wait_osds_up()
{
	local name id deadline states from
	local -n _old=$1
	shift

	deadline=$((SECONDS + wait_s))
	for name in "$@"; do
		id=${name#osd.}
		while :; do
			states=$(map_osds) || states=
			from=$(awk -v id="$id" '$1 == id && $2 == 1 { print $3 }' \
				<<<"$states")
			if [ -n "$from" ] && [ "$from" -gt "${_old[$name]:-0}" ]
			then
				break
			fi
			daemon_pid "$name" >/dev/null || {
				tail_logs "$name"
				die "$name exited during start-up; see $dir/$name.log"
			}
			if [ $SECONDS -ge $deadline ]; then
				tail_logs "$name"
				die "$name is not up in the map after ${wait_s}s (log above)"
			fi
			sleep 0.2
		done
	done
}

# Start the OSDs named (formatting new ones) and wait until each is up in
# the map by a boot of its own: one that was not running must show an
# up_from newer than the map had (after kill -9 the map may still say up).
start_osds()
{
	local name states
	local -A old=()

	[ $# -gt 0 ] || return 0
	states=$(map_osds) || states=
	for name in "$@"; do
		old[$name]=0
		if ! daemon_pid "$name" >/dev/null; then
			old[$name]=$(awk -v id="${name#osd.}" \
				'$1 == id && $2 == 1 { print $3 }' <<<"$states")
		fi
		start_daemon "$name"
	done
	wait_osds_up old "$@"
}

# --- commands -----------------------------------------------------------

# The messenger address of osd.$1 in a cluster whose ports start at $2.
osd_addr()
{
	if [ "$1" -lt 100 ]; then
		echo "127.0.0.1:$(($2 + 100 + $1))"
	else
		echo "127.0.0.1:0"
	fi
}

# Print the [osd.$1] section (port base $2, host $3, size $4).
osd_section()
{
	echo
	echo "[osd.$1]"
	echo "addr = $(osd_addr "$1" "$2")"
	echo "host = $3"
	echo "data_path = $dir/osd.$1.data"
	echo "meta_dir = $dir/osd.$1.meta"
	echo "osd_size = $4"
	[ -z "$mkfs_zero" ] || echo "mkfs_zero = true"
}

write_conf()
{
	local n addr raft kv

	if [ -z "$port_base" ]; then
		# A stable default per DIR, below the ephemeral port range.
		port_base=$((20000 + ($(cksum <<<"$dir" | cut -d' ' -f1) \
			% 60) * 200))
	fi
	{
		echo "# Written by $prog start on $(date -u +%FT%TZ)"
		echo "[global]"
		echo "log_level = info"
		echo "mon_command_timeout = 5s"
		echo "mon_election_timeout = 1000ms"
		for kv in "${sets[@]}"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
		for ((n = 0; n < mons; n++)); do
			addr=$((port_base + 2 * n))
			raft=$((addr + 1))
			echo
			echo "[mon.$n]"
			echo "addr = 127.0.0.1:$addr"
			echo "raft_addr = 127.0.0.1:$raft"
			echo "data_dir = $dir/mon.$n"
		done
		for ((n = 0; n < osds; n++)); do
			osd_section "$n" "$port_base" \
				"host-$((n % ${hosts:-$osds}))" "${osd_size:-1G}"
		done
	} >"$conf.tmp"
	mv "$conf.tmp" "$conf"
	echo "$prog: wrote $conf (mons: $mons, osds: $osds, ports from $port_base)"
}

wait_quorum()
{
	local name deadline

	deadline=$((SECONDS + wait_s))
	while ! has_quorum; do
		if [ $SECONDS -ge $deadline ]; then
			tail_logs $(conf_daemons)
			die "the cluster in $dir did not reach a quorum within ${wait_s}s (logs above)"
		fi
		for name in $(conf_daemons); do
			[ "${name%%.*}" = mon ] || continue
			daemon_pid "$name" >/dev/null && continue
			tail_logs "$name"
			die "$name exited during start-up; see $dir/$name.log"
		done
		sleep 0.2
	done
}

cmd_start()
{
	local name
	local -a osd_names=()

	if [ -f "$conf" ]; then
		echo "$prog: $dir already holds a cluster: starting it on its data"
	else
		write_conf
	fi
	need_bin basalt
	for name in $(conf_daemons); do
		[ "${name%%.*}" = mon ] && start_daemon "$name"
	done
	wait_quorum
	for name in $(conf_daemons); do
		[ "${name%%.*}" = osd ] && osd_names+=("$name")
	done
	start_osds "${osd_names[@]}"
	echo "$prog: cluster in $dir is up (mons: $(conf_daemons |
		grep -c '^mon'), osds: ${#osd_names[@]})"
}

# Remove section [$1] from basalt.conf (a removed OSD's, before its id is
# given out again).
conf_drop_section()
{
	awk -v sec="[$1]" '
		/^[[:space:]]*\[/ { t = $0; gsub(/[[:space:]]/, "", t); skip = (t == sec) }
		!skip' "$conf" >"$conf.tmp"
	mv "$conf.tmp" "$conf"
}

cmd_add_osd()
{
	local id base size host name out

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	need_bin basalt
	# The mons give the id: the lowest one not in the map.
	out=$(cli osd add) || die "'basalt osd add' failed: $out"
	id=$(tail -n 1 <<<"$out")
	is_uint "$id" || die "'basalt osd add' printed '$out', not an id"
	name=osd.$id
	base=$(conf_get mon.0 addr)
	base=${base##*:}
	is_uint "$base" || die "cannot find the port of mon.0 in $conf"
	size=${osd_size:-$(conf_get osd.0 osd_size)}
	if grep -qx -- "$name" <(conf_daemons); then
		# An OSD removed from the map ('basalt osd rm'): its id is
		# free again, its old disk is not wanted (a new OSD starts
		# empty).
		daemon_pid "$name" >/dev/null &&
			die "$name still runs although the map had no $name"
		size=${osd_size:-$(conf_get "$name" osd_size)}
		rm -rf "$(conf_get "$name" data_path)" \
			"$(conf_get "$name" meta_dir)"
		conf_drop_section "$name"
		echo "$prog: $name was removed from the map: its old data is deleted"
	fi
	host=${osd_host:-host-$id}
	osd_section "$id" "$base" "$host" "${size:-1G}" >>"$conf"
	echo "$prog: added [$name] to $conf (host $host)"
	start_osds "$name"
	echo "$name"
}

cmd_stop()
{
	local name rc=0 all
	local -a mons_=() osds_=()

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	all=0
	if [ ${#names[@]} -eq 0 ]; then
		mapfile -t names < <(conf_daemons)
		all=1
	fi
	for name in "${names[@]}"; do
		check_name "$name"
		case "$name" in
		osd.*) osds_+=("$name") ;;
		*) mons_+=("$name") ;;
		esac
	done
	# OSDs first: they tell the mons they are going down.
	stop_daemons "${osds_[@]}" || rc=1
	stop_daemons "${mons_[@]}" || rc=1
	[ "$all" -eq 0 ] || stop_strays || rc=1
	return $rc
}

# After stopping everything: any process started for this cluster (in
# DIR/daemons.pids) that still runs lost its pid file somehow.  Stop it
# the same way, by pid, and fail.
stop_strays()
{
	local name pid rc=0 i

	[ -f "$dir/daemons.pids" ] || return 0
	while read -r name pid; do
		is_uint "$pid" || continue
		kill -0 "$pid" 2>/dev/null || continue
		# ours: started with our config (pids get reused)
		tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null |
			grep -qF -- "$conf" || continue
		echo "$prog: $name (pid $pid) still runs without its pid file: stopping it" >&2
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < stop_timeout * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null |
				grep -qF -- "$conf" || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null &&
			tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null |
			grep -qF -- "$conf"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rc=1
	done <"$dir/daemons.pids"
	return $rc
}

cmd_kill()
{
	local name

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	[ ${#names[@]} -gt 0 ] ||
		die "kill: name the daemons to kill (e.g. mon.0 or osd.1)"
	for name in "${names[@]}"; do
		check_name "$name"
		kill_daemon "$name"
	done
}

cmd_revive()
{
	local name addr deadline
	local -a osd_names=()

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	[ ${#names[@]} -gt 0 ] ||
		die "revive: name the daemons to start (e.g. mon.0 or osd.1)"
	for name in "${names[@]}"; do
		check_name "$name"
		if [ "${name%%.*}" = osd ]; then
			osd_names+=("$name")
		else
			start_daemon "$name"
		fi
	done
	deadline=$((SECONDS + wait_s))
	for name in "${names[@]}"; do
		[ "${name%%.*}" = mon ] || continue
		addr=$(conf_get "$name" addr)
		until cli --mon-host "$addr" status >/dev/null 2>&1; do
			daemon_pid "$name" >/dev/null ||
				die "$name exited after revive; see $dir/$name.log"
			if [ $SECONDS -ge $deadline ]; then
				tail -n 25 "$dir/$name.log" >&2
				die "$name did not answer within ${wait_s}s of revive"
			fi
			sleep 0.2
		done
	done
	start_osds "${osd_names[@]}"
}

cmd_status()
{
	local name pid

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	for name in $(conf_daemons); do
		if pid=$(daemon_pid "$name"); then
			echo "$name: running (pid $pid)"
		else
			echo "$name: stopped"
		fi
	done
	cli status || true
	if [ -n "$(conf_osd_ids)" ]; then
		cli osd ls || true
	fi
}

"cmd_$cmd"
