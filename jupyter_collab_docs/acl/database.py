"""The access database: engine, migrations on start-up, and sessions off the event loop.

SQLAlchemy's drivers block, so every unit of work runs in a small thread pool; the event
loop only awaits. Migrations (Alembic) run once when the database is opened.

:class:`AccessBackend` is the family's interface, :data:`DATABASES` its URL schemes
(``CollabDocsApp.acl_url``), and ``CollabDocsApp.access_database_class`` plugs another
backend (see :mod:`jupyter_collab_docs.backends`).
"""

from __future__ import annotations

import abc
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
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..backends import Backend, ConfigurableABCMeta, Scheme, Schemes

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"

RETRYABLE = {1213, 1205}  # MySQL: deadlock victim, lock wait timeout

#: The one place that knows the acl_url schemes (SQLAlchemy URLs of the dialects the
#: migrations and the retry logic were written for).
DATABASES = Schemes(
    "acl_url",
    "access_database_class",
    Scheme(
        ("sqlite:///",),
        "jupyter_collab_docs.acl.database:AccessDatabase",
        "sqlite:////var/lib/collab-docs/access.db",
    ),
    Scheme(
        ("mysql+pymysql://", "mariadb+pymysql://"),
        "jupyter_collab_docs.acl.database:AccessDatabase",
        "mysql+pymysql://collab:secret@db.example.org/collab_docs",
    ),
)


class AccessBackend(LoggingConfigurable, Backend, metaclass=ConfigurableABCMeta):
    """What the access services (:class:`~.access.ShareAccess`,
    :class:`~.directory.AccessDirectory`) need from the access database: units of work
    on SQLAlchemy sessions of the schema in :mod:`.models`, migrated to the newest
    revision once the backend is built."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> AccessBackend:
        """The database for ``acl_url`` (see :mod:`jupyter_collab_docs.backends`)."""
        return cls(url, parent=parent)

    @abc.abstractmethod
    def call(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in a session that commits on success (blocking)."""

    @abc.abstractmethod
    async def run(self, fn: Callable[[Session], T]) -> T:
        """``call`` off the event loop."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and threads."""

    def write_count(self) -> int | None:
        """How many transactions that wrote this process has committed (it grows with
        every one), so a cache of what was read can tell that it may be stale; None: not
        counted, so nothing read may be kept (the default for a plugged backend)."""
        return None


class AccessDatabase(AccessBackend):
    """One access database (``acl_url``), migrated to the newest schema when opened."""

    threads = Int(
        4,
        min=1,
        help="""Worker threads running access-database sessions (MySQL, MariaDB; SQLite
        always uses one: it allows one writer at a time).""",
    ).tag(config=True)

    busy_timeout = Float(
        10.0,
        min=0.0,
        help="""SQLite: seconds a statement waits for a lock another process holds (the
        CLI, another server on the same file) before failing with "database is
        locked".""",
    ).tag(config=True)

    deadlock_retries = Int(
        5,
        min=1,
        help="""MySQL, MariaDB: times a unit of work is tried when the server picks it as
        a deadlock victim or its lock wait times out.""",
    ).tag(config=True)

    migration_lock_timeout = Int(
        120,
        min=1,
        help="""MySQL, MariaDB: seconds a starting node waits for another node's schema
        migration to finish.""",
    ).tag(config=True)

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        threads = self.threads
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            options = {"connect_args": {"check_same_thread": False, "timeout": self.busy_timeout}}
            threads = 1  # one writer at a time is all SQLite allows anyway
        self.engine: Engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", self._sqlite_connected)
        self._writes = 0
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._committed)
        event.listen(self.engine, "rollback", self._rolled_back)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self.migrate()

    def _sqlite_connected(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        cursor.close()

    # A statement other than a SELECT marks its connection's transaction as a write; its
    # commit counts (after the commit: a reader that started before it and cached what it
    # read keeps the older count, so that entry is already stale).
    @staticmethod
    def _statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith("SELECT"):
            conn.info["collab_wrote"] = True

    def _committed(self, conn: Any) -> None:
        if conn.info.pop("collab_wrote", False):
            self._writes += 1

    @staticmethod
    def _rolled_back(conn: Any) -> None:
        conn.info.pop("collab_wrote", None)

    def write_count(self) -> int | None:
        return self._writes

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
            got = connection.execute(
                text("SELECT GET_LOCK('collab_docs_migrate', :wait)"),
                {"wait": self.migration_lock_timeout},
            ).scalar()
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
        retries = self.deadlock_retries
        for attempt in range(retries):
            try:
                with self.sessions.begin() as session:
                    return fn(session)
            except OperationalError as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code not in RETRYABLE or attempt == retries - 1:
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
