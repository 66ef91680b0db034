"""Profile our server during the trace replay (workload 4) with py-spy, then its cold load.

    python -m benchmarks.profile_trace [--observers 1] [--limit 60000] [--sample 15]

Starts a fresh collab-docs server (core 0), replays the first --limit edits of the
automerge-paper trace with one writer and --observers observers (the generator, core 1,
as ``make -C benchmarks trace`` does), and samples the server with ``py-spy record
--nonblocking`` for --sample seconds once the replay has begun. Prints the trace row's
figures (edits/s, server CPU per edit), the functions with the most samples (as
``benchmarks.profile`` does), then restarts the server and times one client's first sync
of the stored trace document (the workload's cold load) with the server's CPU for it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from . import fixtures
from . import workloads as wl
from .profile import PY_SPY, summary
from .profile_join import cpu_seconds, settle
from .servers import CollabDocs, make_workdir


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--observers", type=int, default=1)
    ap.add_argument("--limit", type=int, default=60000, help="edits replayed (0: the whole trace)")
    ap.add_argument("--sample", type=int, default=15, help="seconds of py-spy sampling")
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument(
        "--no-spy", action="store_true", help="figures only (py-spy costs the server a little)"
    )
    ap.add_argument(
        "--no-cold-load", action="store_true", help="no restart and cold load after the replay"
    )
    args = ap.parse_args(argv)
    os.sched_setaffinity(0, {int(wl.GEN_CORE)})
    wl.QUIET_WAIT_S = 5
    workdir = make_workdir("profile-trace")
    out = workdir / "profile.txt"
    with CollabDocs(workdir / "server") as srv:
        room = srv.text_room("trace")

        def spy():
            time.sleep(4)  # connect, then the first edits
            subprocess.run(
                [
                    "taskset",
                    "-c",
                    wl.GEN_CORE,
                    str(PY_SPY),
                    "record",
                    "--nonblocking",
                    "--threads",
                    "-r",
                    str(args.rate),
                    "-p",
                    str(srv.pid),
                    "-d",
                    str(args.sample),
                    "--format",
                    "raw",
                    "-o",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        sampler = None
        if not args.no_spy:
            sampler = threading.Thread(target=spy, daemon=True)
            sampler.start()
        k = args.observers
        cfg = {
            "mode": "trace",
            "protocol": srv.protocol,
            "rooms": [room],
            "clientsPerRoom": k + 1,
            "workers": min(4, k + 1),
            "serverPid": srv.pid,
            "trace": {
                "tracePath": str(fixtures.TRACE),
                "limit": args.limit or None,
                "window": wl.TRACE_WINDOW,
                "timeoutMs": 240_000,
                "drainTimeoutMs": 120_000,
            },
        }
        r, warn = wl.run_generator(cfg, srv.workdir, timeout=540)
        if sampler is not None:
            sampler.join(timeout=args.sample + 30)
        m = wl.trace_metrics(r)
        print(
            json.dumps(
                {
                    key: m.get(key)
                    for key in (
                        "edits",
                        "edits_per_s",
                        "server_cpu_us_per_edit",
                        "observers_ok_pct",
                        "end_content_ok",
                    )
                }
            ),
            warn,
        )
        if out.exists():
            print(summary(out))
            print(f"stacks: {out}")
        if r.get("final_sha") and not args.no_cold_load:
            time.sleep(3)  # debounced saves reach the store
            for run in range(3):
                srv.restart()
                settle(srv.pid)
                probe = {
                    "mode": "probe",
                    "protocol": srv.protocol,
                    "rooms": [srv.reopen(room)],
                    "clientsPerRoom": 1,
                    "workers": 1,
                    "serverPid": srv.pid,
                    "connectTimeoutMs": 120000,
                }
                cpu = cpu_seconds(srv.pid)
                p, _ = wl.run_generator(probe, srv.workdir, timeout=180)
                cpu = cpu_seconds(srv.pid) - cpu
                ms = (p.get("join") or {}).get("applied", {}).get("max_ms")
                ok = (p.get("text") or {}).get("sha") == r["final_sha"]
                print(
                    f"cold load {run + 1}: first sync {ms} ms (text ok: {ok}), server CPU "
                    f"{1000 * cpu:.0f} ms (the connection included)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
