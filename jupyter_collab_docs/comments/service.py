"""CommentService: threads of comments on a document, checked against the caller's role.

Who may do what (docs/comments.md): anyone who reads the document reads its threads;
commenters, editors and owners start threads and reply; a comment is edited only by its
author and deleted by its author or an owner (``MODERATE_COMMENTS``); a thread is
resolved or reopened by its author or an editor or owner (``RESOLVE_COMMENTS``). Every
write is checked here, recorded in the audit trail and sent live to the document's open
sockets (:mod:`.live`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..acl import Permission, can
from ..audit import AuditTrail
from ..documents import DocumentService
from ..errors import BadRequest, Forbidden, NotFound
from ..identity import Actor
from ..stores import DocumentRecord, DocumentStore
from ..timeutil import iso_time, utc_now
from .anchors import DocumentView, make_anchor, resolve_anchor
from .live import CommentEvents
from .suggestions import make_suggestion, suggestion_model

if TYPE_CHECKING:
    from .mentions import MentionNotifier

MAX_BODY = 10_000  # characters of one comment
MAX_THREADS = 2_000  # per document (a list resolves every anchor: ~0.1 s per 1,000)
MAX_COMMENTS = 500  # per thread
MAX_MENTIONS = 50  # per comment

THREAD_ID = re.compile(r"[0-9a-f]{32}")
# ``@name``: not inside a word or an e-mail address; a trailing dot ends a sentence.
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
STATUSES = ("open", "resolved")


def new_id() -> str:
    return secrets.token_hex(16)


def parse_mentions(body: str) -> list[str]:
    """The usernames a comment mentions, once each, in order (at most MAX_MENTIONS)."""
    found: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name not in found:
            found.append(name)
    return found[:MAX_MENTIONS]


def validate_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise BadRequest("'body' must be a non-empty string")
    if len(body) > MAX_BODY:
        raise BadRequest(f"'body' is longer than {MAX_BODY} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in body):
        raise BadRequest("'body' must not contain control characters other than newlines")
    return body.strip()


def _comment_model(comment: dict[str, Any], name: Callable[[Any], Any]) -> dict[str, Any]:
    model = {
        key: comment.get(key)
        for key in ("id", "thread_id", "author", "body", "mentions", "created", "edited")
    }
    model["author_name"] = name(model["author"])
    return model


def people_named(thread: dict[str, Any]) -> set[str]:
    """The usernames a thread model shows a display name for."""
    people = {thread["author"], thread["resolved_by"], *(c["author"] for c in thread["comments"])}
    if "suggestion" in thread:
        people.add(thread["suggestion"].get("decided_by"))
    return {p for p in people if isinstance(p, str)}


def thread_model(
    thread: dict[str, Any], view: DocumentView, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The thread model of docs/openapi.yaml, with where its anchor is in ``view`` now
    and its people's display names (``names``; a username where it has none)."""
    known = names or {}

    def name(username: Any) -> Any:
        return known.get(username) or username if isinstance(username, str) else None

    model = {
        "id": thread["id"],
        "document_id": thread["doc_id"],
        "anchor": thread["anchor"],
        "quote": thread["quote"],
        "author": thread["author"],
        "author_name": name(thread["author"]),
        "created": thread["created"],
        "resolved": thread["resolved"],
        "resolved_by": thread["resolved_by"],
        "resolved_by_name": name(thread["resolved_by"]),
        "resolved_at": thread["resolved_at"],
        "position": resolve_anchor(thread["anchor"], view).to_json(),
        "comments": [_comment_model(c, name) for c in thread["comments"]],
    }
    if "suggestion" in thread:
        # A thread proposing a change (suggestions.py) says so, and whether it applies.
        suggestion = suggestion_model(thread, view)
        model["suggestion"] = {**suggestion, "decided_by_name": name(suggestion["decided_by"])}
    return model


class CommentService:
    def __init__(
        self,
        documents: DocumentService,
        store: DocumentStore,
        audit: AuditTrail,
        events: CommentEvents,
    ) -> None:
        self.documents = documents
        self.store = store
        self.audit = audit
        self.events = events
        #: Tells the people a comment mentions (comments/mentions.py); set by the app.
        self.mentions: MentionNotifier | None = None

    # -- reading -------------------------------------------------------------------------

    async def list_threads(
        self,
        actor: Actor,
        doc_id: str,
        link: str | None = None,
        *,
        status: str | None = None,
        mine: bool = False,
        mentioning_me: bool = False,
    ) -> list[dict[str, Any]]:
        """The document's threads, oldest first, filtered: ``status`` open or resolved,
        ``mine`` (started or answered by the caller), ``mentioning_me``."""
        if status is not None and status not in STATUSES:
            raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}")
        record, _ = await self.documents.role(actor, doc_id, link)
        threads = await self.store.list_comment_threads(doc_id)
        me = actor.username
        if status is not None:
            threads = [t for t in threads if t["resolved"] == (status == "resolved")]
        if mine:
            threads = [
                t
                for t in threads
                if t["author"] == me or any(c["author"] == me for c in t["comments"])
            ]
        if mentioning_me:
            threads = [t for t in threads if any(me in c["mentions"] for c in t["comments"])]
        view = await self._view(record)
        names = await self.display_names(threads)
        return [thread_model(t, view, names) for t in threads]

    async def get_thread(
        self, actor: Actor, doc_id: str, thread_id: str, link: str | None = None
    ) -> dict[str, Any]:
        record, _ = await self.documents.role(actor, doc_id, link)
        thread = await self._thread(doc_id, thread_id)
        return thread_model(thread, await self._view(record), await self.display_names([thread]))

    # -- writing -------------------------------------------------------------------------

    async def create_thread(
        self,
        actor: Actor,
        doc_id: str,
        anchor: Any,
        body: Any,
        link: str | None = None,
        suggestion: Any = None,
    ) -> dict[str, Any]:
        """A new thread; with ``suggestion`` (``{"text"}``) it proposes that text in place
        of the anchored one (suggestions.py)."""
        record, role = await self.documents.authorize(actor, doc_id, Permission.COMMENT, link)
        text = validate_body(body)
        view = await self._view(record)
        stored_anchor, quote = make_anchor(anchor, view)
        proposal = None if suggestion is None else make_suggestion(suggestion, stored_anchor, view)
        if len(await self.store.list_comment_threads(doc_id)) >= MAX_THREADS:
            raise BadRequest(f"the document has {MAX_THREADS} threads, the most allowed")
        now = iso_time(utc_now())
        thread_id = new_id()
        thread: dict[str, Any] = {
            "id": thread_id,
            "doc_id": doc_id,
            "anchor": stored_anchor,
            "quote": quote,
            "author": actor.username,
            "created": now,
            "resolved": False,
            "resolved_by": None,
            "resolved_at": None,
        }
        if proposal is not None:
            thread["suggestion"] = proposal
        comment = self._new_comment(actor, thread_id, doc_id, text, now)
        if not await self.store.create_comment_thread(thread, comment):
            raise NotFound()  # deleted meanwhile: nothing was written
        self.audit.emit(
            "comment.created",
            actor,
            doc_id,
            thread_id=thread["id"],
            comment_id=comment["id"],
            new_thread=True,
            mentions=comment["mentions"],
        )
        model = await self._changed(
            doc_id, "thread.created", {**thread, "comments": [comment]}, view
        )
        return await self._mentioned(actor, record, role, model, comment)

    async def reply(
        self, actor: Actor, doc_id: str, thread_id: str, body: Any, link: str | None = None
    ) -> dict[str, Any]:
        record, role = await self.documents.authorize(actor, doc_id, Permission.COMMENT, link)
        text = validate_body(body)
        thread = await self._thread(doc_id, thread_id)
        if len(thread["comments"]) >= MAX_COMMENTS:
            raise BadRequest(f"the thread has {MAX_COMMENTS} comments, the most allowed")
        comment = self._new_comment(actor, thread_id, doc_id, text, iso_time(utc_now()))
        if not await self.store.add_comment(comment):
            raise NotFound("comment thread not found")  # deleted meanwhile
        self.audit.emit(
            "comment.created",
            actor,
            doc_id,
            thread_id=thread_id,
            comment_id=comment["id"],
            new_thread=False,
            mentions=comment["mentions"],
        )
        thread["comments"].append(comment)
        model = await self._changed(doc_id, "thread.updated", thread, await self._view(record))
        return await self._mentioned(actor, record, role, model, comment)

    async def edit_comment(
        self,
        actor: Actor,
        doc_id: str,
        thread_id: str,
        comment_id: str,
        body: Any,
        link: str | None = None,
    ) -> dict[str, Any]:
        record, role = await self.documents.authorize(actor, doc_id, Permission.COMMENT, link)
        text = validate_body(body)
        thread = await self._thread(doc_id, thread_id)
        comment = self._comment(thread, comment_id)
        if comment["author"] != actor.username:
            self._refuse(actor, doc_id, "edit_comment", role, "only its author edits a comment")
        fields = {"body": text, "mentions": parse_mentions(text), "edited": iso_time(utc_now())}
        if not await self.store.update_comment(doc_id, comment_id, fields):
            raise NotFound("comment not found")
        told = list(comment.get("mentions") or ())  # told before: not again
        comment.update(fields)
        self.audit.emit(
            "comment.edited",
            actor,
            doc_id,
            thread_id=thread_id,
            comment_id=comment_id,
            mentions=fields["mentions"],
        )
        model = await self._changed(doc_id, "thread.updated", thread, await self._view(record))
        return await self._mentioned(actor, record, role, model, comment, told)

    async def delete_comment(
        self, actor: Actor, doc_id: str, thread_id: str, comment_id: str, link: str | None = None
    ) -> dict[str, Any] | None:
        """Delete one comment; the thread's first comment takes the thread with it
        (None is then returned)."""
        record, role = await self.documents.role(actor, doc_id, link)
        thread = await self._thread(doc_id, thread_id)
        comment = self._comment(thread, comment_id)
        self._may_delete(actor, doc_id, role, comment["author"], "comment")
        if comment is thread["comments"][0]:
            await self._delete_thread(actor, doc_id, thread, comment_id)
            return None
        if not await self.store.delete_comment(doc_id, comment_id):
            raise NotFound("comment not found")
        await self._mentions_gone([comment_id])
        self.audit.emit(
            "comment.deleted",
            actor,
            doc_id,
            thread_id=thread_id,
            comment_id=comment_id,
            thread_deleted=False,
            comments=1,
        )
        thread["comments"].remove(comment)
        return await self._changed(doc_id, "thread.updated", thread, await self._view(record))

    async def delete_thread(
        self, actor: Actor, doc_id: str, thread_id: str, link: str | None = None
    ) -> None:
        _, role = await self.documents.role(actor, doc_id, link)
        thread = await self._thread(doc_id, thread_id)
        self._may_delete(actor, doc_id, role, thread["author"], "thread")
        await self._delete_thread(actor, doc_id, thread, None)

    async def set_resolved(
        self, actor: Actor, doc_id: str, thread_id: str, resolved: Any, link: str | None = None
    ) -> dict[str, Any]:
        if not isinstance(resolved, bool):
            raise BadRequest("'resolved' must be true or false")
        record, role = await self.documents.role(actor, doc_id, link)
        thread = await self._thread(doc_id, thread_id)
        own = thread["author"] == actor.username and can(role, Permission.COMMENT)
        if not own and not can(role, Permission.RESOLVE_COMMENTS):
            self._refuse(
                actor,
                doc_id,
                Permission.RESOLVE_COMMENTS.value,
                role,
                "only the thread's author, editors and owners resolve or reopen it",
            )
        if thread["resolved"] != resolved:
            fields: dict[str, Any] = {
                "resolved": resolved,
                "resolved_by": actor.username if resolved else None,
                "resolved_at": iso_time(utc_now()) if resolved else None,
            }
            if not await self.store.update_comment_thread(doc_id, thread_id, fields):
                raise NotFound("comment thread not found")
            thread.update(fields)
            kind = "comment.resolved" if resolved else "comment.reopened"
            self.audit.emit(kind, actor, doc_id, thread_id=thread_id)
            return await self._changed(doc_id, "thread.updated", thread, await self._view(record))
        return thread_model(thread, await self._view(record), await self.display_names([thread]))

    # -- helpers -------------------------------------------------------------------------

    async def _mentioned(
        self,
        actor: Actor,
        record: DocumentRecord,
        role: str,
        model: dict[str, Any],
        comment: dict[str, Any],
        told: list[str] | None = None,
    ) -> dict[str, Any]:
        """The answer to a write: the thread, and whom its mentions told (mentions.py)."""
        if self.mentions is None:
            return model
        if told is not None:  # an edit: the inboxes show the comment as it is now
            await self.mentions.edited(comment)
        report = await self.mentions.notify(actor, record, role, model["id"], comment, told or ())
        return {**model, "notifications": report}

    async def _mentions_gone(self, comment_ids: list[str]) -> None:
        """Deleted comments: nothing of them stays in anyone's inbox (mentions.py)."""
        if self.mentions is not None:
            await self.mentions.forget(comment_ids)

    def _new_comment(
        self, actor: Actor, thread_id: str, doc_id: str, text: str, now: str
    ) -> dict[str, Any]:
        return {
            "id": new_id(),
            "doc_id": doc_id,
            "thread_id": thread_id,
            "author": actor.username,
            "body": text,
            "mentions": parse_mentions(text),
            "created": now,
            "edited": None,
        }

    async def _delete_thread(
        self, actor: Actor, doc_id: str, thread: dict[str, Any], comment_id: str | None
    ) -> None:
        if not await self.store.delete_comment_thread(doc_id, thread["id"]):
            raise NotFound("comment thread not found")
        await self._mentions_gone([c["id"] for c in thread["comments"]])
        self.audit.emit(
            "comment.deleted",
            actor,
            doc_id,
            thread_id=thread["id"],
            comment_id=comment_id,
            thread_deleted=True,
            comments=len(thread["comments"]),
        )
        self.events.publish(
            doc_id,
            {
                "type": "comments",
                "event": "thread.deleted",
                "document_id": doc_id,
                "thread_id": thread["id"],
                "thread": None,
            },
        )

    def _may_delete(self, actor: Actor, doc_id: str, role: str, author: str, what: str) -> None:
        if can(role, Permission.MODERATE_COMMENTS):
            return
        if author == actor.username and can(role, Permission.COMMENT):
            return
        self._refuse(
            actor, doc_id, f"delete_{what}", role, f"only its author or an owner deletes a {what}"
        )

    def _refuse(self, actor: Actor, doc_id: str, attempted: str, role: str, why: str) -> None:
        self.audit.emit("access.denied", actor, doc_id, attempted=attempted, role=role)
        raise Forbidden(why)

    async def _thread(self, doc_id: str, thread_id: str) -> dict[str, Any]:
        if THREAD_ID.fullmatch(thread_id):
            for thread in await self.store.list_comment_threads(doc_id):
                if thread["id"] == thread_id:
                    return thread
        raise NotFound("comment thread not found")

    @staticmethod
    def _comment(thread: dict[str, Any], comment_id: str) -> dict[str, Any]:
        for comment in thread["comments"]:
            if comment["id"] == comment_id:
                return comment
        raise NotFound("comment not found")

    async def _view(self, record: DocumentRecord) -> DocumentView:
        room = await self.documents.live_room(record)
        return DocumentView(room.doc, record.type)

    async def display_names(self, threads: Iterable[dict[str, Any]]) -> dict[str, str]:
        """The display names of everyone the threads show, looked up once per answer
        (the directory's in standalone mode; usernames elsewhere)."""
        people = set().union(*(people_named(t) for t in threads))
        if self.mentions is None or not people:
            return {}
        return await self.mentions.people.display_names(sorted(people))

    async def _changed(
        self, doc_id: str, event: str, thread: dict[str, Any], view: DocumentView
    ) -> dict[str, Any]:
        model = thread_model(thread, view, await self.display_names([thread]))
        self.events.publish(
            doc_id,
            {
                "type": "comments",
                "event": event,
                "document_id": doc_id,
                "thread_id": thread["id"],
                "thread": model,
            },
        )
        return model
