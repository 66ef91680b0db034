"""Results: JSON, Markdown tables with ratios against every peer, and PNG plots.

The subject of the ratios is our server ("collab-docs"); while it cannot run,
y-websocket is used as the subject so the ratio tables are still exercised
(and clearly labelled as such).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from .servers import ALL, OURS

# Headline metrics per workload, in table order, with the direction that is better.
COLUMNS = {
    "text": ["latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_max_ms", "delivery_pct",
             "server_cpu_us_per_update_in", "server_cpu_us_per_msg_out", "server_rss_kb_per_conn", "join_p50_ms",
             "gen_cpu_util", "other_cpu_util"],
    "rooms": ["latency_p50_ms", "latency_p99_ms", "latency_max_ms", "delivery_pct", "server_cpu_us_per_update_in",
              "server_rss_kb_per_room", "server_rss_kb_per_conn", "server_rss_mb", "join_p50_ms", "gen_cpu_util", "other_cpu_util"],
    "join": ["storm_p50_ms", "storm_p90_ms", "storm_max_ms", "client_apply_p50_ms", "complete_pct", "server_cpu_s",
             "cold_load_ms", "gen_cpu_util", "other_cpu_util"],
    "trace": ["edits", "edits_per_s", "all_done_s", "observers_ok_pct", "end_content_ok", "server_cpu_us_per_edit",
              "msgs_per_edit_per_observer",
              "cold_load_ms", "cold_load_ok", "gen_cpu_util", "other_cpu_util"],
    "cluster": ["latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_max_ms", "same_node_p99_ms",
                "cross_node_p50_ms", "cross_node_p99_ms", "delivery_pct", "server_cpu_us_per_update_in",
                "server_cpu_us_per_msg_out", "aux_cpu_us_per_update_in", "total_cpu_us_per_update_in", "server_rss_mb", "gen_cpu_util", "other_cpu_util"],
}
NO_RATIO = {"edits", "other_cpu_util", "delivery_pct", "complete_pct", "observers_ok_pct", "end_content_ok", "cold_load_ok", "gen_cpu_util",
            "client_apply_p50_ms"}


def fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**NO**"
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.3g}" if abs(v) < 999.5 else f"{v:,.0f}"
    return str(v)


def subject_of(rows) -> str:
    return OURS if any(r["server"] == OURS for r in rows) else "y-websocket"


def markdown(results: dict) -> str:
    rows, meta = results["rows"], results["meta"]
    subject = subject_of(rows)
    out = [f"# Benchmark results ({meta['profile']} profile)", "",
           f"Last run {meta['started']} on {meta['machine']['cpu']} ({meta['machine']['cores']} cores, "
           f"{meta['machine']['memory_gb']} GB); server pinned to core 0, generator to core 1.", ""]
    runs = meta.get("runs") or []
    if len(runs) > 1:
        out += ["Rows come from these runs (each row's `at` in results.json says which one; a ratio may "
                "compare rows of two runs of the same workload):", ""]
        out += [f"- {r['started']}: {r['workloads']} on {r['servers'] or 'all servers'}" for r in runs] + [""]
    out += [f"> {n}" for n in meta.get("notes") or []] + ([""] if meta.get("notes") else [])
    out += server_lines(meta)
    for name, why in meta.get("skipped", {}).items():
        out.append(f"- **{name} not measured**: {why}")
    out.append("")
    for workload, cols in COLUMNS.items():
        wrows = [r for r in rows if r["workload"] == workload]
        if not wrows:
            continue
        # one block per server (ours first), whichever run the rows came from
        servers = list(dict.fromkeys([subject, *ALL, *(r["server"] for r in wrows)]))
        wrows.sort(key=lambda r: servers.index(r["server"]))
        out += [f"## {workload}", "", "| variant | server | " + " | ".join(cols) + " | warnings |",
                "|" + "---|" * (len(cols) + 3)]
        for r in wrows:
            flags = []
            if r["metrics"].get("gen_saturated"):
                flags.append(f"⚠ generator saturated (CPU {r['metrics'].get('gen_cpu_util') or 0:.2f}, loop delay p99 {r['metrics'].get('gen_eld_p99_ms') or 0:.0f} ms)")
            if r["metrics"].get("interference"):
                flags.append(f"⚠ other processes busy ({r['metrics']['other_cpu_util']:.2f} cores)")
            # the generator's own WARNING lines are already shown as the flags
            flags += [w.replace("|", "/")[:120] for w in r["warnings"] if not w.startswith("WARNING: ")]
            warn = "; ".join(flags)
            out.append(f"| {r['variant']} | {r['server']} | " + " | ".join(fmt(r['metrics'].get(c)) for c in cols) + f" | {warn} |")
        if workload == "cluster":
            out += ["", *cluster_notes(wrows), *node_ratio_table(wrows, cols), ""]
            continue
        out += ["", *(cpu_fit(wrows) if workload == "text" else []), *ratio_table(wrows, cols, subject), ""]
    return "\n".join(out)


def server_lines(meta: dict) -> list[str]:
    """Which servers ran, with or without a store, and the start-up persistence check of those with one."""
    checks = meta.get("persistence") or {}
    lines = []
    for name, version in (meta.get("servers") or {}).items():
        cls = ALL.get(name)
        store = "in memory" if cls is not None and not cls.has_store else "with a store"
        check = checks.get(name)
        if check:
            store += (f"; persistence check passed (written, restarted, read back in {check.get('ms', 0):.0f} ms"
                      f"{'' if check.get('in_first_sync') else ', after the first sync'})" if check.get("ok")
                      else f"; **persistence check failed**: {check.get('error')}")
        lines.append(f"- `{name}`: {version}, {store}")
    return lines


def cpu_fit(wrows) -> list[str]:
    """Least-squares fit over the text sizes: server CPU = a * updates_in + b * messages_out."""
    lines = []
    for server in dict.fromkeys(r["server"] for r in wrows):
        pts = [(r["raw"]["updates_in"], r["raw"]["deliveries_expected"], r["raw"]["server"]["cpu_s"])
               for r in wrows if r["server"] == server and (r.get("raw") or {}).get("server") and r["raw"].get("updates_in")]
        if len(pts) < 2:
            continue
        sxx, syy = sum(x * x for x, _, _ in pts), sum(y * y for _, y, _ in pts)
        sxy, sxz, syz = sum(x * y for x, y, _ in pts), sum(x * z for x, _, z in pts), sum(y * z for _, y, z in pts)
        det = sxx * syy - sxy * sxy
        if not det:
            continue
        a, b = (sxz * syy - syz * sxy) / det, (syz * sxx - sxz * sxy) / det
        lines.append(f"| {server} | {a * 1e6:.0f} | {b * 1e6:.0f} | {len(pts)} |")
    if lines:
        lines = ["Fitted server CPU over the text sizes (CPU = a·updates in + b·messages out):", "",
                 "| server | a: µs per update in | b: µs per message out | points |", "|---|---|---|---|", *lines, ""]
    return lines


def cluster_notes(wrows) -> list[str]:
    raw = next((r.get("raw") or {} for r in wrows if (r.get("raw") or {}).get("store")), {})
    return [f"Only {OURS} runs this workload: y-websocket, Hocuspocus and jupyter-server-ydoc have no cluster mode, "
            "so there are no peer ratios; the ratios are *k nodes / 1 node* for the same clients. "
            "Clients connect round robin to the nodes (typists too); the 1-node run is the plain server on the same "
            "store without a bus. Every server-side process (the nodes, Redis, the store's database) is pinned to core 0, "
            "as the single server is in the other workloads, so this measures the cluster's overhead on the same CPU, "
            "not scale-out. server_cpu_* is summed over the nodes; aux_cpu_us_per_update_in is Redis + the store's "
            "database, total_cpu_us_per_update_in both together. "
            f"same/cross_node: writer and receiver on the same node or not. Store: {raw.get('store', '?')}.", ""]


def node_ratio_table(wrows, cols):
    """k nodes / 1 node, same client count (cluster workload)."""
    cols = [c for c in cols if c not in NO_RATIO and not c.startswith(("same_node", "cross_node"))]
    base = {r["variant"].split(", ")[0]: r["metrics"] for r in wrows if r["metrics"].get("nodes") == 1}
    lines = []
    for r in wrows:
        b = base.get(r["variant"].split(", ")[0])
        if not b or r["metrics"].get("nodes") in (None, 1):
            continue
        cells = []
        for c in cols:
            a, d = r["metrics"].get(c), b.get(c)
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, d)) and d
            cells.append(f"{a / d:.3g}×" if ok else "–")
        lines.append(f"| {r['variant']} | " + " | ".join(cells) + " |")
    if lines:
        lines = ["Ratios k nodes / 1 node, same clients (lower is better):", "",
                 "| variant | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1), *lines]
    return lines


def ratio_table(wrows, cols, subject):
    """subject / peer for every metric of every variant the subject has (same run)."""
    peers = sorted({r["server"] for r in wrows} - {subject})
    cols = [c for c in cols if c not in NO_RATIO]
    lines = []
    if not peers or not any(r["server"] == subject for r in wrows):
        return lines
    note = "" if subject == OURS else f" ({OURS} not measured: {subject} stands in as the subject)"
    lines += [f"Ratios {subject} / peer{note} (lower is better except edits_per_s):", "",
              "| variant | vs | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 2)]
    by = {(r["variant"], r["server"]): r["metrics"] for r in wrows}
    for r in wrows:
        if r["server"] != subject:
            continue
        for p in peers:
            other = by.get((r["variant"], p)) or {}
            cells = []
            # a replay cut by its time bound has a smaller document: only its rate compares
            partial = r["metrics"].get("partial") or other.get("partial")
            for c in cols:
                a, b = r["metrics"].get(c), other.get(c)
                if partial and c in ("all_done_s", "cold_load_ms"):
                    a = None
                ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)) and b
                cells.append(f"{a / b:.3g}×" if ok else "–")
            lines.append(f"| {r['variant']} | {p} | " + " | ".join(cells) + " |")
    return lines


def plots(results: dict, outdir: Path) -> list[str]:
    """A few PNGs; skipped (with a message) if matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["matplotlib not installed: no plots (run `make -C benchmarks setup`)"]
    rows = results["rows"]
    made = []

    def grouped_bars(workload, metric, title, fname, log=False):
        wrows = [r for r in rows if r["workload"] == workload and r["metrics"].get(metric) is not None]
        if not wrows:
            return
        variants = list(dict.fromkeys(r["variant"] for r in wrows))
        servers = list(dict.fromkeys(r["server"] for r in wrows))
        fig, ax = plt.subplots(figsize=(8, 4))
        width = 0.8 / len(servers)
        for i, s in enumerate(servers):
            vals = [next((r["metrics"][metric] for r in wrows if r["server"] == s and r["variant"] == v), 0) or 0 for v in variants]
            ax.bar([x + i * width for x in range(len(variants))], vals, width, label=s)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(variants))], variants, fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(metric)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(outdir / fname, dpi=100)
        plt.close(fig)
        made.append(fname)

    grouped_bars("text", "latency_p99_ms", "Text: fan-out latency p99 (ms)", "text_latency_p99.png", log=True)
    grouped_bars("text", "latency_p50_ms", "Text: fan-out latency p50 (ms)", "text_latency_p50.png", log=True)
    grouped_bars("text", "server_cpu_us_per_msg_out", "Text: server CPU per message out (µs)", "text_cpu_per_msg.png")
    grouped_bars("rooms", "server_rss_kb_per_room", "Rooms: server RSS per room (KiB)", "rooms_rss.png")
    grouped_bars("join", "storm_max_ms", "Join storm: time until the last client has the notebook (ms)", "join_storm.png")
    grouped_bars("trace", "edits_per_s", "Trace replay: edits/s until every observer converged", "trace_throughput.png")
    cdf(plt, [r for r in rows if r["workload"] == "text" and r.get("latency_hist")], outdir, made)
    cluster_plot(plt, [r for r in rows if r["workload"] == "cluster" and r["metrics"].get("nodes")], outdir, made)
    return made


def cluster_plot(plt, crows, outdir, made):
    """Cluster: p99 latency and server CPU per update against the node count, one line per client count."""
    if not crows:
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for size in dict.fromkeys(r["variant"].split(", ")[0] for r in crows):
        pts = sorted((r["metrics"]["nodes"], r["metrics"]) for r in crows if r["variant"].startswith(size + ","))
        for ax, metric in zip(axes, ("latency_p99_ms", "server_cpu_us_per_update_in")):
            ax.plot([k for k, _ in pts], [m.get(metric) or 0 for _, m in pts], marker="o", label=size)
            ax.set_ylabel(metric)
    for ax, title in zip(axes, ("fan-out latency p99 (ms)", "server CPU per update in (µs, all nodes)")):
        ax.set_xlabel("nodes")
        ax.set_xticks([1, 2, 3])
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Cluster: the text workload over 1-3 nodes (all on core 0)", fontsize=10)
    fig.tight_layout()
    fig.savefig(outdir / "cluster.png", dpi=100)
    plt.close(fig)
    made.append("cluster.png")


def cdf(plt, trows, outdir, made):
    """Latency CDF of the largest text variant, one line per server."""
    if not trows:
        return
    largest = trows[-1]["variant"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in trows:
        if r["variant"] != largest:
            continue
        h = r["latency_hist"]
        xs, ys, seen = [], [], 0
        for b in sorted(h["buckets"], key=int):
            seen += h["buckets"][b]
            xs.append(math.exp((int(b) + 0.5) * math.log(1.02)) / 1000)
            ys.append(seen / h["count"])
        ax.plot(xs, ys, label=r["server"])
    ax.set_xscale("log")
    ax.set_xlabel("fan-out latency (ms)")
    ax.set_ylabel("fraction of deliveries")
    ax.set_title(f"Text {largest}: latency CDF")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(outdir / "text_latency_cdf.png", dpi=100)
    plt.close(fig)
    made.append("text_latency_cdf.png")


def write(results: dict, outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(json.dumps(results, indent=1))
    results["meta"]["plots"] = plots(results, outdir)
    (outdir / "results.json").write_text(json.dumps(results, indent=1))
    md = outdir / "results.md"
    md.write_text(markdown(results) + "\n\nPlots: " + ", ".join(f"[{p}]({p})" for p in results["meta"]["plots"] if p.endswith(".png")) + "\n")
    return md


def rebuild(outdir: Path) -> Path:
    """Recompute the headline metrics from the raw generator output and re-render (after changing the report)."""
    from . import workloads
    results = json.loads((outdir / "results.json").read_text())
    for r in results["rows"]:
        raw = r.get("raw") or {}
        if not raw:
            continue
        if r["workload"] in ("text", "rooms"):
            r["metrics"] = workloads._typing_metrics(raw)
        elif r["workload"] == "join":
            r["metrics"] = workloads.join_metrics(raw, ALL[r["server"]].has_store)
        elif r["workload"] == "trace":
            r["metrics"] = workloads.trace_metrics(raw)
        elif r["workload"] == "cluster":
            r["metrics"] = {"nodes": raw.get("nodes"), **workloads.cluster_metrics(raw)}
    return write(results, outdir)


if __name__ == "__main__":
    import sys
    print(rebuild(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results")))
