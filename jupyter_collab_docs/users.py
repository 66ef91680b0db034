"""Standalone users and their API tokens, behind a small interface.

Tokens are random and shown once; only their SHA-256 is stored. The embedded directory
keeps them in the access database file (``acl_url``); the sharing work moves them into
the SQLAlchemy access models without changing :class:`UserDirectory`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A user operation that cannot be done (unknown user, bad or duplicate name)."""


@dataclass(frozen=True)
class UserRecord:
    username: str
    display_name: str
    is_admin: bool
    created: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "cd_" + secrets.token_urlsafe(32)


class UserDirectory(Protocol):
    """What the server and the CLI need to know about standalone users."""

    def add(self, username: str, display_name: str | None = None, admin: bool = False) -> str:
        """Create a user; returns their first token."""

    def list(self) -> list[UserRecord]: ...

    def get(self, username: str) -> UserRecord | None: ...

    def issue_token(self, username: str) -> str:
        """Replace a user's tokens by a new one, returned once."""

    def remove(self, username: str) -> None: ...

    async def authenticate(self, token: str) -> UserRecord | None:
        """The user a token belongs to, or None; never blocks the event loop."""

    async def lookup(self, username: str) -> UserRecord | None:
        """``get`` for the event loop."""

    def close(self) -> None: ...


class SQLiteUserDirectory:
    """:class:`UserDirectory` in an SQLite file. Blocking calls are for the CLI; the
    server uses the async ones, which run in a thread and cache briefly."""

    CACHE_SECONDS = 5.0

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, tuple[float, UserRecord | None]] = {}
        with self._connect() as db:
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS users (
                    username TEXT PRIMARY KEY,
                    display_name TEXT NOT NULL,
                    is_admin INTEGER NOT NULL DEFAULT 0,
                    created TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS api_tokens (
                    token_hash TEXT PRIMARY KEY,
                    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
                    created TEXT NOT NULL
                );
                """
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    @staticmethod
    def _record(row: tuple) -> UserRecord:
        return UserRecord(
            username=row[0], display_name=row[1], is_admin=bool(row[2]), created=row[3]
        )

    def add(self, username: str, display_name: str | None = None, admin: bool = False) -> str:
        if not USERNAME_PATTERN.match(username):
            raise UserError(
                f"invalid username {username!r}: use letters, digits and . _ @ - (max 64)"
            )
        now = datetime.now(timezone.utc).isoformat()
        token = new_token()
        with self._connect() as db:
            try:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?)",
                    (username, display_name or username, int(admin), now),
                )
            except sqlite3.IntegrityError as exc:
                raise UserError(f"user {username!r} already exists") from exc
            db.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?)", (hash_token(token), username, now)
            )
        return token

    def list(self) -> list[UserRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT username, display_name, is_admin, created FROM users ORDER BY username"
            ).fetchall()
        return [self._record(r) for r in rows]

    def get(self, username: str) -> UserRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT username, display_name, is_admin, created FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        return self._record(row) if row else None

    def issue_token(self, username: str) -> str:
        token = new_token()
        with self._connect() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone() is None:
                raise UserError(f"no such user: {username!r}")
            db.execute("DELETE FROM api_tokens WHERE username = ?", (username,))
            db.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?)",
                (hash_token(token), username, datetime.now(timezone.utc).isoformat()),
            )
        return token

    def remove(self, username: str) -> None:
        with self._connect() as db:
            cur = db.execute("DELETE FROM users WHERE username = ?", (username,))
            if cur.rowcount == 0:
                raise UserError(f"no such user: {username!r}")

    def _by_token(self, token: str) -> UserRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT u.username, u.display_name, u.is_admin, u.created FROM api_tokens t "
                "JOIN users u ON u.username = t.username WHERE t.token_hash = ?",
                (hash_token(token),),
            ).fetchone()
        return self._record(row) if row else None

    async def authenticate(self, token: str) -> UserRecord | None:
        key = hash_token(token)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.CACHE_SECONDS:
            return hit[1]
        record = await asyncio.to_thread(self._by_token, token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, record)
        return record

    async def lookup(self, username: str) -> UserRecord | None:
        return await asyncio.to_thread(self.get, username)

    def close(self) -> None:
        self._cache.clear()
