#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sample the CPU time of groups of processes, like pidstat, from /proc.

    cpuwatch.py --out FILE [--interval S] [--max-seconds S] SPEC...

SPEC is GROUP=PID[,PID...] (those processes, every thread included) or
tree:GROUP=PID (PID and all its descendants, found again at every sample,
plus the time of children they have reaped).  Every --interval seconds
(default 0.5) one JSON line goes to FILE:

    {"t": WALL_CLOCK_S, "hz": CLK_TCK,
     "cpu": {"busy": T, "irq": T, "steal": T, "iowait": T, "total": T},
     "g": {"GROUP": TICKS, ..., "cpuwatch": TICKS}}

"cpu" is the machine's /proc/stat line in ticks (busy = user + nice +
system + irq + softirq, irq = irq + softirq: interrupt work
that no process is charged for); each group is utime + stime summed over its
processes.  A group's count never goes down: a process that is gone keeps
its last value.  Stops on SIGTERM or SIGINT (after one last sample) or
after --max-seconds (default 900).  bench/lib/compare_report.py reads the
file and interpolates the counts at the start and end of a fio job.
"""

import argparse
import json
import os
import signal
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, utime + stime, cutime + cstime) of pid, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the
    # last ')'.
    rest = data[data.rfind(")") + 2:].split()
    if len(rest) < 15:
        return None
    ppid = int(rest[1])
    own = int(rest[11]) + int(rest[12])
    children = int(rest[13]) + int(rest[14])
    return ppid, own, children


def machine():
    with open("/proc/stat") as f:
        fields = f.readline().split()
    v = [int(x) for x in fields[1:]]
    v += [0] * (10 - len(v))
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return {
        "busy": user + nice + system + irq + softirq,
        "irq": irq + softirq,
        "steal": steal,
        "iowait": iowait,
        "total": user + nice + system + idle + iowait + irq + softirq
        + steal,
    }


def all_ppids():
    """{pid: ppid} of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None:
            out[int(name)] = st[0]
    return out


def descendants(root, ppids):
    kids = {}
    for pid, ppid in ppids.items():
        kids.setdefault(ppid, []).append(pid)
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(kids.get(pid, []))
    return seen


def parse_specs(specs):
    groups, trees = {}, {}
    for spec in specs:
        kind = "pids"
        if spec.startswith("tree:"):
            kind, spec = "tree", spec[5:]
        name, sep, pids = spec.partition("=")
        if not sep or not name or not name.replace("_", "").isalnum():
            sys.exit(f"cpuwatch.py: bad spec '{spec}' (GROUP=PID[,PID])")
        try:
            nums = [int(p) for p in pids.split(",") if p]
        except ValueError:
            sys.exit(f"cpuwatch.py: bad pid list in '{spec}'")
        if kind == "tree":
            if len(nums) != 1:
                sys.exit(f"cpuwatch.py: tree:{name} takes one pid")
            trees[name] = nums[0]
        else:
            groups[name] = nums
    return groups, trees


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("spec", nargs="*")
    a = ap.parse_args()
    if not 0.05 <= a.interval <= 10:
        sys.exit("cpuwatch.py: --interval is 0.05 to 10 seconds")
    groups, trees = parse_specs(a.spec)
    groups["cpuwatch"] = [os.getpid()]

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    last = {}      # (group, pid) -> ticks, for processes now gone
    best = {}      # group -> highest total reported
    deadline = time.monotonic() + a.max_seconds
    with open(a.out, "w") as out:
        while True:
            sample = {"t": time.time(), "hz": HZ, "cpu": machine(), "g": {}}
            ppids = all_ppids() if trees else {}
            for name, pids in groups.items():
                # A listed process that is gone keeps its last count.
                for pid in pids:
                    st = proc_stat(pid)
                    if st is not None:
                        last[(name, pid)] = st[1]
                sample["g"][name] = sum(last.get((name, p), 0)
                                        for p in pids)
            for name, root in trees.items():
                # Every process of the tree still in /proc (zombies
                # too) counts its own time and that of the children it
                # has reaped; a member that has left /proc was reaped by
                # its parent, a member, whose count now holds it.  Only
                # the root's count is kept once it is gone.
                total = 0
                for pid in descendants(root, ppids):
                    st = proc_stat(pid)
                    if st is None:
                        continue
                    if pid == root:
                        last[(name, root)] = st[1] + st[2]
                    else:
                        total += st[1] + st[2]
                total += last.get((name, root), 0)
                best[name] = max(best.get(name, 0), total)
                sample["g"][name] = best[name]
            out.write(json.dumps(sample, separators=(",", ":")) + "\n")
            out.flush()
            if stop or time.monotonic() >= deadline:
                break
            end = time.monotonic() + a.interval
            while not stop and time.monotonic() < end:
                time.sleep(min(0.05, a.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
