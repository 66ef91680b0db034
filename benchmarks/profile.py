"""Profile our server under a typing workload with py-spy (on demand, like the benchmarks).

    python -m benchmarks.profile rooms [--rooms 500] [--seconds 40] [--sample 20]
    python -m benchmarks.profile text [--clients 50] [--seconds 40] [--sample 20]

Starts a fresh collab-docs server (pinned to core 0), provisions the rooms, runs the
generator (core 1) with a typing phase of --seconds, and once every client is
connected (the health endpoint's connection count) and typing has begun, samples the
server for --sample seconds with ``py-spy record --nonblocking`` (raw collapsed
stacks, all threads). Prints the harness's CPU per update and the functions with the
most samples; the stacks stay in the work directory for flame graphs
(``py-spy``'s raw format is the collapsed-stack format of flamegraph.pl / speedscope).

Samples of worker threads (the SQLite store's, the access database's) include time
spent waiting for the GIL: read them as "where", the CPU figures as "how much".
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import workloads as wl
from .servers import BENCH, CollabDocs, http, make_workdir

PY_SPY = BENCH / ".venv-bench/bin/py-spy"


def connections(srv) -> int:
    try:
        _, body = http("GET", f"http://127.0.0.1:{srv.port}/api/collab-docs/health", timeout=5)
    except Exception:
        return -1
    return int(((body or {}).get("checks") or {}).get("rooms", {}).get("connections", -1))


def summary(stacks: Path, top: int = 40) -> str:
    """Inclusive samples per function (idle select() left out), by thread."""
    incl, threads, total = collections.Counter(), collections.Counter(), 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        if "select (selectors.py" in frames[-1]:
            continue
        total += n
        threads[frames[0].split(": ")[-1]] += n
        for f in dict.fromkeys(re.sub(r":\d+\)", ")", f) for f in frames[1:]):
            incl[f] += n
    out = [f"{total} non-idle samples; by thread: {dict(threads)}"]
    out += [f"{c:6d} {100 * c / max(total, 1):5.1f}%  {f}" for f, c in incl.most_common(top)]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", choices=["rooms", "text"])
    ap.add_argument("--rooms", type=int, default=500)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=40, help="typing phase")
    ap.add_argument("--sample", type=int, default=20, help="seconds of py-spy sampling within it")
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    args = ap.parse_args(argv)
    if not PY_SPY.exists():
        sys.exit("py-spy missing: run `make -C benchmarks setup`")
    os.sched_setaffinity(0, {int(wl.GEN_CORE)})
    wl.QUIET_WAIT_S = 5
    workdir = make_workdir("profile")
    out = workdir / "profile.txt"
    with CollabDocs(workdir / "server") as srv:
        if args.workload == "rooms":
            rooms = [srv.text_room(f"room-{i}") for i in range(args.rooms)]
            per_room, typists, rate = 3, 1, wl.ROOMS_RATE
        else:
            rooms = [srv.text_room("text")]
            per_room, typists, rate = args.clients, min(args.clients, wl.MAX_TYPISTS), wl.TYPING_RATE
        expected = len(rooms) * per_room

        def spy():
            deadline = time.time() + 300
            while connections(srv) < expected and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # the generator waits 1 s after connecting, then types
            subprocess.run(["taskset", "-c", wl.GEN_CORE, str(PY_SPY), "record", "--nonblocking", "--threads",
                            "-r", str(args.rate), "-p", str(srv.pid), "-d", str(args.sample), "--format", "raw",
                            "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        sampler = threading.Thread(target=spy, daemon=True)
        sampler.start()
        r, warn = wl._typing_run(srv, srv.workdir, rooms, per_room, typists, rate, args.seconds, 4)
        sampler.join(timeout=args.sample + 30)
    m = wl._typing_metrics(r)
    print(json.dumps({k: m.get(k) for k in ("server_cpu_us_per_update_in", "server_cpu_us_per_msg_out",
                                             "latency_p50_ms", "latency_p99_ms", "delivery_pct", "other_cpu_util")}), warn)
    if out.exists():
        print(summary(out))
        print(f"stacks: {out}")
    else:
        print("py-spy wrote nothing (did the clients connect? see the server log in", workdir, ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
