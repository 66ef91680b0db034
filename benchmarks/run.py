"""Run the benchmarks on demand (never part of the tests).

    python -m benchmarks.run [--quick] [--workloads text,rooms,join,trace,cluster] [--servers NAME,...]

Runs each workload against every available server (ours and the peers), one
server at a time, and writes results/ (or results/quick/ with --quick):
results.json, results.md and PNG plots.  Rows of (workload, server) pairs that
were not run this time are kept from the previous results.json of the same profile.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import report
from .servers import ALL, BENCH, make_workdir, persistence_check
from . import workloads as wl
from .workloads import GEN_CORE, PROFILES, WORKLOADS


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1), "kernel": platform.release(),
            "node": node, "python": platform.python_version()}


def check_stores(servers, skipped: dict) -> dict:
    """Every server that claims a store must give back, after a restart, what a client wrote;
    one that does not is skipped (its rows would be labelled persistent without being so)."""
    checks = {}
    for cls in servers:
        if not cls.has_store:
            continue
        print(f"[bench] persistence check of {cls.name} (write, restart, read back) ...", file=sys.stderr, flush=True)
        checks[cls.name] = check = persistence_check(cls, make_workdir(f"persist-{cls.name}"))
        print(f"[bench]   {check}", file=sys.stderr, flush=True)
        if not check.get("ok"):
            skipped[cls.name] = f"persistence check failed: {check.get('error')}"
    return checks


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # unwinds through the `with server` blocks, which stop the servers


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, ~3.5 minutes (smoke check)")
    ap.add_argument("--workloads", default="text,rooms,join,trace,cluster")
    ap.add_argument("--servers", default=",".join(ALL), help=f"subset of {','.join(ALL)}")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-persistence-check", action="store_true",
                    help="do not check (write, restart, read back) that the servers with a store persist")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)

    profile_name = "quick" if args.quick else "full"
    profile = PROFILES[profile_name]
    wl.QUIET_WAIT_S = profile["quiet_wait_s"]
    outdir = args.out or (BENCH / "results" / ("quick" if args.quick else ""))
    if os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {int(GEN_CORE)})  # keep the orchestrator off the server's core
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1500+ sockets on each side

    servers, skipped = [], {}
    for name in args.servers.split(","):
        why = ALL[name].available()
        if why:
            skipped[name] = why
            print(f"[bench] skipping {name}: {why}", file=sys.stderr)
        else:
            servers.append(ALL[name])

    persistence = {} if args.skip_persistence_check else check_stores(servers, skipped)
    servers = [c for c in servers if c.name not in skipped]

    old = {}
    if (outdir / "results.json").exists():
        old = json.loads((outdir / "results.json").read_text())
    workloads = args.workloads.split(",")
    names = {c.name for c in servers} | set(skipped)
    rows = [r for r in old.get("rows", []) if r["workload"] not in workloads or r["server"] not in names]
    kept = len(rows)  # rows of the previous results that this run does not replace
    kept_servers = {r["server"] for r in rows}
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.time()
    for w in workloads:
        for cls in servers:
            print(f"[bench] {w} on {cls.name} ...", file=sys.stderr, flush=True)
            t = time.time()
            workdir = make_workdir(f"{w}-{cls.name}")
            try:
                new = WORKLOADS[w](cls, profile, workdir)
            except Exception as e:  # one broken server must not lose the others' results
                new = [{"workload": w, "variant": "error", "server": cls.name, "metrics": {},
                        "warnings": [f"{type(e).__name__}: {e}"], "raw": {}}]
            for r in new:
                print(f"[bench]   {r['variant']}: " + ", ".join(f"{k}={v if isinstance(v, bool) else report.fmt(v)}" for k, v in r["metrics"].items())
                      + ("" if not r["warnings"] else f"  WARN {r['warnings']}"), file=sys.stderr, flush=True)
            print(f"[bench]   ({time.time() - t:.0f}s, logs in {workdir})", file=sys.stderr, flush=True)
            rows += new
    order = {w: i for i, w in enumerate(WORKLOADS)}
    rows.sort(key=lambda r: order.get(r["workload"], 99))
    om = old.get("meta") or {}
    runs = [] if not kept else om.get("runs") or ([{"started": om["started"], "workloads": "(earlier run)", "servers": ""}] if om else [])
    runs.append({"started": started, "workloads": ",".join(workloads), "servers": ",".join(c.name for c in servers)})
    notes = om.get("notes") if kept else None  # hand-written remarks about the machine, kept with its rows
    # versions and persistence checks of the servers whose rows are kept, updated by this run's
    versions = {k: v for k, v in (om.get("servers") or {}).items() if k in kept_servers}
    versions.update({c.name: c.version for c in servers})
    persistence = {**{k: v for k, v in (om.get("persistence") or {}).items() if k in kept_servers}, **persistence}
    results = {"meta": {"profile": profile_name, "started": started, "seconds": round(time.time() - t0), "runs": runs,
                        **({"notes": notes} if notes else {}),
                        "machine": machine(), "servers": versions,
                        "skipped": skipped, "persistence": persistence, "profile_sizes": profile}, "rows": rows}
    md = report.write(results, outdir)
    print(md.read_text())
    print(f"[bench] wrote {md} in {time.time() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
