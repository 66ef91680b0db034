"""Jupyter Server listens before it runs the extension's start hook: requests of those
first moments wait for the services instead of failing, and a failed start answers 503
with its reason at once."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_collab_docs.app import CollabDocsApp
from jupyter_collab_docs.errors import StartError


async def test_waits_until_started_then_passes() -> None:
    app = CollabDocsApp()
    waiter = asyncio.ensure_future(app.wait_started(timeout=5))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    app._started.set()
    await asyncio.wait_for(waiter, 1)
    await app.wait_started(timeout=0)  # the fast path once started


async def test_still_starting_and_failed_start_are_503() -> None:
    app = CollabDocsApp()
    with pytest.raises(StartError, match="still starting") as starting:
        await app.wait_started(timeout=0.05)
    assert starting.value.status_code == 503

    class BrokenStore:
        async def start(self) -> None:
            raise ConnectionError("mongodb is down")

    app.store = BrokenStore()  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        await app._start_jupyter_server_extension(None)
    with pytest.raises(StartError, match="failed to start: ConnectionError") as failed:
        await app.wait_started(timeout=5)
    assert failed.value.status_code == 503
