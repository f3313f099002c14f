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
  $prog start  --dir DIR [--mons N] [--osds N] [--osd-size SIZE]
                         [--port-base P] [--wait SECONDS]
  $prog stop   --dir DIR [--timeout SECONDS] [NAME...]
  $prog kill   --dir DIR NAME...
  $prog revive --dir DIR [--wait SECONDS] NAME...
  $prog status --dir DIR

start   writes DIR/basalt.conf (first time only: a DIR that already holds a
        cluster is started again on its data and its basalt.conf), starts
        every daemon not already running and waits until 'basalt status'
        reports a quorum (default 30 s; on timeout it prints the logs' tails).
        mon.N listens on 127.0.0.1:P+2N (raft on P+2N+1); P defaults to a
        value derived from DIR.  Default: 3 mons, 0 osds.
stop    SIGTERM, wait (default 10 s), then SIGKILL; fails if any daemon had
        to be killed.  Without NAME, every daemon of DIR.
kill    SIGKILL the named daemons (e.g. mon.0).
revive  start the named daemons again on their existing data and wait
        until each answers.
status  which daemons of DIR run, and 'basalt status'.

Binaries come from \$BASALT_BIN (default: build/bin of this repository).
Each daemon logs to DIR/<name>.log; its pid is in DIR/<name>.pid.
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
*) echo "$prog: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac

dir=
mons=3
osds=0
osd_size=1G
port_base=
wait_s=30
stop_timeout=10
names=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir=${2:?--dir needs a value}; shift 2 ;;
	--mons) mons=${2:?--mons needs a value}; shift 2 ;;
	--osds) osds=${2:?--osds needs a value}; shift 2 ;;
	--osd-size) osd_size=${2:?--osd-size needs a value}; shift 2 ;;
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
is_uint "$osds" || die "'--osds': '$osds' is not a number"
is_uint "$wait_s" || die "'--wait': '$wait_s' is not a number of seconds"
is_uint "$stop_timeout" ||
	die "'--timeout': '$stop_timeout' is not a number of seconds"
[[ "$osd_size" =~ ^[0-9]+[KMGTkmgt]?$ ]] ||
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
	local pidf=$dir/$1.pid pid state
	[ -f "$pidf" ] || return 1
	pid=$(<"$pidf")
	is_uint "$pid" || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Orphans are not always reaped here: a zombie has stopped.
	state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' \
		/proc/"$pid"/stat 2>/dev/null) || return 1
	[ "$state" != Z ] && [ "$state" != X ] || return 1
	# Guard against pid reuse: the process must be ours.
	tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$conf" ||
		return 1
	echo "$pid"
}

# Every daemon named in basalt.conf, in file order.
conf_daemons()
{
	sed -n 's/^[[:space:]]*\[\(\(mon\|osd\)\.[0-9]\+\)\][[:space:]]*$/\1/p' \
		"$conf"
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

start_daemon()
{
	local name=$1 kind=${1%%.*} id=${1#*.} pid

	if pid=$(daemon_pid "$name"); then
		echo "$prog: $name already runs (pid $pid)"
		return 0
	fi
	case "$kind" in
	mon)
		[ -x "$bin_dir/basalt-mon" ] ||
			die "no $bin_dir/basalt-mon: build first or set \$BASALT_BIN"
		echo "--- $(date -u +%FT%TZ) $prog: starting $name" \
			>>"$dir/$name.log"
		(
			close_fds
			exec "$bin_dir/basalt-mon" -c "$conf" --id "$id" \
				</dev/null >>"$dir/$name.log" 2>&1
		) &
		;;
	*)
		die "$name: OSDs are not yet supported"
		;;
	esac
	pid=$!
	echo "$pid" >"$dir/$name.pid"
	echo "$prog: started $name (pid $pid)"
}

# SIGTERM daemon $1, wait up to $stop_timeout s, then SIGKILL.  Returns 1
# if it had to be killed.
stop_daemon()
{
	local name=$1 pid i

	if ! pid=$(daemon_pid "$name"); then
		rm -f "$dir/$name.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < stop_timeout * 10; i++)); do
		if ! daemon_pid "$name" >/dev/null; then
			rm -f "$dir/$name.pid"
			echo "$prog: stopped $name (pid $pid)"
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$dir/$name.pid"
	echo "$prog: $name (pid $pid) did not stop within ${stop_timeout}s of SIGTERM; sent SIGKILL" >&2
	return 1
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

	for name in $(conf_daemons); do
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

# --- commands -----------------------------------------------------------

write_conf()
{
	local n addr raft

	if [ -z "$port_base" ]; then
		# A stable default per DIR, below the ephemeral port range.
		port_base=$((20000 + ($(cksum <<<"$dir" | cut -d' ' -f1) \
			% 60) * 200))
	fi
	[ "$osds" -eq 0 ] ||
		die "'--osds $osds': OSDs are not yet supported (use --osds 0)"
	{
		echo "# Written by $prog start on $(date -u +%FT%TZ)"
		echo "[global]"
		echo "log_level = info"
		echo "mon_command_timeout = 5s"
		echo "mon_election_timeout = 1000ms"
		for ((n = 0; n < mons; n++)); do
			addr=$((port_base + 2 * n))
			raft=$((addr + 1))
			echo
			echo "[mon.$n]"
			echo "addr = 127.0.0.1:$addr"
			echo "raft_addr = 127.0.0.1:$raft"
			echo "data_dir = $dir/mon.$n"
		done
	} >"$conf.tmp"
	mv "$conf.tmp" "$conf"
	echo "$prog: wrote $conf (mons: $mons, ports from $port_base)"
}

cmd_start()
{
	local name deadline

	if [ -f "$conf" ]; then
		echo "$prog: $dir already holds a cluster: starting it on its data"
	else
		write_conf
	fi
	[ -x "$bin_dir/basalt" ] ||
		die "no $bin_dir/basalt: build first or set \$BASALT_BIN"
	for name in $(conf_daemons); do
		start_daemon "$name"
	done
	deadline=$((SECONDS + wait_s))
	while ! has_quorum; do
		if [ $SECONDS -ge $deadline ]; then
			tail_logs
			die "the cluster in $dir did not reach a quorum within ${wait_s}s (logs above)"
		fi
		for name in $(conf_daemons); do
			daemon_pid "$name" >/dev/null && continue
			tail_logs
			die "$name exited during start-up; see $dir/$name.log"
		done
		sleep 0.2
	done
	echo "$prog: cluster in $dir is up"
}

cmd_stop()
{
	local name rc=0

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	if [ ${#names[@]} -eq 0 ]; then
		mapfile -t names < <(conf_daemons)
	fi
	for name in "${names[@]}"; do
		check_name "$name"
		stop_daemon "$name" || rc=1
	done
	return $rc
}

cmd_kill()
{
	local name

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	[ ${#names[@]} -gt 0 ] || die "kill: name the daemons to kill (e.g. mon.0)"
	for name in "${names[@]}"; do
		check_name "$name"
		kill_daemon "$name"
	done
}

cmd_revive()
{
	local name addr deadline

	[ -f "$conf" ] || die "no cluster in $dir (no basalt.conf)"
	[ ${#names[@]} -gt 0 ] ||
		die "revive: name the daemons to start (e.g. mon.0)"
	for name in "${names[@]}"; do
		check_name "$name"
		start_daemon "$name"
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
}

"cmd_$cmd"
