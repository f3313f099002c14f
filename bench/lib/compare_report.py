#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Print the tables of a bench/compare.sh run (Markdown) from its results.

    compare_report.py RESULTS_DIR

Reads RESULTS_DIR/meta.env, and per system (disk, basalt_rep_engine,
basalt_rep_nbd, ceph_rep, basalt_ec_engine, ceph_ec) its status file, the
fio JSON of every job and the CPU samples of bench/lib/cpuwatch.py.  The
CPU figures cover exactly fio's measured window (after the ramp): its end
is fio's "timestamp_ms", its length the job's "job_runtime", and each
process group's CPU time is interpolated between the samples around them.
"""

import json
import os
import re
import sys

JOBS = [
    ("randwrite_4k_qd32", "4K rand write qd32"),
    ("randwrite_4k_qd1", "4K rand write qd1"),
    ("randread_4k_qd32", "4K rand read qd32"),
    ("randread_4k_qd1", "4K rand read qd1"),
    ("seqwrite_1m_qd8", "1M seq write qd8"),
    ("seqread_1m_qd8", "1M seq read qd8"),
    ("prefill", "4M seq write qd16 (prefill)"),
]
SYSTEMS = [
    ("disk", "disk"),
    ("basalt_rep_engine", "Basalt engine"),
    ("basalt_rep_nbd", "Basalt NBD"),
    ("ceph_rep", "Ceph rbd"),
    ("basalt_ec_engine", "Basalt EC engine"),
    ("ceph_ec", "Ceph EC rbd"),
]
NA = "n/a"


def read_meta(res):
    """meta.env as {key: value}: the first value of date and
    uptime_before, the last of every other key (a rerun of some parts
    appends to the file), and "reruns", the list of rerun lines."""
    meta = {"reruns": [], "all": {}}
    try:
        with open(os.path.join(res, "meta.env")) as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if not sep:
                    continue
                meta["all"].setdefault(k, [])
                if v not in meta["all"][k]:
                    meta["all"][k].append(v)
                if k == "rerun":
                    meta["reruns"].append(v)
                elif k not in ("date", "uptime_before") or k not in meta:
                    meta[k] = v
    except OSError:
        pass
    return meta


def status(res, sysname):
    try:
        with open(os.path.join(res, sysname, "status")) as f:
            return f.read().strip()
    except OSError:
        return "n/a (not run)"


def load_fio(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    # Engines may print a line before the JSON document.
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        return None


def load_samples(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def at(samples, t, get):
    """Value of get(sample) at time t, interpolated (clamped at the ends)."""
    if t <= samples[0]["t"]:
        return get(samples[0])
    for a, b in zip(samples, samples[1:]):
        if a["t"] <= t <= b["t"]:
            span = b["t"] - a["t"]
            w = (t - a["t"]) / span if span > 0 else 1.0
            return get(a) + w * (get(b) - get(a))
    return get(samples[-1])


def cpu_window(samples, t0, t1):
    """{group: cores} over [t0, t1], plus busy/steal/idle of the machine."""
    if len(samples) < 2 or t1 <= t0:
        return None
    hz = samples[0].get("hz", 100)
    wall = t1 - t0
    out = {}
    for g in samples[-1]["g"]:
        d = at(samples, t1, lambda s: s["g"].get(g, 0)) - \
            at(samples, t0, lambda s: s["g"].get(g, 0))
        out[g] = d / hz / wall
    for k in ("busy", "irq", "steal", "iowait", "total"):
        d = at(samples, t1, lambda s: s["cpu"].get(k, 0)) - \
            at(samples, t0, lambda s: s["cpu"].get(k, 0))
        out["machine_" + k] = d / hz / wall
    ours = sum(v for k, v in out.items() if not k.startswith("machine_"))
    out["other"] = max(0.0, out["machine_busy"] - out["machine_irq"] - ours)
    out["idle"] = max(0.0, out["machine_total"] - out["machine_busy"]
                      - out["machine_steal"])
    out["covered"] = samples[0]["t"] <= t0 + 0.6 and \
        samples[-1]["t"] >= t1 - 0.6
    return out


def job_result(res, sysname, job):
    j = load_fio(os.path.join(res, sysname, job + ".json"))
    if not j or not j.get("jobs"):
        return None
    jj = j["jobs"][0]
    d = jj["read"] if jj["read"]["io_bytes"] > 0 else jj["write"]
    r = {
        "error": jj.get("error", 0),
        "iops": d["iops"],
        "mbs": d["bw_bytes"] / 1e6,
        "lat_mean": d["lat_ns"]["mean"] / 1000,
        "lat_p99": d["lat_ns"].get("percentile", {}).get("99.000000", 0)
        / 1000,
        "ios": jj["read"]["total_ios"] + jj["write"]["total_ios"],
        "runtime": jj["job_runtime"] / 1000,
    }
    samples = load_samples(os.path.join(res, sysname, job + ".cpu"))
    t1 = j["timestamp_ms"] / 1000
    r["cpu"] = cpu_window(samples, t1 - r["runtime"], t1)
    if r["cpu"] and r["ios"] > 0:
        ios_s = r["ios"] / r["runtime"]
        for g in ("osd", "fio", "nbd", "mon"):
            if g in r["cpu"]:
                r[g + "_us_per_io"] = r["cpu"][g] * 1e6 / ios_s
    return r


def fmt(v, digits=0):
    if v is None:
        return NA
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return NA if r is None else f"{r:.2f}x"


def lines(path, n, skip_hex=False):
    try:
        with open(path) as f:
            out = [x.rstrip() for x in f if x.strip()]
    except OSError:
        return []
    if skip_hex:
        out = [x for x in out if "] 0x0000" not in x]
    return out[:n]


def space(res):
    """Stored and raw bytes of each prefilled volume's pool (space.txt:
    lines "SYSTEM POOL ... stored=N raw=N raw/stored=X")."""
    rows = []
    try:
        with open(os.path.join(res, "space.txt")) as f:
            for line in f:
                kv = dict(x.split("=", 1) for x in line.split()
                          if "=" in x)
                if "stored" in kv and "raw" in kv:
                    name = " ".join(x for x in line.split() if "=" not in x)
                    rows.append((name, int(kv["stored"]), int(kv["raw"])))
    except (OSError, ValueError):
        return
    if not rows:
        return
    p = print
    p()
    p("## Space for the same data")
    p()
    p("Each pool's bytes after its volume was written in full (Basalt: "
      "`basalt pool ls`, Ceph: `ceph df detail`): stored = the data once, "
      "raw = every replica or shard on the disks.")
    p()
    p("| pool | stored MiB | raw MiB | raw / stored |")
    p("|---|---:|---:|---:|")
    for name, stored, raw in rows:
        p(f"| {name} | {stored / 1048576:,.0f} | {raw / 1048576:,.0f} | "
          f"{raw / stored:.2f} |")


def profile(res):
    """The perf profile of PARTS=profile, if this run made one."""
    d = os.path.join(res, "profile")
    if not os.path.isdir(d):
        return
    r = job_result(res, "profile", "randwrite_4k_qd32")
    p = print
    p()
    p("## Profile: Basalt's three OSDs during 4K random writes, qd32")
    p()
    if r:
        c = r["cpu"] or {}
        p(f"perf record -e cpu-clock (499 Hz, DWARF call graphs) on the "
          f"OSDs while fio ran {r['iops']:,.0f} IOPS "
          f"({c.get('osd', 0):.2f} OSD cores, "
          f"{r.get('osd_us_per_io', 0):,.0f} us of OSD CPU per write; "
          f"perf's own unwinding adds to both). Shares are of the OSDs' "
          f"CPU samples.")
        p()
    for title, name, n in (("By shared object", "perf_dso.txt", 12),
                           ("By function (self)", "perf_self.txt", 30),
                           ("By call chain (self + callees)",
                            "perf_children.txt", 60)):
        body = lines(os.path.join(d, name), n, skip_hex=True)
        if not body:
            continue
        p(f"{title}:")
        p()
        p("```")
        for x in body:
            x = re.sub(r"InlineSkipList<[^>]*>", "InlineSkipList<...>", x)
            p(x[:120])
        p("```")
        p()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: compare_report.py RESULTS_DIR")
    res = sys.argv[1]
    meta = read_meta(res)
    st = {s: status(res, s) for s, _ in SYSTEMS}
    R = {}
    for s, _ in SYSTEMS:
        for job, _ in JOBS:
            r = job_result(res, s, job) if not st[s].startswith("n/a") \
                else None
            R[(s, job)] = r

    def val(s, job, key):
        r = R.get((s, job))
        if r is None:
            return None
        return r.get(key)

    p = print
    p(f"# Basalt vs Ceph on one machine ({meta.get('date', '?')})")
    p()
    p(f"- machine: {meta.get('cpu', '?')}, {meta.get('mem', '?')} RAM, "
      f"kernel {meta.get('kernel', '?')}, data on {meta.get('disk', '?')}")
    vers = meta["all"].get("basalt", ["?"])
    bins = meta["all"].get("basalt_build") or \
        meta["all"].get("basalt_bin", ["?"])
    builds = [f"{v} ({bins[min(i, len(bins) - 1)]})"
              for i, v in enumerate(vers)]
    p(f"- Basalt {' / at the rerun: '.join(builds)}, "
      f"Ceph {meta.get('ceph', 'not run')}, {meta.get('fio', '?')}")
    p(f"- each job: {meta.get('ramp', '?')} s ramp + "
      f"{meta.get('runtime', '?')} s measured, 1 fio job, volumes of "
      f"{meta.get('vol_size', '?')} written in full first, random offsets "
      f"over the whole volume (norandommap)")
    p(f"- load before: {meta.get('uptime_before', '?').strip()}")
    for r in meta["reruns"]:
        p(f"- parts measured again into this run on {r.strip()}")
    p(f"- load after: {meta.get('uptime_after', '?').strip()}; "
      f"{'the last part' if meta['reruns'] else 'the run'} took "
      f"{meta.get('elapsed_s', '?')} s")
    for s, name in SYSTEMS:
        if st[s] != "ok":
            p(f"- {name}: {st[s]}")
    p()

    # --- the comparison ----------------------------------------------
    p("## Results")
    p()
    p("Replicated pools have size 3; EC pools are 2+1. `x` columns: how "
      "many times better Basalt is than Ceph (throughput: Basalt / Ceph; "
      "latency and CPU: Ceph / Basalt). OSD CPU = CPU time of all OSD "
      "processes per I/O during the measured window.")
    p()
    cols = [name for _, name in SYSTEMS]
    p("| job | metric | " + " | ".join(cols[:4]) + " | x | " +
      " | ".join(cols[4:]) + " | EC x |")
    p("|---|---|" + "---:|" * (len(cols) + 2))
    for job, jname in JOBS:
        big = job.startswith(("seq", "prefill"))
        metrics = [("MB/s", "mbs", 0, True)] if big else \
            [("IOPS", "iops", 0, True)]
        if job != "prefill":
            metrics += [("mean lat us", "lat_mean", 0, False),
                        ("p99 lat us", "lat_p99", 0, False),
                        ("OSD CPU us/IO", "osd_us_per_io", 0, False)]
        for mname, key, dig, higher in metrics:
            cells = []
            for s, _ in SYSTEMS:
                v = val(s, job, key)
                if s == "disk" and key == "osd_us_per_io":
                    v = None
                cells.append(fmt(v, dig) if v is not None else
                             ("—" if s == "disk" and
                              key == "osd_us_per_io" else NA))
            b, c = val("basalt_rep_engine", job, key), \
                val("ceph_rep", job, key)
            be, ce = val("basalt_ec_engine", job, key), \
                val("ceph_ec", job, key)
            x = ratio(b, c) if higher else ratio(c, b)
            xe = ratio(be, ce) if higher else ratio(ce, be)
            p(f"| {jname} | {mname} | " + " | ".join(cells[:4]) +
              f" | {fmt_ratio(x)} | " + " | ".join(cells[4:]) +
              f" | {fmt_ratio(xe)} |")
    p()

    # --- targets -----------------------------------------------------
    p("## Targets")
    p()
    p("| target | Basalt | reference | ratio | needed | result |")
    p("|---|---:|---:|---:|---:|---|")

    def target(name, b, ref, need, lower_better=False, unit="",
               na_reason=None):
        if lower_better:
            need_s = f"<= 1/{need:g}"
        elif need >= 1:
            need_s = f">= {need:g}x"
        else:
            need_s = f">= {need * 100:g}%"
        if na_reason:
            p(f"| {name} | {NA} | {NA} | {NA} | {need_s} | {na_reason} |")
            return
        r = ratio(ref, b) if lower_better else ratio(b, ref)
        if r is None:
            verdict = "n/a (not measured)"
        else:
            verdict = "PASS" if r >= need - 1e-9 else "MISS"

        def u(v):
            return fmt(v) + unit if v is not None else NA
        rs = fmt_ratio(r)
        if r is not None and need < 1 and not lower_better:
            rs = f"{r * 100:.0f}%"
        p(f"| {name} | {u(b)} | {u(ref)} | {rs} | {need_s} | "
          f"{verdict} |")

    E, C, D = "basalt_rep_engine", "ceph_rep", "disk"
    target("4K rand write qd32 IOPS vs Ceph",
           val(E, "randwrite_4k_qd32", "iops"),
           val(C, "randwrite_4k_qd32", "iops"), 8)
    dw = val(D, "randwrite_4k_qd32", "iops")
    target("4K rand write qd32 IOPS vs disk's 4K write IOPS / 3",
           val(E, "randwrite_4k_qd32", "iops"),
           dw / 3 if dw else None, 0.6)
    target("4K rand write qd1 mean latency vs Ceph",
           val(E, "randwrite_4k_qd1", "lat_mean"),
           val(C, "randwrite_4k_qd1", "lat_mean"), 8, lower_better=True,
           unit=" us")
    target("4K rand read qd32 IOPS vs Ceph",
           val(E, "randread_4k_qd32", "iops"),
           val(C, "randread_4k_qd32", "iops"), 3)
    target("1M seq write MB/s vs Ceph",
           val(E, "seqwrite_1m_qd8", "mbs"),
           val(C, "seqwrite_1m_qd8", "mbs"), 2.5)
    target("1M seq read MB/s vs disk",
           val(E, "seqread_1m_qd8", "mbs"),
           val(D, "seqread_1m_qd8", "mbs"), 0.9)
    target("OSD CPU per 4K write (qd32) vs Ceph",
           val(E, "randwrite_4k_qd32", "osd_us_per_io"),
           val(C, "randwrite_4k_qd32", "osd_us_per_io"), 10,
           lower_better=True, unit=" us")
    EE, CE = "basalt_ec_engine", "ceph_ec"
    why = st[EE] if st[EE] != "ok" else None
    target("EC 2+1: 4K rand write qd32 IOPS vs Ceph EC",
           val(EE, "randwrite_4k_qd32", "iops"),
           val(CE, "randwrite_4k_qd32", "iops"), 8, na_reason=why)
    target("EC 2+1: 4K rand write qd1 mean latency vs Ceph EC",
           val(EE, "randwrite_4k_qd1", "lat_mean"),
           val(CE, "randwrite_4k_qd1", "lat_mean"), 8, lower_better=True,
           unit=" us", na_reason=why)
    target("EC 2+1: 4K rand read qd32 IOPS vs Ceph EC",
           val(EE, "randread_4k_qd32", "iops"),
           val(CE, "randread_4k_qd32", "iops"), 3, na_reason=why)
    target("EC 2+1: 1M seq write MB/s vs Ceph EC",
           val(EE, "seqwrite_1m_qd8", "mbs"),
           val(CE, "seqwrite_1m_qd8", "mbs"), 2.5, na_reason=why)
    target("EC 2+1: 1M seq read MB/s vs disk",
           val(EE, "seqread_1m_qd8", "mbs"),
           val(D, "seqread_1m_qd8", "mbs"), 0.9, na_reason=why)
    target("EC 2+1: OSD CPU per 4K write (qd32) vs Ceph EC",
           val(EE, "randwrite_4k_qd32", "osd_us_per_io"),
           val(CE, "randwrite_4k_qd32", "osd_us_per_io"), 10,
           lower_better=True, unit=" us", na_reason=why)
    target("EC 2+1: 1M seq write MB/s vs Basalt replicated",
           val(EE, "seqwrite_1m_qd8", "mbs"),
           val(E, "seqwrite_1m_qd8", "mbs"), 1, na_reason=why)
    N = "basalt_rep_nbd"
    target("NBD: 4K rand write qd32 IOPS vs fio engine",
           val(N, "randwrite_4k_qd32", "iops"),
           val(E, "randwrite_4k_qd32", "iops"), 0.75)
    target("NBD: 4K rand read qd32 IOPS vs fio engine",
           val(N, "randread_4k_qd32", "iops"),
           val(E, "randread_4k_qd32", "iops"), 0.75)
    p()

    # --- where the CPU went ------------------------------------------
    p("## CPU during each job")
    p()
    p("Cores busy (of the machine's "
      f"{meta.get('cpu', '?').rsplit(',', 1)[-1].strip()}) during the "
      "measured window, from /proc/PID/stat and /proc/stat every 0.5 s: "
      "fio = the fio process tree (with the client library's threads), "
      "mon = monitor (+ Ceph's mgr), irq = interrupt and softirq work "
      "(disk completions, loopback TCP; charged to no process), other = "
      "every other process on the machine (other people's work, the "
      "kernel's threads), steal = "
      "time the hypervisor gave to other guests, idle includes iowait "
      "(idle while a disk request is pending).")
    p()
    p("| system | job | fio | OSDs | mon | nbd | irq | other | steal | "
      "idle | fio us/IO | OSD us/IO |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, sname in SYSTEMS:
        for job, jname in JOBS:
            r = R.get((s, job))
            if r is None or r["cpu"] is None:
                continue
            c = r["cpu"]

            def g(k):
                return f"{c[k]:.2f}" if k in c else "—"
            warn = "" if c["covered"] else " (samples partial)"
            p(f"| {sname} | {jname}{warn} | {g('fio')} | {g('osd')} | "
              f"{g('mon')} | {g('nbd')} | {g('machine_irq')} | "
              f"{g('other')} | "
              f"{g('machine_steal')} | {g('idle')} | "
              f"{fmt(r.get('fio_us_per_io'))} | "
              f"{fmt(r.get('osd_us_per_io')) if 'osd' in c else '—'} |")
    space(res)
    profile(res)
    errs = [(s, j) for (s, j), r in R.items() if r and r["error"]]
    if errs:
        p()
        p("fio reported errors in: " +
          ", ".join(f"{s}/{j}" for s, j in errs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
