"""Who holds which role on a document: the creator, shares to users and groups, and the
document's share link. The strongest grant wins; administrators act as owners."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..identity import Actor
from ..stores import DocumentRecord
from ..timeutil import naive_utc_now
from ..users import hash_token
from .database import AccessDatabase
from .models import LinkRow, ShareRow
from .policy import stronger

LINK = "link"


@dataclass(frozen=True)
class Share:
    principal: str
    role: str


def _upsert(dialect: str, model: Any, values: dict[str, Any], changes: dict[str, Any]) -> Any:
    if dialect in ("mysql", "mariadb"):
        return mysql_insert(model).values(**values).on_duplicate_key_update(**changes)
    return sqlite_insert(model).values(**values).on_conflict_do_update(set_=changes)


def _insert_ignore(dialect: str, model: Any, values: dict[str, Any]) -> Any:
    if dialect in ("mysql", "mariadb"):
        return mysql_insert(model).values(**values).prefix_with("IGNORE")
    return sqlite_insert(model).values(**values).on_conflict_do_nothing()


class ShareLimitReached(Exception):
    """A grant to a new principal would pass the document's share cap; nothing changed."""

    def __init__(self, count: int) -> None:
        super().__init__(f"the document has {count} shares")
        self.count = count


def principals_of(actor: Actor) -> list[str]:
    return [f"user:{actor.username}", *(f"group:{g}" for g in sorted(actor.groups))]


class AccessService(Protocol):
    async def role_of(
        self, actor: Actor, record: DocumentRecord, link_token: str | None = None
    ) -> str | None:
        """The actor's effective role on a document, or None if they may not read it."""

    async def readable(self, actor: Actor, records: list[DocumentRecord]) -> dict[str, str]:
        """Role by document id, for the documents of ``records`` the actor may read."""

    async def shared_with(self, actor: Actor) -> dict[str, str]:
        """Role by document id, for every document shared with the actor or one of their
        groups (not the ones they created; not share links): an indexed look-up."""

    async def shares(self, record: DocumentRecord) -> list[Share]: ...

    async def grant(
        self, doc_id: str, principal: str, role: str, by: str, max_shares: int = 0
    ) -> str | None:
        """Set a principal's role; for ``link`` returns the new link token when one was
        created (it is shown once). ``max_shares`` (0: no cap): a user or group not yet
        holding a share is refused with :class:`ShareLimitReached` once the document has
        that many (the link is not counted: a document has at most one)."""

    async def revoke(self, doc_id: str, principal: str) -> bool: ...

    async def forget(self, doc_id: str) -> None:
        """Drop every share of a deleted document."""


class ShareAccess:
    """:class:`AccessService` on the access database."""

    def __init__(self, db: AccessDatabase) -> None:
        self.db = db

    @staticmethod
    def _granted(session: Session, doc_id: str, actor: Actor, link_token: str | None) -> str | None:
        role: str | None = None
        rows = session.scalars(
            select(ShareRow.role).where(
                ShareRow.document_id == doc_id, ShareRow.principal.in_(principals_of(actor))
            )
        )
        for granted in rows:
            role = stronger(role, granted)
        if link_token:
            link = session.get(LinkRow, doc_id)
            if (
                link is not None
                and secrets.compare_digest(link.token_hash, hash_token(link_token))
                and (link.expires is None or link.expires > naive_utc_now())
            ):
                role = stronger(role, link.role)
        return role

    async def role_of(
        self, actor: Actor, record: DocumentRecord, link_token: str | None = None
    ) -> str | None:
        if actor.is_admin or record.owner == actor.username:
            return "owner"
        return await self.db.run(lambda s: self._granted(s, record.id, actor, link_token))

    async def readable(self, actor: Actor, records: list[DocumentRecord]) -> dict[str, str]:
        if actor.is_admin:
            return {r.id: "owner" for r in records}
        shared = await self.shared_with(actor)
        result = {}
        for record in records:
            if record.owner == actor.username:
                result[record.id] = "owner"
            elif record.id in shared:
                result[record.id] = shared[record.id]
        return result

    async def shared_with(self, actor: Actor) -> dict[str, str]:
        def work(session: Session) -> dict[str, str]:
            roles: dict[str, str] = {}
            rows = session.execute(  # the shares_principal index
                select(ShareRow.document_id, ShareRow.role).where(
                    ShareRow.principal.in_(principals_of(actor))
                )
            )
            for doc_id, role in rows:
                roles[doc_id] = stronger(roles.get(doc_id), role) or role
            return roles

        return await self.db.run(work)

    async def shares(self, record: DocumentRecord) -> list[Share]:
        def work(session: Session) -> list[Share]:
            rows = session.scalars(
                select(ShareRow).where(ShareRow.document_id == record.id).order_by(ShareRow.id)
            )
            found = [Share(r.principal, r.role) for r in rows]
            link = session.get(LinkRow, record.id)
            if link is not None:
                found.append(Share(LINK, link.role))
            return found

        creator = Share(f"user:{record.owner}", "owner")
        return [creator, *(s for s in await self.db.run(work) if s != creator)]

    async def grant(
        self, doc_id: str, principal: str, role: str, by: str, max_shares: int = 0
    ) -> str | None:
        def work(session: Session) -> str | None:
            # Upserts, so two grants of one principal at once cannot collide (MariaDB's
            # repeatable reads would not even let the loser see the winner's row).
            dialect = session.get_bind().dialect.name
            if principal == LINK:
                token = "cdl_" + secrets.token_urlsafe(24)
                values = {
                    "document_id": doc_id,
                    "token_hash": hash_token(token),
                    "role": role,
                    "created": naive_utc_now(),
                }
                result = session.execute(_insert_ignore(dialect, LinkRow, values))
                if getattr(result, "rowcount", 0):
                    return token
                session.execute(
                    update(LinkRow).where(LinkRow.document_id == doc_id).values(role=role)
                )
                return None
            if max_shares > 0:
                self._check_share_cap(session, doc_id, principal, max_shares)
            values = {
                "document_id": doc_id,
                "principal": principal,
                "role": role,
                "granted_by": by,
                "granted_at": naive_utc_now(),
            }
            changes = {"role": role, "granted_by": by, "granted_at": values["granted_at"]}
            session.execute(_upsert(dialect, ShareRow, values, changes))
            return None

        return await self.db.run(work)

    @staticmethod
    def _check_share_cap(session: Session, doc_id: str, principal: str, cap: int) -> None:
        # FOR UPDATE: on MariaDB it locks the document's range of the unique index, so
        # concurrent grants (other threads, other nodes) count one after the other; the
        # SQLite database has a single writer thread anyway.
        held = session.scalars(
            select(ShareRow.principal).where(ShareRow.document_id == doc_id).with_for_update()
        ).all()
        if principal not in held and len(held) >= cap:
            raise ShareLimitReached(len(held))

    async def revoke(self, doc_id: str, principal: str) -> bool:
        def work(session: Session) -> bool:
            if principal == LINK:
                result = session.execute(delete(LinkRow).where(LinkRow.document_id == doc_id))
            else:
                result = session.execute(
                    delete(ShareRow).where(
                        ShareRow.document_id == doc_id, ShareRow.principal == principal
                    )
                )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self.db.run(work)

    async def forget(self, doc_id: str) -> None:
        def work(session: Session) -> None:
            session.execute(delete(ShareRow).where(ShareRow.document_id == doc_id))
            session.execute(delete(LinkRow).where(LinkRow.document_id == doc_id))

        await self.db.run(work)
