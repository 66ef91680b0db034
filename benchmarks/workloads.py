"""The benchmark workloads: each runs one server through one scenario and returns result rows.

A row is {"workload", "variant", "server", "metrics": {...}, "warnings": [...], "raw": generator output}.
The generator (Node, generator/main.js) runs pinned to core 1 and does the
measuring; this module only provisions rooms, restarts servers for cold loads
and turns the generator's JSON into the few headline metrics.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import fixtures
from .servers import BENCH, OURS, CollabDocsCluster

GEN_CORE = "1"

PROFILES = {
    # ~3.5 minutes for all servers (the cluster ~40 s of it): smoke check of every code path
    "quick": dict(text_sizes=[2, 10], text_seconds=3, rooms=30, rooms_seconds=3, join_clients=20, join_mb=1,
                  trace_limit=2000, trace_observers=[1, 5], trace_timeout_s=60, workers=3, quiet_wait_s=3,
                  cluster_sizes=[6], cluster_nodes=[1, 2], cluster_seconds=3),
    "full": dict(text_sizes=[2, 10, 50, 200], text_seconds=15, rooms=500, rooms_seconds=15, join_clients=100,
                 join_mb=5, trace_limit=None, trace_observers=[1, 10, 50], trace_timeout_s=240, workers=4,
                 quiet_wait_s=20, cluster_sizes=[10, 50], cluster_nodes=[1, 2, 3], cluster_seconds=15),
}
TYPING_RATE = 5  # keystrokes per second per typist
MAX_TYPISTS = 10  # text workload: min(N, 10) clients type, the others observe
ROOMS_RATE = 1  # rooms workload: one typist per room
TRACE_WINDOW = 256  # in-flight trace updates


def host_busy() -> float:
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(threshold=0.15, max_wait=20.0) -> float | None:
    """The machine may be shared (test suites, builds): wait until the host is
    nearly idle before measuring.  Returns seconds waited, None if it never got quiet."""
    t0 = time.time()
    while time.time() - t0 < max_wait:
        b0 = host_busy()
        time.sleep(0.5)
        if (host_busy() - b0) / 0.5 < threshold:
            return time.time() - t0
    return None


QUIET_WAIT_S = 20.0  # set from the profile by run.py


def run_generator(cfg: dict, workdir: Path, timeout: float = 900) -> tuple[dict, list[str]]:
    """Run generator/main.js on the generator core; returns (result, warnings)."""
    waited = wait_for_quiet(max_wait=QUIET_WAIT_S)
    cfg_path, out_path = workdir / f"gen-{cfg['mode']}-config.json", workdir / f"gen-{cfg['mode']}-result.json"
    out_path.unlink(missing_ok=True)
    cfg.setdefault("globalTimeoutMs", int(timeout * 1000))
    cfg_path.write_text(json.dumps(cfg))
    # own process group, so that a generator that overruns is killed with all its workers
    proc = subprocess.Popen(["taskset", "-c", GEN_CORE, "node", str(BENCH / "generator/main.js"), str(cfg_path), str(out_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout + 30)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    warnings = [line for line in stderr.splitlines() if line.strip()][-5:]
    if waited is None:
        warnings.append("host never got quiet before this measurement")
    if not out_path.exists():
        return {"error": f"generator exited {proc.returncode}: {stderr[-500:]}"}, warnings
    result = json.loads(out_path.read_text())
    if result.get("error"):
        warnings.append(result["error"].splitlines()[0])
    return result, warnings


GEN_LAG_MS = 50  # generator event-loop delay p99 above which its timestamps are late


def _gen_metrics(r: dict, latency_matters: bool = False) -> dict:
    """Generator load: CPU share of its core and event-loop delay.  High CPU means the
    generator limits throughput; a high loop delay means its latency timestamps are late
    (only judged where per-update latency is the measurement)."""
    g = r.get("generator") or {}
    lag = g.get("eld_p99_ms")
    lagging = latency_matters and lag is not None and lag > GEN_LAG_MS
    return {"gen_cpu_util": g.get("utilisation"), "gen_eld_p99_ms": lag,
            "gen_saturated": bool(g.get("saturated") or lagging) if g else None,
            "other_cpu_util": g.get("other_util"), "interference": g.get("interference")}


def _row(workload, variant, server, metrics, raw, warnings):
    raw = dict(raw)
    hist = raw.pop("latency_hist", None)
    return {"workload": workload, "variant": variant, "server": server.name, "metrics": metrics,
            "warnings": warnings, "latency_hist": hist, "raw": raw, "at": time.strftime("%Y-%m-%d %H:%M:%S")}


def _typing_metrics(r: dict) -> dict:
    lat, srv = r.get("latency") or {}, r.get("server") or {}
    kb = lambda v: None if v is None else v / 1024  # noqa: E731
    return {
        "latency_p50_ms": lat.get("p50_ms"), "latency_p90_ms": lat.get("p90_ms"),
        "latency_p99_ms": lat.get("p99_ms"), "latency_max_ms": lat.get("max_ms"),
        "delivery_pct": None if r.get("delivery_ratio") is None else 100 * r["delivery_ratio"],
        "diverged_rooms": r.get("diverged_rooms"),
        "updates_in": r.get("updates_in"),
        "server_cpu_us_per_update_in": srv.get("cpu_us_per_update_in"),
        "server_cpu_us_per_msg_out": srv.get("cpu_us_per_message_out"),
        "server_rss_kb_per_conn": kb(srv.get("rss_per_connection_bytes")),
        "server_rss_kb_per_room": kb(srv.get("rss_per_room_bytes")),
        "server_rss_mb": None if srv.get("rss_after_bytes") is None else srv["rss_after_bytes"] / 2**20,
        "join_p50_ms": (r.get("join") or {}).get("applied", {}).get("p50_ms"),
        **_gen_metrics(r, latency_matters=True),
    }


def _typing_run(server, workdir, rooms, clients_per_room, typists, rate, seconds, workers, extra=None):
    cfg = {"mode": "text" if len(rooms) == 1 else "rooms", "protocol": server.protocol, "rooms": rooms,
           "clientsPerRoom": clients_per_room, "typistsPerRoom": typists, "rate": rate,
           "durationMs": int(seconds * 1000), "workers": workers, "serverPid": server.pid,
           "drainTimeoutMs": 20000, "connectParallel": 25, **(extra or {})}
    return run_generator(cfg, workdir)


def text(server, profile, workdir):
    """Workload 1: one text document, N clients, min(N, 10) typists at 5 keystrokes/s."""
    rows = []
    for n in profile["text_sizes"]:
        typists = min(n, MAX_TYPISTS)
        variant = f"N={n} ({typists} typing)"
        try:
            with server(workdir / f"text-{n}") as srv:
                room = srv.text_room(f"text-{n}")
                r, warn = _typing_run(srv, srv.workdir, [room], n, typists, TYPING_RATE, profile["text_seconds"], profile["workers"])
            rows.append(_row("text", variant, srv, _typing_metrics(r), r, warn))
        except Exception as e:  # keep the other sizes
            rows.append(error_row("text", variant, server, e))
    return rows


def rooms(server, profile, workdir):
    """Workload 2: many rooms x 3 clients, one typist per room at 1 keystroke/s."""
    n = profile["rooms"]
    with server(workdir / "rooms") as srv:
        room_list = [srv.text_room(f"room-{i}") for i in range(n)]
        r, warn = _typing_run(srv, srv.workdir, room_list, 3, 1, ROOMS_RATE, profile["rooms_seconds"], profile["workers"])
    return [_row("rooms", f"{n} rooms x 3", srv, _typing_metrics(r), r, warn)]


def join_metrics(r: dict, has_store: bool) -> dict:
    j = (r.get("join") or {}).get("received", {})
    return {
        "storm_p50_ms": j.get("p50_ms"), "storm_p90_ms": j.get("p90_ms"), "storm_max_ms": j.get("max_ms"),
        "client_apply_p50_ms": (r.get("client_apply") or {}).get("p50_ms"),
        "complete_pct": None if r.get("delivery_ratio") is None else 100 * r["delivery_ratio"],
        "server_cpu_s": (r.get("server") or {}).get("cpu_s"),
        "cold_load_ms": r.get("anchor_sync_ms") if has_store else None,
        **_gen_metrics(r),
    }


def join(server, profile, workdir):
    """Workload 3: N clients join a large notebook at once (an anchor client keeps it loaded).

    Join time = connect until the server's full state (SyncStep2) has arrived;
    clients apply it right after the storm (client_apply_*) and must all end
    with the anchor's state.

    For servers with a store the document is provisioned, the server restarted,
    and the anchor's join is the cold load of the notebook.
    """
    nb = fixtures.make_notebook(workdir / "notebook.ipynb", profile["join_mb"])
    clients = profile["join_clients"]
    with server(workdir / "join") as srv:
        room, needs_seed = srv.notebook_room("big", nb)
        if srv.has_store:
            srv.restart()
            room = srv.reopen(room)
        cfg = {"mode": "join", "protocol": srv.protocol, "rooms": [room], "clientsPerRoom": clients,
               "workers": profile["workers"], "serverPid": srv.pid, "connectTimeoutMs": 120000,
               "seedNotebook": str(nb) if needs_seed else None}
        r, warn = run_generator(cfg, srv.workdir)
    metrics = join_metrics(r, srv.has_store)
    size = nb.stat().st_size / 1e6
    return [_row("join", f"{clients} clients, {size:.1f} MB notebook", srv, metrics, r, warn)]


def trace_metrics(r: dict) -> dict:
    g, cold = r.get("generator") or {}, r.get("cold_load") or {}
    edits, observers = r.get("edits"), r.get("observers")
    return {
        "edits": edits, "partial": bool((r.get("replay") or {}).get("timed_out")),
        "edits_per_s": r.get("edits_per_s"), "all_done_s": r.get("all_observers_done_s"),
        "observers_ok_pct": None if r.get("delivery_ratio") is None else 100 * r["delivery_ratio"],
        "end_content_ok": r.get("writer_matches_end_content"),
        "server_cpu_us_per_edit": (r.get("server") or {}).get("cpu_us_per_update_in"),
        # < 1 means the server merges updates before fanning them out
        "msgs_per_edit_per_observer": g["msgs_in"] / (edits * (observers + 1)) if edits and observers and g.get("msgs_in") else None,
        "cold_load_ms": cold.get("ms"), "cold_load_ok": cold.get("ok"), "cold_load_recv_ms": cold.get("recv_ms"),
        **_gen_metrics(r),
    }


def trace(server, profile, workdir):
    """Workload 4: replay the automerge-paper trace with 1/10/50 observers, then cold-load it."""
    rows = []
    for k in profile["trace_observers"]:
        try:
            rows.append(_trace_one(server, profile, workdir, k))
        except Exception as e:  # keep the other observer counts
            rows.append(error_row("trace", f"{k} observers", server, e))
    return rows


def error_row(workload, variant, server, e):
    return {"workload": workload, "variant": variant, "server": server.name, "metrics": {},
            "warnings": [f"{type(e).__name__}: {e}"], "raw": {}}


def _trace_one(server, profile, workdir, k):
    """One observer count: replay, verify every observer, then cold-load from the store."""
    with server(workdir / f"trace-{k}") as srv:
        room = srv.text_room(f"trace-{k}")
        cfg = {"mode": "trace", "protocol": srv.protocol, "rooms": [room], "clientsPerRoom": k + 1,
               "workers": min(profile["workers"], k + 1), "serverPid": srv.pid,
               "trace": {"tracePath": str(fixtures.TRACE), "limit": profile["trace_limit"], "window": TRACE_WINDOW,
                         "timeoutMs": profile["trace_timeout_s"] * 1000, "drainTimeoutMs": 120000}}
        r, warn = run_generator(cfg, srv.workdir, timeout=profile["trace_timeout_s"] + 300)
        cold = cold_load(srv, room, r.get("final_sha")) if srv.has_store and r.get("final_sha") else {}
    rep = r.get("replay") or {}
    if rep.get("timed_out"):
        warn.append(f"replay stopped at its {profile['trace_timeout_s']} s bound after {rep.get('sent')}/{rep.get('total')} edits")
    metrics = trace_metrics({**r, "cold_load": cold})
    edits = profile["trace_limit"] or "all"
    return _row("trace", f"{k} observers, {edits} edits", srv, metrics, {**r, "cold_load": cold}, warn)


def cold_load(srv, room, expected_sha, settle=3.0):
    """Restart the server and time one client's first sync of the stored document."""
    time.sleep(settle)  # let debounced saves reach the store
    srv.restart()
    room = srv.reopen(room)
    cfg = {"mode": "probe", "protocol": srv.protocol, "rooms": [room], "clientsPerRoom": 1, "workers": 1,
           "serverPid": srv.pid, "connectTimeoutMs": 120000}
    r, _ = run_generator(cfg, srv.workdir, timeout=180)
    text = r.get("text") or {}
    join = r.get("join") or {}
    # ms: until the client applied the first sync; recv_ms: until it arrived (server side,
    # before the Node client's own apply, ~70 ms of the trace's ~120 in a fresh process)
    return {"ms": join.get("applied", {}).get("max_ms"), "recv_ms": join.get("received", {}).get("max_ms"),
            "ok": text.get("sha") == expected_sha,
            "len": text.get("len"), "error": r.get("error")}


def cluster_metrics(r: dict) -> dict:
    """The text metrics, plus latency by writer and receiver on the same node or not, and the
    CPU of the helpers (Redis, the store's database) per update in."""
    same, cross, aux = r.get("latency_same_node") or {}, r.get("latency_cross_node") or {}, r.get("aux") or {}
    srv = r.get("server") or {}
    per_node = srv.get("per_node_cpu_s")
    return {**_typing_metrics(r),
            "same_node_p50_ms": same.get("p50_ms"), "same_node_p99_ms": same.get("p99_ms"),
            "cross_node_p50_ms": cross.get("p50_ms"), "cross_node_p99_ms": cross.get("p99_ms"),
            "aux_cpu_us_per_update_in": aux.get("cpu_us_per_update_in"),
            # the whole server side: nodes + Redis + the store's database
            "total_cpu_us_per_update_in": None if srv.get("cpu_us_per_update_in") is None
            else srv["cpu_us_per_update_in"] + (aux.get("cpu_us_per_update_in") or 0),
            "node_cpu_spread": (max(per_node) / min(per_node)) if per_node and min(per_node) > 0 else None}


def cluster(server, profile, workdir):
    """Workload 5: workload 1 (one text document, min(N, 10) typists at 5 keystrokes/s)
    with the clients spread round robin over k collab-docs nodes sharing one Redis bus and
    one store, for k = 1 (the plain server on the same store, no bus), 2, 3.

    Every process of the server side (nodes, Redis, FerretDB) is pinned to the server
    core, like the single server of the other workloads: the comparison is about the
    cluster's overhead on the same CPU, not about scaling out.  Server CPU is summed over
    the nodes; Redis and the store's database are reported apart (aux_cpu_*).
    Only our server has a cluster mode: for the peers this returns no rows.
    """
    if server.name != OURS:
        print(f"[bench]   cluster: {server.name} has no cluster mode; only {OURS} runs this workload", file=sys.stderr)
        return []
    why = CollabDocsCluster.available()
    if why:
        return [error_row("cluster", "all", server, RuntimeError(why))]
    rows = []
    for n in profile["cluster_sizes"]:
        typists = min(n, MAX_TYPISTS)
        for k in profile["cluster_nodes"]:
            variant = f"N={n} ({typists} typing), {k} node{'s' if k > 1 else ''}"
            try:
                with CollabDocsCluster(workdir / f"cluster-{n}-{k}", k) as srv:
                    room = srv.text_room(f"cluster-{n}-{k}")
                    r, warn = _typing_run(srv, srv.workdir, [room], n, typists, TYPING_RATE, profile["cluster_seconds"],
                                          profile["workers"], {"serverPids": srv.pids, "auxPids": srv.aux_pids})
                r = {**r, "nodes": k, "store": srv.store_desc, "bus": "redis" if k > 1 else None}
                rows.append(_row("cluster", variant, srv, {"nodes": k, **cluster_metrics(r)}, r, warn))
            except Exception as e:  # keep the other variants
                rows.append(error_row("cluster", variant, server, e))
    return rows


WORKLOADS = {"text": text, "rooms": rooms, "join": join, "trace": trace, "cluster": cluster}
