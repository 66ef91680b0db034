"""Standalone users, their API tokens and groups, in the access database.

Blocking methods serve the CLI; the async ones run on the database's threads and cache
token and login-cookie look-ups for a few seconds (callers may ask for less), so a busy
server does not query once per request.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..identity import session_id
from ..timeutil import naive_utc_now
from ..users import USERNAME_PATTERN, UserError, UserRecord, hash_token, new_token
from .database import AccessDatabase
from .models import GroupRow, MemberRow, ShareRow, TokenRow, UserRow

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        username=row.username,
        display_name=row.display_name,
        is_admin=row.is_admin,
        created=row.created.isoformat(),
    )


def _check_name(kind: str, name: str) -> None:
    if not USERNAME_PATTERN.match(name):
        raise UserError(f"invalid {kind} {name!r}: use letters, digits and . _ @ - (max 64)")


class AccessDirectory:
    """:class:`jupyter_collab_docs.users.UserDirectory` on an :class:`AccessDatabase`."""

    CACHE_SECONDS = 5.0

    def __init__(self, db: AccessDatabase) -> None:
        self.db = db
        self._token_cache: dict[str, tuple[float, UserRecord | None]] = {}

    # -- users and tokens ------------------------------------------------------------------

    def add(self, username: str, display_name: str | None = None, admin: bool = False) -> str:
        _check_name("username", username)
        token = new_token()

        def work(session: Session) -> None:
            if session.get(UserRow, username) is not None:
                raise UserError(f"user {username!r} already exists")
            now = naive_utc_now()
            session.add(
                UserRow(
                    username=username,
                    display_name=display_name or username,
                    is_admin=admin,
                    disabled=False,
                    created=now,
                )
            )
            session.flush()
            session.add(
                TokenRow(token_hash=hash_token(token), username=username, label="", created=now)
            )

        self.db.call(work)
        return token

    def list_users(self) -> list[UserRecord]:
        return self.db.call(
            lambda s: [_record(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]
        )

    def get(self, username: str) -> UserRecord | None:
        return self.db.call(lambda s: ((r := s.get(UserRow, username)) and _record(r)) or None)

    def issue_token(self, username: str) -> str:
        token = new_token()

        def work(session: Session) -> None:
            if session.get(UserRow, username) is None:
                raise UserError(f"no such user: {username!r}")
            session.execute(delete(TokenRow).where(TokenRow.username == username))
            session.add(
                TokenRow(
                    token_hash=hash_token(token),
                    username=username,
                    label="",
                    created=naive_utc_now(),
                )
            )

        self.db.call(work)
        self._token_cache.clear()
        return token

    def remove(self, username: str) -> None:
        def work(session: Session) -> None:
            user = session.get(UserRow, username)
            if user is None:
                raise UserError(f"no such user: {username!r}")
            session.execute(delete(TokenRow).where(TokenRow.username == username))
            session.execute(delete(MemberRow).where(MemberRow.username == username))
            # A later user of the same name must not inherit these shares.
            session.execute(delete(ShareRow).where(ShareRow.principal == f"user:{username}"))
            session.delete(user)

        self.db.call(work)
        self._token_cache.clear()

    def by_token(self, token: str) -> UserRecord | None:
        """The user a token belongs to (blocking; :meth:`authenticate` on the loop)."""
        return self._by_token(token)

    def _by_token(self, token: str) -> UserRecord | None:
        def work(session: Session) -> UserRecord | None:
            row = session.get(TokenRow, hash_token(token))
            if row is None or (row.expires is not None and row.expires < naive_utc_now()):
                return None
            user = session.get(UserRow, row.username)
            if user is None or user.disabled:
                return None
            now = naive_utc_now()
            # At most one write a minute per token: sockets re-check their token often.
            if row.last_used is None or now - row.last_used > LAST_USED_RESOLUTION:
                row.last_used = now
            return _record(user)

        return self.db.call(work)

    async def authenticate(self, token: str, max_age: float | None = None) -> UserRecord | None:
        """The user a token belongs to; a cached answer only if younger than ``max_age``
        seconds (default ``CACHE_SECONDS``; 0: ask the database)."""
        return await self._cached(hash_token(token), max_age, lambda _s: self._by_token(token))

    async def by_session(
        self, username: str, session: str, max_age: float | None = None
    ) -> UserRecord | None:
        """The user a login cookie names, if ``session`` is the session id of one of the
        user's current tokens (:func:`jupyter_collab_docs.identity.session_id`): a rotated
        token or a removed user ends every cookie it signed in. Cached like
        :meth:`authenticate`."""

        def work(session_: Session) -> UserRecord | None:
            user = session_.get(UserRow, username)
            if user is None or user.disabled:
                return None
            now = naive_utc_now()
            for row in session_.scalars(select(TokenRow).where(TokenRow.username == username)):
                current = row.expires is None or row.expires >= now
                if current and hmac.compare_digest(session_id(row.token_hash), session):
                    return _record(user)
            return None

        return await self._cached(f"session:{username}:{session}", max_age, work)

    async def _cached(
        self, key: str, max_age: float | None, work: Callable[[Session], UserRecord | None]
    ) -> UserRecord | None:
        window = self.CACHE_SECONDS if max_age is None else min(max_age, self.CACHE_SECONDS)
        hit = self._token_cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < window:
            return hit[1]
        record = await self.db.run(work)
        if len(self._token_cache) > 10_000:
            self._token_cache.clear()
        self._token_cache[key] = (now, record)
        return record

    async def lookup(self, username: str) -> UserRecord | None:
        return await self.db.run(lambda _s: self.get(username))

    # -- groups ----------------------------------------------------------------------------

    def add_group(self, name: str) -> None:
        _check_name("group name", name)

        def work(session: Session) -> None:
            if session.get(GroupRow, name) is not None:
                raise UserError(f"group {name!r} already exists")
            session.add(GroupRow(name=name, created=naive_utc_now()))

        self.db.call(work)

    def remove_group(self, name: str) -> None:
        def work(session: Session) -> None:
            group = session.get(GroupRow, name)
            if group is None:
                raise UserError(f"no such group: {name!r}")
            session.execute(delete(MemberRow).where(MemberRow.group == name))
            session.execute(delete(ShareRow).where(ShareRow.principal == f"group:{name}"))
            session.delete(group)

        self.db.call(work)

    def groups(self) -> dict[str, list[str]]:
        def work(session: Session) -> dict[str, list[str]]:
            result: dict[str, list[str]] = {
                g: [] for g in session.scalars(select(GroupRow.name).order_by(GroupRow.name))
            }
            for member in session.scalars(select(MemberRow).order_by(MemberRow.username)):
                result[member.group].append(member.username)
            return result

        return self.db.call(work)

    def add_member(self, group: str, username: str) -> None:
        def work(session: Session) -> None:
            if session.get(GroupRow, group) is None:
                raise UserError(f"no such group: {group!r}")
            if session.get(UserRow, username) is None:
                raise UserError(f"no such user: {username!r}")
            session.add(MemberRow(group=group, username=username))
            try:
                session.flush()
            except IntegrityError as exc:
                raise UserError(f"{username!r} is already in {group!r}") from exc

        self.db.call(work)

    def remove_member(self, group: str, username: str) -> None:
        def work(session: Session) -> None:
            row = session.get(MemberRow, (group, username))
            if row is None:
                raise UserError(f"{username!r} is not in group {group!r}")
            session.delete(row)

        self.db.call(work)

    async def groups_of(self, username: str) -> frozenset[str]:
        return await self.db.run(
            lambda s: frozenset(
                s.scalars(select(MemberRow.group).where(MemberRow.username == username))
            )
        )

    async def profile(self, username: str) -> tuple[UserRecord | None, frozenset[str]]:
        """The user's record and groups in one unit of work (one thread hop: an actor
        needs both; ``lookup`` then ``groups_of`` took two, each with its own session)."""

        def work(session: Session) -> tuple[UserRecord | None, frozenset[str]]:
            row = session.get(UserRow, username)
            groups = session.scalars(select(MemberRow.group).where(MemberRow.username == username))
            return (_record(row) if row is not None else None), frozenset(groups)

        return await self.db.run(work)

    def close(self) -> None:
        self._token_cache.clear()

    # -- principals: share checks and name completion (principals.py) ---------------------

    async def has_principal(self, kind: str, name: str) -> bool:
        """Whether ``user:NAME`` / ``group:NAME`` names a user or group (exact name)."""
        row = UserRow if kind == "user" else GroupRow
        return await self.db.run(lambda s: s.get(row, name) is not None)

    async def principals_starting_with(
        self, prefix: str, kinds: tuple[str, ...], limit: int
    ) -> list[tuple[str, str, str]]:
        """Up to ``limit`` of each kind as ``(kind, name, display name)``, in name order:
        users whose username or display name, groups whose name, start with ``prefix``
        (any case; ``%`` and ``_`` are plain characters)."""
        start = prefix.lower()

        def work(session: Session) -> list[tuple[str, str, str]]:
            found: list[tuple[str, str, str]] = []
            if "user" in kinds:
                users = session.execute(
                    select(UserRow.username, UserRow.display_name)
                    .where(
                        func.lower(UserRow.username).startswith(start, autoescape=True)
                        | func.lower(UserRow.display_name).startswith(start, autoescape=True)
                    )
                    .order_by(UserRow.username)
                    .limit(limit)
                )
                found += [("user", name, display) for name, display in users]
            if "group" in kinds:
                groups = session.scalars(
                    select(GroupRow.name)
                    .where(func.lower(GroupRow.name).startswith(start, autoescape=True))
                    .order_by(GroupRow.name)
                    .limit(limit)
                )
                found += [("group", name, name) for name in groups]
            return found

        return await self.db.run(work)
