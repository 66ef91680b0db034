"""The access database: engine, migrations on start-up, and sessions off the event loop.

SQLAlchemy's drivers block, so every unit of work runs in a small thread pool; the event
loop only awaits. Migrations (Alembic) run once when the database is opened.
"""

from __future__ import annotations

import asyncio
import fcntl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"

RETRIES = 5
RETRYABLE = {1213, 1205}  # MySQL: deadlock victim, lock wait timeout


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class AccessDatabase:
    """One access database (``acl_url``), migrated to the newest schema when opened."""

    def __init__(self, url: str, *, threads: int = 4) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"connect_args": {"check_same_thread": False, "timeout": 10}}
            threads = 1  # one writer at a time is all SQLite allows anyway
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_foreign_keys)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it already is). Several
        nodes (or the CLI) may start at once: they migrate one after the other."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if not path or path == ":memory:":
                yield
                return
            with open(path + ".migrate.lock", "a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
            return
        # MySQL / MariaDB: a named lock held by one connection for the whole migration.
        with self.engine.connect() as connection:
            got = connection.execute(text("SELECT GET_LOCK('collab_docs_migrate', 120)")).scalar()
            if got != 1:
                raise RuntimeError("timed out waiting for another node's migration")
            try:
                yield
            finally:
                connection.execute(text("SELECT RELEASE_LOCK('collab_docs_migrate')"))

    def session(self) -> Session:
        return self.sessions()

    def call(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in a session that commits on success (for the CLI and threads).
        A transaction MySQL / MariaDB chose as a deadlock victim is run again."""
        for attempt in range(RETRIES):
            try:
                with self.sessions.begin() as session:
                    return fn(session)
            except OperationalError as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code not in RETRYABLE or attempt == RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def run(self, fn: Callable[[Session], T]) -> T:
        """``call`` on a worker thread, for the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="collab-acl")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.call, fn)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()
