"""The Redis bus: pub/sub channels between the nodes of a deployment (redis-py asyncio).

``cluster_url`` is ``redis://``, ``rediss://``, ``unix://`` (redis-py's forms) or
``redis+sentinel://host:port[,host:port]/service[/db]``: the primary Redis Sentinel
names, followed through failovers (:class:`SentinelURL`, docs/cluster.md).

Channels (``channel_prefix`` first, ``collab-docs`` by default):

* ``<prefix>:doc:<id>``: updates, awareness and state-vector requests of one document,
  subscribed by every node that holds its room (before it loads the room);
* ``<prefix>:node:<node id>``: answers meant for one node (state-vector replies);
* ``<prefix>:control``: access changes and deletions, for every node.

Pub/sub is at most once: whatever is published while a subscriber is disconnected is
lost for it. Nothing here tries to make it reliable; instead the bus reports every moment
when messages may have been lost (a reconnect, a dropped or failed publish, an
unanswered ping) through ``on_resync``, and the rooms run the state-vector exchange.

Publishing never blocks a room: messages go to a bounded queue that one task writes in
pipelined batches. While Redis is away the queue keeps the newest messages up to its
bounds and drops the oldest (each drop counted); the exchange after the reconnect heals.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from traitlets import Float, Int, Unicode

from .base import ClusterBus, encode

MiB = 1024 * 1024


SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379


@dataclass
class SentinelURL:
    """``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db]``:
    the sentinels to ask, the name they watch the primary by, and the primary's database
    and credentials (the sentinels themselves are asked without credentials)."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SentinelURL:
        if not url.startswith(SENTINEL_SCHEME):
            raise ValueError(f"not a {SENTINEL_SCHEME} URL: {redact(url)}")
        netloc, _, path = url[len(SENTINEL_SCHEME) :].partition("/")
        userinfo, _, hosts = netloc.rpartition("@")
        username = password = None
        if userinfo:
            user, _, secret = userinfo.partition(":")
            username, password = unquote(user) or None, unquote(secret) or None
        sentinels = []
        for host in filter(None, hosts.split(",")):
            name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
            if port and not port.isdigit():
                raise ValueError(f"{redact(url)}: sentinel port {port!r} is not a number")
            sentinels.append((name, int(port) if port else SENTINEL_PORT))
        if not sentinels:
            raise ValueError(f"{redact(url)} names no sentinel (host[:port][,host[:port]])")
        service, _, db = path.partition("/")
        if not service:
            raise ValueError(f"{redact(url)} names no service name (.../service[/db])")
        if db and not db.isdigit():
            raise ValueError(f"{redact(url)}: the database {db!r} is not a number")
        return cls(sentinels, unquote(service), int(db or 0), username, password)


def redact(url: str) -> str:
    """The URL without its password."""
    if url.startswith(SENTINEL_SCHEME):  # several hosts: urlsplit cannot read its port
        head, at, tail = url.partition("@")
        if not at or ":" not in head[len(SENTINEL_SCHEME) :]:
            return url
        return head[: head.index(":", len(SENTINEL_SCHEME))] + ":***@" + tail
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class RedisBus(ClusterBus):
    backend = "redis"
    clustered = True

    channel_prefix = Unicode(
        "collab-docs", help="Prefix of every channel name (deployments sharing one Redis)."
    ).tag(config=True)

    max_queue_messages = Int(
        20000, help="Messages waiting to be published past which the oldest are dropped."
    ).tag(config=True)

    max_queue_bytes = Int(
        64 * MiB, help="Bytes waiting to be published past which the oldest are dropped."
    ).tag(config=True)

    socket_timeout = Float(
        5.0, help="Seconds a Redis command may take before the connection counts as lost."
    ).tag(config=True)

    reconnect_delay = Float(
        0.2,
        help="""First delay (s) before reconnecting; doubles up to reconnect_max_delay while
        Redis is away.""",
    ).tag(config=True)

    reconnect_max_delay = Float(
        1.0, min=0.0, help="Longest delay (s) between two reconnection attempts."
    ).tag(config=True)

    publish_batch_size = Int(
        256, min=1, help="Most queued messages published in one pipelined round trip."
    ).tag(config=True)

    ping_interval = Float(
        1.0,
        min=0.05,
        help="""Seconds between pings that notice a Redis which stopped answering without
        dropping the connection (then rooms resynchronise once it answers again).""",
    ).tag(config=True)

    ping_timeout = Float(
        2.0, min=0.05, help="Seconds a ping may take before Redis counts as not answering."
    ).tag(config=True)

    subscribe_timeout = Float(
        1.0,
        help="""Seconds a room opening waits for Redis to confirm its subscription before
        loading anyway (the state-vector exchange covers what it may miss).""",
    ).tag(config=True)

    def __init__(self, node_id: str, url: str, **kwargs: Any) -> None:
        super().__init__(node_id, **kwargs)
        if url.startswith(SENTINEL_SCHEME):
            SentinelURL.parse(url)  # a wrong one fails at start-up, saying what is wrong
        self.url = url
        prefix = self.channel_prefix
        self._node_channel = f"{prefix}:node:{node_id}".encode()
        self._control_channel = f"{prefix}:control".encode()
        self._doc_channels: set[bytes] = set()
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._sending = False  # a batch taken off the queue is being published
        self._queued_bytes = 0
        self._wanted = asyncio.Event()
        self._lost = False  # a message may have been dropped since the last exchange
        self._sub_ok = False
        self._pub_ok = True
        self._ping_ok = True
        self._client: Any = None
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._last_error = ""

    def _doc_channel(self, doc_id: str) -> bytes:
        return f"{self.channel_prefix}:doc:{doc_id}".encode()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py: a failure surfaces here, where it is counted and
        # followed by a resync.
        options: dict[str, Any] = {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": min(2.0, self.socket_timeout),
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0,
        }
        if self.url.startswith(SENTINEL_SCHEME):
            self._client = self._sentinel_client(options)
        else:
            self._client = redis.from_url(self.url, **options)
        self._wanted = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="collab-docs-bus-reader"),
            asyncio.create_task(self._write_loop(), name="collab-docs-bus-writer"),
            asyncio.create_task(self._ping_loop(), name="collab-docs-bus-ping"),
        ]
        self.log.info("cluster bus: Redis at %s, node %s", redact(self.url), self.node_id)

    def _sentinel_client(self, options: dict[str, Any]) -> Any:
        """A client of the primary the sentinels name. Every new connection asks them
        again, so after a failover (the sentinel kills the old primary's clients when it
        demotes it, or the primary is gone) the reconnect reaches the promoted replica;
        the rooms then resynchronise as after any reconnect."""
        from redis.asyncio.sentinel import Sentinel

        url = SentinelURL.parse(self.url)
        sentinel = Sentinel(
            url.sentinels,
            sentinel_kwargs={
                "socket_timeout": options["socket_timeout"],
                "socket_connect_timeout": options["socket_connect_timeout"],
            },
            **options,
        )
        return sentinel.master_for(
            url.service, db=url.db, username=url.username, password=url.password
        )

    async def close(self) -> None:
        # Give what the rooms published on their way out (awareness removals) a moment.
        deadline = time.monotonic() + 1.0
        while (self._queue or self._sending) and self._pub_ok and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None

    # -- subscriptions -------------------------------------------------------------------

    async def subscribe(self, doc_id: str) -> None:
        channel = self._doc_channel(doc_id)
        self._doc_channels.add(channel)
        pubsub = self._pubsub
        if pubsub is None or not self._sub_ok:
            return  # the reconnect subscribes it, then resyncs
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            await asyncio.wait_for(pubsub.subscribe(channel), self.subscribe_timeout)
            await asyncio.wait_for(asyncio.shield(waiter), self.subscribe_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.log.debug("cluster bus: subscription to %r not confirmed: %r", channel, exc)
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(channel, None)

    async def unsubscribe(self, doc_id: str) -> None:
        channel = self._doc_channel(doc_id)
        self._doc_channels.discard(channel)
        pubsub = self._pubsub
        if pubsub is not None and self._sub_ok:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.unsubscribe(channel), self.subscribe_timeout)

    def _confirmed(self, channel: bytes) -> None:
        for waiter in self._waiters.pop(channel, []):
            if not waiter.done():
                waiter.set_result(None)

    async def _read_loop(self) -> None:
        delay = self.reconnect_delay
        outage_logged = False
        while not self._closing:
            pubsub = self._client.pubsub()
            try:
                channels = [self._node_channel, self._control_channel, *self._doc_channels]
                self._pubsub = pubsub
                await pubsub.subscribe(*channels)
                # Wait until Redis confirmed every channel: only then is it safe to ask
                # the other nodes for what we missed (their answers must reach us).
                pending = set(channels)
                deadline = time.monotonic() + self.socket_timeout
                while pending:
                    if time.monotonic() > deadline:
                        raise TimeoutError("subscriptions not confirmed")
                    message = await pubsub.get_message(timeout=0.5)
                    if message is not None:
                        if message["type"] == "subscribe":
                            pending.discard(message["channel"])
                        self._handle(message)
                self._sub_ok = True
                delay = self.reconnect_delay
                if outage_logged:
                    self.stats.reconnects += 1
                    self.log.warning("cluster bus: reconnected to Redis; resynchronising rooms")
                    outage_logged = False
                self._resync()  # rooms opened or edited while we were not subscribed
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._sub_ok = False
                self._last_error = f"{type(exc).__name__}: {exc}"
                if not outage_logged:
                    self.log.warning("cluster bus: Redis subscription lost (%s)", self._last_error)
                    outage_logged = True
                for channel in list(self._waiters):
                    self._confirmed(channel)  # let openings go on; the resync covers them
            finally:
                self._sub_ok = False
                self._pubsub = None
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(pubsub.aclose(), 1.0)
            await asyncio.sleep(delay)
            delay = min(self.reconnect_max_delay, delay * 2)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            try:
                self._deliver(message["data"])
            except Exception:
                self.log.exception("cluster bus: a receiver failed")
        elif kind == "subscribe":
            self._confirmed(message["channel"])

    # -- publishing ----------------------------------------------------------------------

    def _enqueue(self, channel: bytes, data: bytes) -> None:
        queue = self._queue
        queue.append((channel, data))
        self._queued_bytes += len(data)
        while len(queue) > self.max_queue_messages or self._queued_bytes > self.max_queue_bytes:
            _, old = queue.popleft()
            self._queued_bytes -= len(old)
            self.stats.dropped += 1
            self._lost = True
        if not self._wanted.is_set():
            self._wanted.set()

    def publish(self, doc_id: str, kind: int, *parts: bytes) -> None:
        self._enqueue(self._doc_channel(doc_id), encode(kind, self.node_id, doc_id, parts))

    def send_to(self, node: str, doc_id: str, kind: int, *parts: bytes) -> None:
        channel = f"{self.channel_prefix}:node:{node}".encode()
        self._enqueue(channel, encode(kind, self.node_id, doc_id, parts))

    def broadcast(self, doc_id: str, kind: int, *parts: bytes) -> None:
        self._enqueue(self._control_channel, encode(kind, self.node_id, doc_id, parts))

    async def _write_loop(self) -> None:
        delay = self.reconnect_delay
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            while self._queue:
                batch: list[tuple[bytes, bytes]] = []
                while self._queue and len(batch) < self.publish_batch_size:
                    item = self._queue.popleft()
                    self._queued_bytes -= len(item[1])
                    batch.append(item)
                # A batch taken off the queue is in flight: close waits for it too.
                self._sending = True
                try:
                    try:
                        async with self._client.pipeline(transaction=False) as pipe:
                            for channel, data in batch:
                                pipe.publish(channel, data)
                            await pipe.execute()
                    finally:
                        self._sending = False
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.stats.publish_errors += 1
                    self.stats.dropped += len(batch)
                    self._lost = True
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    if self._pub_ok:
                        self.log.warning("cluster bus: publishing failed (%s)", self._last_error)
                    self._pub_ok = False
                    await asyncio.sleep(delay)
                    delay = min(self.reconnect_max_delay, delay * 2)
                    continue
                delay = self.reconnect_delay
                self.stats.published += len(batch)
                self._pub_ok = True
                if self._lost and self._sub_ok:
                    self._lost = False
                    self._resync()

    async def _ping_loop(self) -> None:
        """Notices a Redis that stopped answering without dropping the connection (a
        CLIENT PAUSE, a stuck server) and asks for a resync once it answers again."""
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await asyncio.wait_for(self._client.ping(), self.ping_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._ping_ok:
                    self.log.warning("cluster bus: Redis does not answer (%r)", exc)
                self._ping_ok = False
                continue
            if not self._ping_ok:
                self._ping_ok = True
                self._lost = True
            if self._lost and self._sub_ok and self._pub_ok:
                self._lost = False
                self._resync()

    # -- state ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._sub_ok and self._pub_ok and self._ping_ok

    @property
    def queued(self) -> int:
        return len(self._queue)

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "ok": self.connected,
            "backend": self.backend,
            "url": redact(self.url),
            "subscribed": self._sub_ok,
            "publishing": self._pub_ok,
            "answering": self._ping_ok,
            "queued_messages": len(self._queue),
            "queued_bytes": self._queued_bytes,
            "dropped": self.stats.dropped,
            "reconnects": self.stats.reconnects,
        }
        if not self.connected and self._last_error:
            status["error"] = self._last_error
        return status
