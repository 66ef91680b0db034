"""``GET api/collab-docs/health`` and the Prometheus metrics on Jupyter's ``/metrics``."""

from __future__ import annotations

from jupyter_collab_docs.testing import eventually, yclient


async def test_health_is_ok_with_details_for_admins_only(api, collab):
    admin = await api("carol", "GET", "health")
    assert admin.status == 200
    body = admin.body
    assert body["status"] == "ok" and body["node"] == collab.node_id
    checks = body["checks"]
    assert set(checks) >= {"store", "access_database", "cluster", "audit", "rooms"}
    assert all(check["ok"] for check in checks.values())
    assert checks["cluster"]["backend"] == "local"
    assert checks["store"]["latency_ms"] >= 0
    user = await api("alice", "GET", "health")
    assert (user.status, user.body) == (200, {"status": "ok"})
    assert (await api(None, "GET", "health")).status == 401


# A store that fails makes the health check 503: test_openapi.py's
# test_health_degraded_is_503 (checked against the contract too).


async def test_health_reports_a_failing_audit_trail(api, collab, monkeypatch):
    monkeypatch.setattr(
        collab.audit, "status", lambda: {"ok": False, "error": "kafka away"}, raising=False
    )
    admin = await api("carol", "GET", "health")
    assert admin.status == 503
    assert admin.body["checks"]["audit"] == {"ok": False, "error": "kafka away"}


async def test_metrics_count_rooms_connections_and_updates(api, ws_url, jp_fetch, tokens):
    doc = (await api("alice", "POST", "documents", {"name": "m", "type": "file"})).body

    async def scrape() -> dict[str, float]:
        response = await jp_fetch("metrics", headers={"Authorization": f"token {tokens['alice']}"})
        found = {}
        for line in response.body.decode().splitlines():
            if line.startswith("collab_docs_") and " " in line:
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    async with yclient(ws_url(doc["id"])) as client:
        client.text.insert(0, "hello")
        metrics: dict[str, float] = {}

        async def updated() -> bool:
            metrics.update(await scrape())
            return any(
                k.startswith("collab_docs_updates_in_total") and 'source="client"' in k and v > 0
                for k, v in metrics.items()
            )

        for _ in range(100):
            if await updated():
                break
            await eventually(lambda: True, 0.05)
        assert await updated()
    assert any(k.startswith("collab_docs_rooms_open") and v >= 1 for k, v in metrics.items())
    assert any(k.startswith("collab_docs_connections") and v >= 1 for k, v in metrics.items())
    assert any(k.startswith("collab_docs_store_write_seconds_count") for k in metrics)
    assert any(k.startswith("collab_docs_bus_messages_total") for k in metrics)
