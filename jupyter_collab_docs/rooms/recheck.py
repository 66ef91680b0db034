"""One pass of the access re-check over many sockets, with what it already resolved.

The periodic re-check asks every socket who its credentials name now and what that
identity may do on its document. Sockets share credentials (one user's tabs) and
documents, so a pass resolves each distinct credential and each (identity, document)
pair once and hands the answer (or the failure) to every socket that asks. The memo lives
for one pass only: the next pass looks afresh, so a revocation is seen within one
``revalidate_interval`` as before.

The pass travels in a context variable: the tasks a pass starts (one per socket) inherit
it, and a lookup made outside any pass (a socket's upgrade) is never memoised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from tornado.httputil import HTTPServerRequest

T = TypeVar("T")

# Headers that differ between two sockets of the same client and name nobody.
_PER_CONNECTION_HEADERS = frozenset({"sec-websocket-key"})


class RecheckPass:
    """What one re-check pass resolved, by key (each a shared, shielded future)."""

    def __init__(self) -> None:
        self._resolved: dict[Hashable, asyncio.Future[Any]] = {}

    async def once(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        future = self._resolved.get(key)
        if future is None:
            future = self._resolved[key] = asyncio.ensure_future(work())
        # Shielded: one socket's task being cancelled must not cancel the others' answer.
        return await asyncio.shield(future)  # type: ignore[no-any-return]


_current: ContextVar[RecheckPass | None] = ContextVar("collab_docs_recheck_pass", default=None)


@contextmanager
def recheck_pass() -> Iterator[RecheckPass]:
    """Run a pass: lookups through :func:`once` in this context (and the tasks started
    in it) share their answers until the block ends. Nested passes join the outer one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    token = _current.set(RecheckPass())
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


async def once(key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
    """``work()``'s answer, shared with every caller of the same ``key`` in the current
    pass; outside a pass, simply ``work()``."""
    current = _current.get()
    if current is None:
        return await work()
    return await current.once(key, work)


def credential_key(request: HTTPServerRequest) -> Hashable:
    """What an identity provider may read to say who a request is: its headers (less the
    socket's own handshake key), its query and its peer. Two sockets with the same key
    are the same credentials; any doubt makes keys differ (a lookup more, never less)."""
    headers = tuple(
        sorted(
            (name.lower(), value)
            for name, value in request.headers.get_all()
            if name.lower() not in _PER_CONNECTION_HEADERS
        )
    )
    return (request.remote_ip, request.host, request.query, headers)
