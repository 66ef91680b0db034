"""Counting what an access database's engine does while a block runs: the statements it
sends, the transactions it begins (each ``run``/``call`` is one: a thread hop and a
session). For tests that pin how many look-ups a feature costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import event

from jupyter_collab_docs.acl.database import AccessDatabase


@contextmanager
def _recorded(database: AccessDatabase, name: str, entry: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(entry(*args))

    event.listen(database.engine, name, record)
    try:
        yield seen
    finally:
        event.remove(database.engine, name, record)


def counted_statements(database: AccessDatabase) -> AbstractContextManager[list[str]]:
    """The SQL statements the engine sends while the block runs."""
    return _recorded(database, "before_cursor_execute", lambda _c, _cur, statement, *_: statement)


def counted_units(database: AccessDatabase) -> AbstractContextManager[list[str]]:
    """One entry per transaction the engine begins while the block runs."""
    return _recorded(database, "begin", lambda _conn: "begin")
