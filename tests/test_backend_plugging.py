"""A site plugs its own backend by configuration: one ``*_class`` trait per family
(``store_class``, ``access_database_class``, ``cluster_class``, ``audit_sink_classes``),
built with ``cls.from_url(url, node=..., parent=...)`` (jupyter_collab_docs/backends.py).

Each plugged class below is set by its dotted name, as a configuration file or the command
line would, in a real in-process server; the test then drives the server over HTTP and
WebSocket and shows the plugged backend did the work. The backend options that became
traits are checked to reach the backend from the server's configuration."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_collab_docs.acl.database import AccessDatabase
from jupyter_collab_docs.app import CollabDocsApp
from jupyter_collab_docs.audit.sinks import KafkaSink, Sink
from jupyter_collab_docs.audit.trail import AuditTrail
from jupyter_collab_docs.cluster import BusMessage, LocalBus, LocalHub, bus_from_url
from jupyter_collab_docs.cluster.base import UPDATE
from jupyter_collab_docs.cluster.redis import RedisBus
from jupyter_collab_docs.stores import PendingUpdate, store_from_url
from jupyter_collab_docs.stores.sqlite import SQLiteDocumentStore

from .conftest import eventually, yclient

HERE = __name__  # "tests.test_backend_plugging": plugged classes are named by it


# -- the plugged backends -------------------------------------------------------------------


class RecordingStore(SQLiteDocumentStore):
    """The SQLite store, counting what the server asks of it."""

    def __init__(self, path: Path | str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.calls: Counter[str] = Counter()
        self.appended: list[str] = []

    async def create(self, record: Any, initial_state: bytes | None) -> None:
        self.calls["create"] += 1
        await super().create(record, initial_state)

    async def append(self, doc_id: str, updates: list[PendingUpdate]) -> int:
        self.calls["append"] += 1
        self.appended.append(doc_id)
        return await super().append(doc_id, updates)


class PrefixedAccessDatabase(AccessDatabase):
    """The SQLAlchemy access database behind a URL scheme of its own
    (``recording+sqlite:///path``: no built-in backend takes it), counting units of work."""

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> PrefixedAccessDatabase:
        assert url.startswith("recording+sqlite:///"), url
        return cls(url.removeprefix("recording+"), parent=parent)

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.units = 0
        super().__init__(url, **kwargs)

    async def run(self, fn: Any) -> Any:
        self.units += 1
        return await super().run(fn)


HUBS: dict[str, LocalHub] = {}


class HubBus(LocalBus):
    """The in-process bus on a shared hub named by ``cluster_url`` (``hub://name``), so a
    test can stand beside the server as a second node."""

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> HubBus:
        return cls(node, hub=HUBS.setdefault(url, LocalHub()), url=url, parent=parent)


class MemorySink(Sink):
    """Audit events kept in memory, for ``memory://name`` URLs."""

    def __init__(self, *, url: str, node: str, parent: Any = None) -> None:
        super().__init__(parent=parent)
        self.url = url
        self.node = node
        self.events: list[dict[str, Any]] = []

    def write(self, line: str, event: dict[str, Any]) -> None:
        self.events.append(event)


@pytest.fixture
def collab_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The test's parameter; ``{tmp}`` in a string value is the test's tmp_path."""
    return {
        k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in request.param.items()
    }


async def new_doc(api: Any, content: str = "hello") -> str:
    reply = await api(
        "alice", "POST", "documents", {"name": "n", "type": "file", "content": content}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


# -- one test per family: plugged by its *_class trait, used by the running server --------


@pytest.mark.parametrize(
    "collab_config", [{"store_class": f"{HERE}.RecordingStore"}], indirect=True
)
async def test_a_plugged_document_store_holds_the_documents(collab: Any, api: Any, ws_url: Any):
    store = collab.store
    assert type(store) is RecordingStore
    doc_id = await new_doc(api)
    assert store.calls["create"] == 1
    async with yclient(ws_url(doc_id)) as client:
        await eventually(lambda: str(client.text) == "hello", what="initial sync")
        client.text.insert(5, " world")
        await eventually(lambda: doc_id in store.appended, what="the edit written")
    content = await api("alice", "GET", f"documents/{doc_id}/content")
    assert content.body["content"] == "hello world"
    # What it wrote is what the server reads back: it is the store, not a bystander.
    assert (await store.load(doc_id)).updates


@pytest.mark.parametrize(
    "collab_config",
    [
        {
            "access_database_class": f"{HERE}.PrefixedAccessDatabase",
            # A scheme of the plugged class's own: the built-in check does not refuse it.
            "acl_url": "recording+sqlite:///{tmp}/plugged-access.db",
        }
    ],
    indirect=True,
)
async def test_a_plugged_access_database_holds_users_and_shares(
    tmp_path: Path, api: Any, collab: Any
):
    db = collab.access_db
    assert type(db) is PrefixedAccessDatabase
    assert db.url == f"sqlite:///{tmp_path}/plugged-access.db"
    assert (tmp_path / "plugged-access.db").exists()
    doc_id = await new_doc(api)
    assert (await api("bob", "GET", f"documents/{doc_id}")).status == 404
    before = db.units
    reply = await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "viewer"})
    assert reply.status in (200, 201), reply.body
    assert db.units > before
    assert (await api("bob", "GET", f"documents/{doc_id}")).status == 200


@pytest.mark.parametrize(
    "collab_config",
    [{"cluster_class": f"{HERE}.HubBus", "cluster_url": "hub://plugging"}],
    indirect=True,
)
async def test_a_plugged_cluster_bus_carries_the_edits(collab: Any, api: Any, ws_url: Any):
    bus = collab.cluster
    assert type(bus) is HubBus and bus.clustered and bus.hub is HUBS["hub://plugging"]
    # A second node beside the server, on the same hub.
    peer = LocalBus("peer", hub=bus.hub)
    received: list[BusMessage] = []
    peer.attach(received.append, lambda: None)
    doc_id = await new_doc(api)
    await peer.subscribe(doc_id)
    try:
        async with yclient(ws_url(doc_id)) as client:
            await eventually(lambda: str(client.text) == "hello", what="initial sync")
            client.text.insert(0, "oh, ")
            await eventually(
                lambda: any(m.kind == UPDATE and m.doc_id == doc_id for m in received),
                what="the edit on the plugged bus",
            )
    finally:
        await peer.close()
    assert all(m.node == collab.node_id for m in received)


@pytest.mark.parametrize(
    "collab_config",
    [
        {
            "audit_sink_classes": {"memory": f"{HERE}.MemorySink"},
            "audit_sinks": ["memory://plugging"],
        }
    ],
    indirect=True,
)
async def test_a_plugged_audit_sink_receives_the_events(collab: Any, api: Any):
    (sink,) = collab.audit.sinks
    assert type(sink) is MemorySink and sink.url == "memory://plugging"
    doc_id = await new_doc(api)
    await eventually(
        lambda: any(
            e.get("kind") == "document.created" and e.get("document_id") == doc_id
            for e in sink.events
        ),
        what="document.created in the plugged sink",
    )
    assert sink.node == collab.node_id


# -- the URL traits: the registry's check, the plugged class's choice ---------------------


def test_an_unknown_scheme_names_the_trait_and_a_valid_example() -> None:
    app = CollabDocsApp()
    cases = {
        "store_url": ("postgresql://db/docs", "sqlite:///", "store_class"),
        "acl_url": ("postgresql://db/acl", "sqlite:///", "access_database_class"),
        "cluster_url": ("nats://bus:4222", "redis://", "cluster_class"),
    }
    for trait, (url, example, class_trait) in cases.items():
        with pytest.raises(ValueError) as refused:
            setattr(app, trait, url)
        message = str(refused.value)
        assert f"unsupported {trait} scheme" in message
        assert f"c.CollabDocsApp.{trait} = '{example}" in message
        assert f"--CollabDocsApp.{trait}={example}" in message
        assert class_trait in message
    with pytest.raises(ValueError) as refused:
        app.audit_sinks = ["syslog://localhost"]
    message = str(refused.value)
    assert "c.CollabDocsApp.audit_sinks = ['file:///" in message
    assert "--CollabDocsApp.audit_sinks=file:///" in message
    assert "audit_sink_classes" in message


def test_a_plugged_class_decides_which_urls_it_takes() -> None:
    config = Config(
        {
            "CollabDocsApp": {
                "store_url": "memory://docs",
                "store_class": f"{HERE}.RecordingStore",
                "cluster_url": "hub://x",
                "cluster_class": f"{HERE}.HubBus",
                "acl_url": "recording+sqlite:////tmp/x.db",
                "access_database_class": f"{HERE}.PrefixedAccessDatabase",
                "audit_sinks": ["memory://a"],
                "audit_sink_classes": {"memory": f"{HERE}.MemorySink"},
            }
        }
    )
    app = CollabDocsApp(config=config)
    assert app.store_url == "memory://docs" and app.store_class is RecordingStore
    assert app.cluster_url == "hub://x" and app.cluster_class is HubBus
    assert (
        app.acl_url.startswith("recording+") and app.access_database_class is PrefixedAccessDatabase
    )
    assert app.audit_sinks == ["memory://a"] and app.audit_sink_classes == {"memory": MemorySink}


def test_a_class_of_another_family_is_refused() -> None:
    with pytest.raises(Exception, match="DocumentStore"):
        CollabDocsApp(config=Config({"CollabDocsApp": {"store_class": f"{HERE}.HubBus"}}))


# -- backend options that became traits reach the backend from the configuration -----------


async def test_the_mongodb_chunk_size_is_configured(mongodb_test_url: str) -> None:
    app = CollabDocsApp(
        config=Config({"MongoDocumentStore": {"chunk_size": 64 * 1024, "lease_ttl": 7.0}})
    )
    store = store_from_url(mongodb_test_url, node="n1", parent=app)
    assert (store.chunk_size, store.lease_ttl) == (64 * 1024, 7.0)  # type: ignore[attr-defined]
    await store.start()
    try:
        from pycrdt import Doc, Text

        from tests.stores.test_store_contract import pending, record

        doc = Doc()
        doc.get("source", type=Text).insert(0, "y" * 200_000)
        update = doc.get_update()
        await store.create(record(), None)
        await store.append("d1", pending([update]))
        # 200 kB in 64 KiB chunks (the default, 8 MiB, would store it inline).
        assert await store._chunks.count_documents({"doc_id": "d1"}) >= 3  # type: ignore[attr-defined]
        assert [u.data for u in (await store.load("d1")).updates] == [update]
    finally:
        await store.close()


def test_the_other_backend_options_reach_their_backends(tmp_path: Path) -> None:
    config = Config(
        {
            "SQLiteDocumentStore": {"busy_timeout": 2.5},
            "AccessDatabase": {"busy_timeout": 3.5, "threads": 2, "deadlock_retries": 9},
            "KafkaSink": {"batch_size": 7, "retry_max": 1.5, "linger_ms": 0},
            "RedisBus": {"reconnect_max_delay": 4.0, "publish_batch_size": 64},
        }
    )
    app = CollabDocsApp(config=config, data_dir=str(tmp_path))
    store = store_from_url(f"sqlite:///{tmp_path}/documents.db", parent=app)
    assert store.busy_timeout == 2.5  # type: ignore[attr-defined]
    db = AccessDatabase.from_url(f"sqlite:///{tmp_path}/access.db", node="n", parent=app)
    try:
        assert (db.busy_timeout, db.threads, db.deadlock_retries) == (3.5, 2, 9)
        pragma = db.call(lambda s: s.connection().exec_driver_sql("PRAGMA busy_timeout").scalar())
        assert pragma == 3500
    finally:
        db.close()
    trail = AuditTrail("n", sinks=["kafka://127.0.0.1:1/t"], data_dir=tmp_path, parent=app)
    (sink,) = trail.sinks
    assert isinstance(sink, KafkaSink)
    assert (sink.batch_size, sink.retry_max, sink.linger_ms) == (7, 1.5, 0)
    bus = bus_from_url("redis://127.0.0.1:1/0", "n", parent=app)
    assert isinstance(bus, RedisBus)
    assert (bus.reconnect_max_delay, bus.publish_batch_size) == (4.0, 64)


# -- the CLI opens the same backends as the server ----------------------------------------


def test_the_cli_opens_the_plugged_backends(tmp_path: Path) -> None:
    from jupyter_collab_docs.cli.base import CollabDocsCommand
    from jupyter_collab_docs.cli.documents import _StoreCommand

    config = Config(
        {
            "CollabDocsApp": {
                "data_dir": str(tmp_path),
                "store_class": f"{HERE}.RecordingStore",
                "acl_url": f"recording+sqlite:///{tmp_path}/cli-access.db",
                "access_database_class": f"{HERE}.PrefixedAccessDatabase",
            }
        }
    )
    directory = CollabDocsCommand(config=config).user_directory()
    try:
        assert type(directory.db) is PrefixedAccessDatabase  # type: ignore[attr-defined]
        directory.add("dora")  # type: ignore[attr-defined]
        assert (tmp_path / "cli-access.db").exists()
    finally:
        directory.close()  # type: ignore[attr-defined]

    async def work(app: Any, store: Any) -> type:
        return type(store)

    assert _StoreCommand(config=config).run(work) is RecordingStore
