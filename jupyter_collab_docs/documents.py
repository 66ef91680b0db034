"""DocumentService: what can be done to a document, checked against the caller's role.

Handlers call this and nothing below it. A document the caller may not read raises
:class:`NotFound`, exactly like a missing one, so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from .acl import AccessService, Permission, can
from .activity import ActivityFilter, DisplayNames, no_display_names, read_feed
from .audit import AuditTrail
from .doctypes import (
    DOC_TYPES,
    ContentError,
    empty_content,
    initial_state,
    read_content,
    replacement_update,
    validate_content,
)
from .errors import BadRequest, CollabDocsError, Forbidden, NotFound, TooLarge, Unavailable
from .identity import Actor
from .rooms import DocumentRoom, RoomLoadError, RoomManager
from .stores import DocumentRecord, DocumentStore
from .timeutil import iso_time, utc_now
from .update_guard import UpdateRefused, UpdateTooLarge, inspect_update

MAX_NAME_LENGTH = 255

#: The id of a document as the server makes them (``new_document_id``). Anything else
#: names no document: it is answered "not found" before it is looked up or recorded.
DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")


def new_document_id() -> str:
    return secrets.token_hex(16)


def is_document_id(value: str) -> bool:
    return DOCUMENT_ID.fullmatch(value) is not None


def model(record: DocumentRecord, role: str) -> dict[str, Any]:
    """The document model of docs/openapi.yaml."""
    return {
        "id": record.id,
        "name": record.name,
        "type": record.type,
        "role": role,
        "owner": record.owner,
        "created": iso_time(record.created),
        "modified": iso_time(record.modified),
    }


def _refusal(exc: UpdateRefused) -> CollabDocsError:
    if isinstance(exc, UpdateTooLarge):
        return TooLarge(f"content too large: {exc}")
    return BadRequest(f"content refused: {exc}")


def validate_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("'name' must be a non-empty string")
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"'name' is longer than {MAX_NAME_LENGTH} characters")
    if any(ord(c) < 32 for c in name):
        raise BadRequest("'name' must not contain control characters")
    return name


class DocumentService:
    def __init__(
        self,
        store: DocumentStore,
        rooms: RoomManager,
        access: AccessService,
        audit: AuditTrail,
        *,
        max_documents_per_user: int = 0,
        trash_retention_days: float = 30.0,
    ):
        self.store = store
        self.rooms = rooms
        self.access = access
        self.audit = audit
        #: Documents a user may own (0: no cap), those in the trash included;
        #: administrators are exempt.
        self.max_documents_per_user = max_documents_per_user
        #: How long a deleted document stays in its owner's trash before it is purged.
        self.trash_retention = timedelta(days=trash_retention_days)
        #: The clock of the trash (tests move it instead of waiting).
        self.clock: Callable[[], datetime] = utc_now
        self._creating: dict[str, tuple[asyncio.Lock, int]] = {}  # user -> (lock, users)
        # A live room's record, as its last join read it (when): join_role.
        self._live_records: weakref.WeakKeyDictionary[
            DocumentRoom, tuple[float, DocumentRecord]
        ] = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def _one_create_at_a_time(self, username: str) -> AsyncIterator[None]:
        """A user's creations one after the other, so two at once cannot both pass the
        quota (per process: nodes of a cluster may each let one through)."""
        lock, users = self._creating.get(username, (asyncio.Lock(), 0))
        self._creating[username] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._creating[username]
            if users == 1:
                del self._creating[username]
            else:
                self._creating[username] = (lock, users - 1)

    async def _check_quota(self, actor: Actor) -> None:
        limit = self.max_documents_per_user
        if limit <= 0 or actor.is_admin:
            return
        # Documents in the trash still hold their storage: they count (both indexed).
        count = len(await self.store.list_documents(owner=actor.username))
        count += len(await self.store.list_trash(owner=actor.username))
        if count >= limit:
            raise Forbidden(
                f"you own {count} documents, the most allowed (max_documents_per_user), "
                "those in your trash included; delete some and empty them from the trash"
            )

    #: How long a live room's record may answer joins (never longer than the re-check).
    LIVE_RECORD_SECONDS = 5.0

    def _live_record(self, doc_id: str) -> DocumentRecord | None:
        room = self.rooms.open_rooms.get(doc_id)
        hit = self._live_records.get(room) if room is not None else None
        window = min(self.LIVE_RECORD_SECONDS, self.rooms.config.revalidate_interval)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < window else None

    def _remember_live(self, record: DocumentRecord, at: float) -> None:
        room = self.rooms.open_rooms.get(record.id)
        if room is not None:
            self._live_records[room] = (at, record)

    async def _authorize(
        self,
        actor: Actor,
        doc_id: str,
        permission: Permission,
        link: str | None = None,
        live: bool = False,
    ) -> tuple[DocumentRecord, str]:
        if not is_document_id(doc_id):
            raise NotFound()  # nothing looked up, nothing recorded
        record = self._live_record(doc_id) if live else None
        if record is None:
            at = time.monotonic()
            record = await self.store.get(doc_id)
            if live and record is not None and record.trashed is None:
                self._remember_live(record, at)
        if record is not None and record.trashed is not None:
            raise NotFound()  # only the trash's own calls reach a trashed document
        role = await self.access.role_of(actor, record, link) if record else None
        if record is None or role is None:
            if record is not None:  # a real document the actor may not see
                self.audit.emit(
                    "access.denied", actor, doc_id, attempted=permission.value, role=None
                )
            raise NotFound()
        if not can(role, permission):
            self.audit.emit("access.denied", actor, doc_id, attempted=permission.value, role=role)
            raise Forbidden(f"your role '{role}' does not allow '{permission.value}'")
        return record, role

    async def role(
        self, actor: Actor, doc_id: str, link: str | None = None
    ) -> tuple[DocumentRecord, str]:
        """The document and the actor's role on it (``link``: a share link token the
        caller presented), or NotFound if unreadable."""
        return await self._authorize(actor, doc_id, Permission.READ, link)

    async def join_role(
        self, actor: Actor, doc_id: str, link: str | None = None
    ) -> tuple[DocumentRecord, str]:
        """``role`` for a socket joining: while the document's room is open here, the
        record its last join read (at most ``min(LIVE_RECORD_SECONDS, revalidate_interval)``
        old) saves the store's hop. A room closes when its document is deleted (here, or
        on another node through the bus), taking the record with it; ``delete`` forgets
        it before the trash; re-checks and REST calls always read the store. Only what a
        record cannot change while its room is open is used: id, type, owner."""
        return await self._authorize(actor, doc_id, Permission.READ, link, live=True)

    async def authorize(
        self, actor: Actor, doc_id: str, permission: Permission, link: str | None = None
    ) -> tuple[DocumentRecord, str]:
        """The document and the actor's role, if the role grants ``permission``; else
        NotFound (cannot read) or Forbidden (can read, may not do this)."""
        return await self._authorize(actor, doc_id, permission, link)

    async def live_room(self, record: DocumentRecord) -> DocumentRoom:
        """The document's live room, loaded if needed (503 if it cannot load)."""
        return await self._room(record)

    async def _room(self, record: DocumentRecord) -> DocumentRoom:
        try:
            return await self.rooms.get(record.id, record.type)
        except RoomLoadError as exc:
            raise Unavailable(f"the document could not be loaded: {exc}") from exc

    async def list_documents(self, actor: Actor) -> list[dict[str, Any]]:
        """What the actor may read, newest modified first: their own documents (by the
        owner index) and those shared with them or their groups (by the access
        database's principal index); never a scan of every document, except for an
        administrator, who may read them all."""
        if actor.is_admin:
            return [model(r, "owner") for r in await self.store.list_documents()]
        own = await self.store.list_documents(owner=actor.username)
        shared = await self.access.shared_with(actor)
        mine = {r.id for r in own}
        wanted = [doc_id for doc_id in shared if doc_id not in mine and is_document_id(doc_id)]
        found = await asyncio.gather(*(self.store.get(doc_id) for doc_id in wanted))
        listed = [(r, "owner") for r in own]
        listed += [(r, shared[r.id]) for r in found if r is not None and r.trashed is None]
        listed.sort(key=lambda pair: pair[0].modified, reverse=True)
        return [model(r, role) for r, role in listed]

    async def create(
        self, actor: Actor, name: Any, doc_type: Any, content: Any = None
    ) -> dict[str, Any]:
        name = validate_name(name)
        if doc_type not in DOC_TYPES:
            raise BadRequest(f"'type' must be one of {', '.join(DOC_TYPES)}")
        try:
            content = validate_content(
                doc_type, content if content is not None else empty_content(doc_type)
            )
        except ContentError as exc:
            raise BadRequest(str(exc)) from exc
        state = initial_state(doc_type, content)
        self._guard(state)
        async with self._one_create_at_a_time(actor.username):
            await self._check_quota(actor)  # nothing is written past it
            now = utc_now()
            record = DocumentRecord(
                id=new_document_id(),
                name=name,
                type=doc_type,
                owner=actor.username,
                created=now,
                modified=now,
            )
            await self.store.create(record, state)
        self.audit.emit("document.created", actor, record.id, name=name, type=doc_type)
        return model(record, "owner")

    def _guard(self, state: bytes) -> None:
        """A new document's first state passes the rooms' update guard (413 or 400)."""
        config = self.rooms.config
        try:
            shape = inspect_update(state, config.stored_limits)
        except UpdateRefused as exc:
            raise _refusal(exc) from exc
        if shape.structs > config.max_document_structs:
            raise TooLarge(
                f"the document would hold more than {config.max_document_structs} structs"
            )

    async def activity(
        self,
        actor: Actor,
        doc_id: str,
        limit: int,
        link: str | None = None,
        *,
        matching: ActivityFilter | None = None,
        display_names: DisplayNames | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """The document's recent audit events that match, newest first, each with its
        sentence (owners and admins); and whether older events went unread."""
        await self._authorize(actor, doc_id, Permission.READ_ACTIVITY, link)
        return await read_feed(
            self.audit,
            self.store,
            doc_id,
            limit,
            matching or ActivityFilter(),
            display_names or no_display_names,
        )

    async def get(self, actor: Actor, doc_id: str, link: str | None = None) -> dict[str, Any]:
        record, role = await self.role(actor, doc_id, link)
        return model(record, role)

    async def rename(
        self, actor: Actor, doc_id: str, name: Any, link: str | None = None
    ) -> dict[str, Any]:
        record, role = await self._authorize(actor, doc_id, Permission.WRITE, link)
        old_name, record.name = record.name, validate_name(name)
        record.modified = utc_now()
        await self.store.update_metadata(doc_id, name=record.name, modified=record.modified)
        self.audit.emit("document.renamed", actor, doc_id, old_name=old_name, new_name=record.name)
        return model(record, role)

    # -- deletion: the trash --------------------------------------------------------------

    async def delete(self, actor: Actor, doc_id: str, link: str | None = None) -> None:
        """Move a document to its owner's trash, shares and history kept."""
        await self._authorize(actor, doc_id, Permission.DELETE, link)
        room = self.rooms.open_rooms.get(doc_id)
        if room is not None:  # joins read the store again from now on
            self._live_records.pop(room, None)
        now = self.clock()
        # Into the trash first, so no socket can load the room again; then the rooms
        # close, here and on every other node (4410), each writing first what it has not
        # written yet (a restore brings it back).
        if not await self.store.trash(doc_id, now):
            raise NotFound()  # deleted meanwhile by another request
        self.audit.emit(
            "document.deleted", actor, doc_id, purge_after=iso_time(now + self.trash_retention)
        )
        await self.rooms.document_deleted(doc_id)

    def trashed_model(self, record: DocumentRecord) -> dict[str, Any]:
        """A document of the trash (docs/openapi.yaml's TrashedDocument)."""
        assert record.trashed is not None
        return {
            **model(record, "owner"),
            "trashed": iso_time(record.trashed),
            "purge_after": iso_time(record.trashed + self.trash_retention),
        }

    async def list_trash(self, actor: Actor) -> list[dict[str, Any]]:
        """The actor's trash (an administrator's: everyone's), most recent first."""
        owner = None if actor.is_admin else actor.username
        return [self.trashed_model(r) for r in await self.store.list_trash(owner=owner)]

    async def _in_trash(self, actor: Actor, doc_id: str, attempted: str) -> DocumentRecord:
        """A document of the actor's trash; NotFound for anyone who may not delete it
        (a sharee is not told it is there), and for a document not in the trash."""
        if not is_document_id(doc_id):
            raise NotFound()
        record = await self.store.get(doc_id)
        if record is None or record.trashed is None:
            raise NotFound()
        role = await self.access.role_of(actor, record)  # no share link reaches the trash
        if role is None or not can(role, Permission.DELETE):
            self.audit.emit("access.denied", actor, doc_id, attempted=attempted, role=role)
            raise NotFound()
        return record

    async def restore(self, actor: Actor, doc_id: str) -> dict[str, Any]:
        """Take a document out of the trash, as it was (its shares never left)."""
        record = await self._in_trash(actor, doc_id, "restore")
        if not await self.store.restore(doc_id):
            raise NotFound()  # purged or restored meanwhile
        self.audit.emit("document.restored", actor, doc_id)
        record.trashed = None
        return model(record, "owner")

    async def purge(self, actor: Actor, doc_id: str) -> None:
        """Delete a document of the trash for good, now."""
        record = await self._in_trash(actor, doc_id, "purge")
        assert record.trashed is not None
        if not await self._purge(record.id, record.trashed, actor, "owner"):
            raise NotFound()  # restored or purged meanwhile

    async def purge_expired(self) -> int:
        """Purge what has been in the trash longer than the retention; how many. Safe on
        several nodes at once: each document is purged (and recorded) by one of them."""
        cutoff = self.clock() - self.trash_retention
        purged = 0
        for record in await self.store.list_trash(trashed_before=cutoff):
            purged += await self._purge(record.id, cutoff, None, "retention")
        return purged

    async def _purge(
        self, doc_id: str, trashed_before: datetime, actor: Actor | None, reason: str
    ) -> bool:
        if not await self.store.purge(doc_id, trashed_before):
            return False
        await self.access.forget(doc_id)
        self.audit.emit("document.purged", actor, doc_id, reason=reason)
        return True

    async def content(self, actor: Actor, doc_id: str, link: str | None = None) -> dict[str, Any]:
        record, _ = await self.role(actor, doc_id, link)
        room = await self._room(record)
        return read_content(room.doc, record.type)

    async def replace_content(
        self, actor: Actor, doc_id: str, content: Any, link: str | None = None
    ) -> dict[str, Any]:
        record, role = await self._authorize(actor, doc_id, Permission.WRITE, link)
        try:
            content = validate_content(record.type, content)
        except ContentError as exc:
            raise BadRequest(str(exc)) from exc
        room = await self._room(record)
        update = replacement_update(room.doc, record.type, content)
        try:
            room.apply_server_update(update, actor.username)
        except UpdateRefused as exc:
            raise _refusal(exc) from exc
        await room.flush()  # answer once the change is durable
        self.audit.emit("document.content_replaced", actor, doc_id, bytes=len(update))
        fresh = await self.store.get(doc_id)
        return model(fresh or record, role)
