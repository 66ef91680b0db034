"""VersionService: named and automatic versions, their content, restore, and what changed
between two versions (or a version and now), and who changed it.

A version is the document's whole state at one moment (a Yjs update through a Doc), kept
in the document store. A restore never rewrites history: it applies the old content to
the live document as a new change, after keeping the current state as a version, so a
restore is itself undone by restoring that one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from .acl import Permission
from .diffs import cell_authors, content_diff
from .doctypes import read_content, replacement_update
from .documents import DocumentService
from .errors import BadRequest, NotFound
from .identity import Actor
from .rooms import DocumentRoom, RoomManager
from .stores import DocumentStore, VersionRecord
from .timeutil import iso_time, utc_now

if TYPE_CHECKING:
    from .acl.directory import AccessDirectory

log = logging.getLogger(__name__)

MAX_LABEL_LENGTH = 200
#: A version id as made by _snapshot (secrets.token_hex(8)).
VERSION_ID = re.compile(r"[0-9a-f]{16}")
#: What ``compare`` takes for the live document instead of a version id.
CURRENT = "current"
#: Versions between two compared ones past which ``compare`` does not work out who
#: changed each cell (each one is read and diffed).
MAX_ATTRIBUTED_STEPS = 50


@dataclass
class VersionPolicy:
    """When automatic versions are kept, and how they thin out."""

    idle: float = 30.0  # seconds without edits after editing
    interval: float = 30 * 60.0  # at least this often while editing goes on
    keep_all: timedelta = timedelta(hours=1)
    hourly_for: timedelta = timedelta(days=1)
    daily_for: timedelta = timedelta(days=30)


def version_model(version: VersionRecord) -> dict[str, Any]:
    return {
        "id": version.id,
        "label": version.label,
        "created": iso_time(version.created),
        "created_by": version.created_by,
        "auto": version.auto,
        "contributors": version.contributors,
    }


def thin(versions: list[VersionRecord], now: datetime, policy: VersionPolicy) -> list[str]:
    """Ids of automatic versions to forget: keep every one from the last hour, the newest
    of each hour for a day, of each day for a month; named versions are never thinned."""
    drop: list[str] = []
    seen: set[tuple[str, str]] = set()
    for version in sorted(versions, key=lambda v: v.created, reverse=True):
        if not version.auto:
            continue
        age = now - version.created
        if age <= policy.keep_all:
            continue
        if age <= policy.hourly_for:
            bucket = ("hour", version.created.strftime("%Y-%m-%d %H"))
        elif age <= policy.daily_for:
            bucket = ("day", version.created.strftime("%Y-%m-%d"))
        else:
            drop.append(version.id)
            continue
        if bucket in seen:
            drop.append(version.id)
        else:
            seen.add(bucket)
    return drop


class VersionService:
    def __init__(
        self,
        documents: DocumentService,
        store: DocumentStore,
        rooms: RoomManager,
        policy: VersionPolicy,
        directory: AccessDirectory | None = None,
    ) -> None:
        self.documents = documents
        self.directory = directory  # display names of contributors, when it has them
        self.store = store
        self.rooms = rooms
        self.policy = policy
        self._task: asyncio.Task[None] | None = None
        rooms.before_close.append(self._version_before_close)

    def start(self) -> None:
        self._task = asyncio.create_task(self._auto_versions(), name="collab-docs-versions")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # -- the API -------------------------------------------------------------------------

    async def list_versions(
        self, actor: Actor, doc_id: str, link: str | None
    ) -> list[dict[str, Any]]:
        await self.documents.role(actor, doc_id, link)
        return [version_model(v) for v in await self.store.list_versions(doc_id)]

    async def create(
        self, actor: Actor, doc_id: str, label: Any, link: str | None
    ) -> dict[str, Any]:
        if not isinstance(label, str) or len(label) > MAX_LABEL_LENGTH:
            raise BadRequest(f"'label' must be a string of at most {MAX_LABEL_LENGTH} characters")
        record, _ = await self.documents.authorize(actor, doc_id, Permission.MANAGE_VERSIONS, link)
        room = await self.documents.live_room(record)
        version = await self._snapshot(room, label.strip(), actor.username, False)
        return version_model(version)

    async def content(
        self, actor: Actor, doc_id: str, version_id: str, link: str | None
    ) -> dict[str, Any]:
        record, _ = await self.documents.role(actor, doc_id, link)
        _, state = await self._get(doc_id, version_id)
        return read_content(self._doc(state), record.type)

    async def restore(
        self, actor: Actor, doc_id: str, version_id: str, link: str | None
    ) -> dict[str, Any]:
        record, _ = await self.documents.authorize(actor, doc_id, Permission.MANAGE_VERSIONS, link)
        version, state = await self._get(doc_id, version_id)
        content = read_content(self._doc(state), record.type)["content"]
        room = await self.documents.live_room(record)
        # Keep what is being replaced, so the restore can itself be undone.
        label = f"Before restoring {version.label or version.id}"[:MAX_LABEL_LENGTH]
        await self._snapshot(room, label, actor.username, True)
        room.apply_server_update(replacement_update(room.doc, record.type, content), actor.username)
        await room.flush()
        self.documents.audit.emit(
            "version.restored", actor, doc_id, version_id=version_id, label=version.label
        )
        return await self.documents.get(actor, doc_id, link)

    async def compare(
        self, actor: Actor, doc_id: str, from_id: str, to_id: str, link: str | None
    ) -> dict[str, Any]:
        """What changed after version ``from_id`` up to version ``to_id`` (or ``current``,
        the live document): ``changes`` (diffs.py), and who contributed (``contributors``
        by username, ``authors`` with display names)."""
        record, _ = await self.documents.role(actor, doc_id, link)
        if from_id == CURRENT:
            raise BadRequest("'from' must be a version id, older than 'to'")
        versions = await self.store.list_versions(doc_id)  # newest first
        ids = [v.id for v in versions]
        if from_id not in ids or (to_id != CURRENT and to_id not in ids):
            raise NotFound("no such version")
        start = ids.index(from_id)
        end = 0 if to_id == CURRENT else ids.index(to_id)
        if end > start:
            raise BadRequest("'from' must be older than 'to'")
        # The steps from `from` to `to`, oldest first: who made each, and the version it
        # made (None: the live document).
        steps: list[tuple[dict[str, dict[str, int]], str | None]] = [
            (v.contributors, v.id) for v in reversed(versions[end:start])
        ]
        old = await self._content(record.type, doc_id, from_id)
        if to_id == CURRENT:
            room = await self.documents.live_room(record)
            new = read_content(room.doc, record.type)["content"]
            steps.append((room.contributions, None))  # edits since the newest version
        else:
            new = await self._content(record.type, doc_id, to_id)
        totals: dict[str, dict[str, int]] = {}
        for contributors, _ in steps:
            for user, counts in contributors.items():
                into = totals.setdefault(user, {"updates": 0, "bytes": 0})
                into["updates"] += counts.get("updates", 0)
                into["bytes"] += counts.get("bytes", 0)
        # Diffs are pure but can take a second on a large text: off the event loop.
        changes = await asyncio.to_thread(content_diff, record.type, old, new)
        if record.type == "notebook":
            by = await self._cell_authors(record.type, doc_id, old, new, steps)
            for cell in changes["cells"]:
                cell["by"] = sorted(by.get(cell["id"], ())) if cell["id"] else []
        return {
            "from": from_id,
            "to": to_id,
            "contributors": totals,
            "authors": await self._authors(actor, totals),
            "changes": changes,
        }

    async def _content(self, doc_type: str, doc_id: str, version_id: str) -> Any:
        _, state = await self._get(doc_id, version_id)
        return read_content(self._doc(state), doc_type)["content"]

    async def _cell_authors(
        self,
        doc_type: str,
        doc_id: str,
        old: Any,
        new: Any,
        steps: list[tuple[dict[str, dict[str, int]], str | None]],
    ) -> dict[str, set[str]]:
        """Who touched each cell: a diff per step between versions (each version records
        who made it). Past MAX_ATTRIBUTED_STEPS steps, not worked out (empty)."""
        if len(steps) > MAX_ATTRIBUTED_STEPS:
            return {}
        contents = [old]
        for index, (_, version_id) in enumerate(steps):
            if index == len(steps) - 1 or version_id is None:
                contents.append(new)  # the last step ends at `to` itself
            else:
                contents.append(await self._content(doc_type, doc_id, version_id))
        authors = [sorted(people) for people, _ in steps]
        return await asyncio.to_thread(cell_authors, contents, authors)

    async def _authors(
        self, actor: Actor, totals: dict[str, dict[str, int]]
    ) -> list[dict[str, Any]]:
        """The contributors, most updates first, with the names people know them by: the
        standalone directory's, the caller's own, else the username."""
        authors = []
        for username, counts in totals.items():
            shown = actor.display_name if username == actor.username else ""
            if not shown and self.directory is not None:
                found = await self.directory.lookup(username)
                shown = found.display_name if found is not None else ""
            authors.append({"username": username, "display_name": shown or username, **counts})
        return sorted(authors, key=lambda a: (-a["updates"], a["username"]))

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _doc(state: bytes) -> Doc[Any]:
        doc: Doc[Any] = Doc()
        doc.apply_update(state)
        return doc

    async def _get(self, doc_id: str, version_id: str) -> tuple[VersionRecord, bytes]:
        if VERSION_ID.fullmatch(version_id) is None:  # not one we made: nothing to look up
            raise NotFound("no such version")
        found = await self.store.get_version(doc_id, version_id)
        if found is None:
            raise NotFound("no such version")
        return found

    async def _snapshot(self, room: DocumentRoom, label: str, by: str, auto: bool) -> VersionRecord:
        contributions = room.take_contributions()
        version = VersionRecord(
            id=secrets.token_hex(8),
            doc_id=room.doc_id,
            label=label,
            created=utc_now(),
            created_by=by,
            auto=auto,
            contributors=contributions,
        )
        await self.store.create_version(version, room.doc.get_update())
        self.documents.audit.emit(
            "version.created",
            by or None,
            room.doc_id,
            version_id=version.id,
            label=label,
            auto=auto,
        )
        if auto:
            await self._thin(room.doc_id)
        return version

    async def _thin(self, doc_id: str) -> None:
        versions = await self.store.list_versions(doc_id)
        drop = thin(versions, utc_now(), self.policy)
        if drop:
            await self.store.delete_versions(doc_id, drop)

    def _due(self, room: DocumentRoom, now: float) -> bool:
        if room.last_edit is None or room.repairing:
            return False
        idle = now - room.last_edit >= self.policy.idle
        return idle or now - room.last_version >= self.policy.interval

    async def _auto_versions(self) -> None:
        period = max(0.05, min(self.policy.idle, self.policy.interval) / 3)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for room in list(self.rooms.open_rooms.values()):
                if not room.closed and self._due(room, now):
                    try:
                        await self._snapshot(room, "", "", True)
                    except Exception:
                        log.exception("document %s: automatic version failed", room.doc_id)

    async def _version_before_close(self, room: DocumentRoom) -> None:
        if room.last_edit is not None and not room.repairing:
            await self._snapshot(room, "", "", True)
