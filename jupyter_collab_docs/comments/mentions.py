"""Mentions: ``@name`` in a comment tells that person (docs/comments.md, "Mentions and
notifications").

For each name a comment newly mentions (not the author, not a name an earlier version
of the comment mentioned), checked against the document's access now:

- someone who can read the document gets a notification in their inbox (kept by the
  document store, so every node sees it), a ``comment.mentioned`` audit event (which a
  deployment routes to chat or mail) and, when SMTP is configured, an e-mail with a link
  to the thread: who mentioned them and the document's name, never the comment or the
  document's content (mail leaves the server's access checks behind);
- someone who cannot read it, or a name nobody has, gets nothing at all; the commenter's
  answer names them (``cannot_read``, ``unknown``) and says whether the commenter may
  share the document (``may_share``), so the face can offer to.

The inbox shows a notification only while its reader can still read the document (a
revoked share, a deleted document hide it). Nothing here is raised to the commenter once
the comment is stored: a store or mail failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection, Iterable
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy import select

from ..acl import AccessService, Permission, can
from ..acl.directory import AccessDirectory
from ..acl.models import MemberRow
from ..acl.names import display_names
from ..audit import AuditTrail
from ..documents import DocumentService
from ..errors import BadRequest, NotFound
from ..identity import Actor, CollabDocsIdentityProvider
from ..notify import Mailer
from ..stores import DocumentRecord, DocumentStore
from ..timeutil import iso_time, utc_now
from .service import new_id

log = logging.getLogger(__name__)

EXCERPT = 280  # characters of the comment an inbox entry shows
INBOX_LIMIT = 200  # notifications an inbox answer holds
READERS_LIMIT = 10  # names a completion answers
READERS_MAX_QUERY = 64
NOTE_ID = re.compile(r"[0-9a-f]{32}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class People(Protocol):
    """Who a username is, for the access checks of a mention."""

    async def actor(self, username: str) -> Actor | None:
        """The person (groups and administrator flag included), or None if nobody has
        that name here."""

    async def display_names(self, usernames: Iterable[str]) -> dict[str, str]: ...

    async def members(self, groups: Collection[str]) -> set[str]: ...


class DirectoryPeople:
    """The standalone server: people and groups are rows of the access database."""

    def __init__(self, users: AccessDirectory) -> None:
        self.users = users

    async def actor(self, username: str) -> Actor | None:
        # One unit of work for both (a comment may name 50 people, each resolved at once).
        record, groups = await self.users.profile(username)
        if record is None:
            return None
        return Actor.create(username, record.display_name, is_admin=record.is_admin, groups=groups)

    async def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        wanted = list(usernames)
        shown = await display_names(self.users.db, wanted)
        return {name: shown.get(name) or name for name in wanted}

    async def members(self, groups: Collection[str]) -> set[str]:
        if not groups:
            return set()
        wanted = list(groups)
        return await self.users.db.run(
            lambda s: set(s.scalars(select(MemberRow.username).where(MemberRow.group.in_(wanted))))
        )


class ExternalPeople:
    """JupyterHub or a personal server: anyone may exist; their groups are the hub's
    (unknown here), so only shares to them by name and administrators count."""

    def __init__(self, admin_users: Collection[str] | None) -> None:
        self.admin_users = frozenset(admin_users or ())

    async def actor(self, username: str) -> Actor | None:
        return Actor.create(username, username, is_admin=username in self.admin_users)

    async def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        return {name: name for name in usernames}

    async def members(self, groups: Collection[str]) -> set[str]:
        return set()


def people_for(
    identity_provider: Any, users: AccessDirectory, admin_users: Collection[str] | None
) -> People:
    if isinstance(identity_provider, CollabDocsIdentityProvider):
        return DirectoryPeople(users)
    return ExternalPeople(admin_users)


def _one_line(text: str) -> str:
    return CONTROL.sub(" ", text)


class MentionNotifier:
    def __init__(
        self,
        documents: DocumentService,
        store: DocumentStore,
        audit: AuditTrail,
        people: People,
        *,
        mailer: Mailer | None = None,
        address_template: str = "",
        link_base: str = "",
    ) -> None:
        self.documents = documents
        self.access: AccessService = documents.access
        self.store = store
        self.audit = audit
        self.people = people
        self.mailer = mailer
        #: ``{username}@example.org``: a reader's e-mail address ("" : no mail).
        self.address_template = address_template
        #: The server's public URL with its base path, ending in "/": links in mail.
        self.link_base = link_base

    def close(self) -> None:
        """Stop the mail thread; messages not yet sent are dropped (the inbox has them)."""
        if self.mailer is not None:
            self.mailer.close()

    # -- a comment was written ----------------------------------------------------------

    async def notify(
        self,
        actor: Actor,
        record: DocumentRecord,
        role: str,
        thread_id: str,
        comment: dict[str, Any],
        already: Collection[str] = (),
    ) -> dict[str, Any]:
        """Tell the people ``comment`` newly mentions; what the commenter is answered."""
        names = [n for n in comment["mentions"] if n != actor.username and n not in already]
        # Up to 50 names, each an access-database look-up or two: at once, not one by one.
        found = await asyncio.gather(*(self._reader(name, record) for name in names))
        readers = [person for person, _ in found if person is not None]
        cannot_read = [
            name for name, (_, why) in zip(names, found, strict=True) if why == "cannot_read"
        ]
        unknown = [name for name, (_, why) in zip(names, found, strict=True) if why == "unknown"]
        if readers:
            await self._deliver(actor, record, thread_id, comment, readers)
        return {
            "notified": [p.username for p in readers],
            "cannot_read": cannot_read,
            "unknown": unknown,
            "may_share": can(role, Permission.SHARE),
        }

    async def _reader(self, name: str, record: DocumentRecord) -> tuple[Actor | None, str]:
        """The person named if they can read the document, else why not."""
        person = await self.people.actor(name)
        if person is None:
            return None, "unknown"
        if await self.access.role_of(person, record) is None:
            return None, "cannot_read"
        return person, ""

    async def _deliver(
        self,
        actor: Actor,
        record: DocumentRecord,
        thread_id: str,
        comment: dict[str, Any],
        readers: list[Actor],
    ) -> None:
        now = iso_time(utc_now())
        notes = [
            {
                "id": new_id(),
                "user": person.username,
                "kind": "mention",
                "doc_id": record.id,
                "thread_id": thread_id,
                "comment_id": comment["id"],
                "author": actor.username,
                "author_name": actor.display_name,
                "excerpt": comment["body"][:EXCERPT],
                "created": now,
                "read": False,
            }
            for person in readers
        ]
        try:
            await self.store.add_notifications(notes)
        except Exception:  # the comment is stored: the inbox misses it, the rest goes on
            log.exception("mentions in %s not kept in the inbox", record.id)
        for person in readers:
            self.audit.emit(
                "comment.mentioned",
                actor,
                record.id,
                thread_id=thread_id,
                comment_id=comment["id"],
                recipient=person.username,
            )
            self._mail(actor, record, thread_id, person)

    def _mail(self, actor: Actor, record: DocumentRecord, thread_id: str, person: Actor) -> None:
        if self.mailer is None or not self.address_template:
            return
        address = self.address_template.replace("{username}", person.username)
        link = f"{self.link_base}collab-docs/#/d/{quote(record.id, safe='')}?thread={thread_id}"
        who, name = _one_line(actor.display_name), _one_line(record.name)
        text = (
            f"{who} mentioned you in a comment on {name!r}.\n\n"
            f"Open the thread: {link}\n\n"
            "You receive this because you can read that document.\n"
        )
        try:
            self.mailer.send(address, f"{who} mentioned you in {name}", text)
        except Exception:  # a malformed address or header: logged, the comment stands
            log.exception("mail to %s not sent", address)

    async def edited(self, comment: dict[str, Any]) -> None:
        """A comment changed: its notifications show its new text."""
        try:
            await self.store.update_notifications(
                comment["id"], {"excerpt": comment["body"][:EXCERPT]}
            )
        except Exception:  # the edit is stored: logged, not raised to its author
            log.exception("notifications of comment %s not updated", comment["id"])

    async def forget(self, comment_ids: list[str]) -> None:
        """Comments were deleted: so are their notifications."""
        try:
            await self.store.delete_notifications(comment_ids)
        except Exception:  # the deletion is stored: logged, not raised to its author
            log.exception("notifications of %d deleted comments not deleted", len(comment_ids))

    # -- the inbox ----------------------------------------------------------------------

    async def inbox(self, actor: Actor) -> dict[str, Any]:
        """The caller's notifications, newest first, for documents they can still read."""
        notes = await self.store.list_notifications(actor.username, INBOX_LIMIT)
        records: dict[str, DocumentRecord | None] = {}
        for doc_id in {n["doc_id"] for n in notes}:
            record = await self.store.get(doc_id)
            readable = (
                record is not None
                and record.trashed is None
                and await self.access.role_of(actor, record) is not None
            )
            records[doc_id] = record if readable else None
        shown = []
        for note in notes:
            record = records[note["doc_id"]]
            if record is not None:
                shown.append(_note_model(note, record))
        return {"notifications": shown, "unread": sum(not n["read"] for n in shown)}

    async def mark_read(self, actor: Actor, note_id: str | None) -> dict[str, Any]:
        """Mark one of the caller's notifications read (None: all); the unread count."""
        if note_id is not None:
            mine = await self.inbox(actor)
            if not NOTE_ID.fullmatch(note_id) or note_id not in {
                n["id"] for n in mine["notifications"]
            }:
                raise NotFound("notification not found")
        await self.store.mark_notifications_read(
            actor.username, None if note_id is None else [note_id]
        )
        return {"unread": (await self.inbox(actor))["unread"]}

    # -- completion ---------------------------------------------------------------------

    async def readers(
        self, actor: Actor, doc_id: str, query: str | None, link: str | None = None
    ) -> dict[str, Any]:
        """People who can read the document (its creator, user shares, members of group
        shares) whose username or display name starts with ``query``: for @-completion,
        so asked by those who may comment."""
        start = (query or "").strip().lower()
        if len(start) > READERS_MAX_QUERY or CONTROL.search(start):
            raise BadRequest(f"'q' must be at most {READERS_MAX_QUERY} characters of a name")
        record, _ = await self.documents.authorize(actor, doc_id, Permission.COMMENT, link)
        shares = await self.access.shares(record)
        users = {record.owner}
        users |= {s.principal[5:] for s in shares if s.principal.startswith("user:")}
        users |= await self.people.members(
            [s.principal[6:] for s in shares if s.principal.startswith("group:")]
        )
        names = await self.people.display_names(sorted(users))
        found = [
            {"username": user, "display_name": names[user]}
            for user in sorted(users)
            if user.lower().startswith(start) or names[user].lower().startswith(start)
        ]
        return {"readers": found[:READERS_LIMIT]}


def _note_model(note: dict[str, Any], record: DocumentRecord) -> dict[str, Any]:
    return {
        "id": note["id"],
        "kind": note["kind"],
        "document_id": record.id,
        "document_name": record.name,
        "document_type": record.type,
        "thread_id": note["thread_id"],
        "comment_id": note["comment_id"],
        "author": note["author"],
        "author_name": note["author_name"],
        "excerpt": note["excerpt"],
        "created": note["created"],
        "read": bool(note["read"]),
    }
