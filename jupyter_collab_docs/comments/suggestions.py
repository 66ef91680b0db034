"""Suggestions: a thread that proposes a change instead of making it (docs/comments.md,
"Suggestions").

A suggestion replaces the thread's anchored text (a range of a text document or of a
cell's source) or, on a ``cell`` anchor, the cell's whole source, with new text. Anyone
who may comment may suggest. An editor or the owner accepts it: the server makes the
change in the live document through the room, as a server change attributed to the
suggester (so versions and compare count it as theirs), and every client and node gets it
like any edit. Or they reject it (the suggester may withdraw their own): nothing changes.

A suggestion applies only while its text is exactly what it replaced when it was made
(``original``): once someone edits inside it, or deletes it, it says so (``applies``
false, ``why``) and accepting it answers 409 with nothing changed.

Two accepts at once, on one node or two, cannot both apply: the store flips the status
from pending only once (``expect``); the winner then checks the text again and applies
the change in the same loop turn, and puts the status back if the text changed between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from pycrdt import Array, Doc, Map, Text

from ..acl import Permission, can
from ..errors import BadRequest, Conflict, TooLarge, Unavailable
from ..identity import Actor
from ..rooms.state import RoomLoadError
from ..timeutil import iso_time, utc_now
from ..update_guard import UpdateRefused, UpdateTooLarge
from .anchors import DocumentView, resolve_anchor

if TYPE_CHECKING:
    from .service import CommentService

MAX_SUGGESTION = 10_000  # characters of the proposed text, and of the text it replaces
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
FIELDS = ("text",)


class NotApplicable(Exception):
    """The suggestion no longer applies cleanly; the message says why."""


# Two units of text position: an anchor resolves (pycrdt's StickyIndex, as in Yjs) to
# UTF-16 code units, while pycrdt's Text is sliced, inserted into and measured in UTF-8
# bytes. Python strings count neither: every conversion goes through these helpers.


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _utf16_slice(text: str, start: int, end: int) -> str:
    return _utf16(text)[2 * start : 2 * end].decode("utf-16-le", errors="replace")


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


#: The texts a view's suggestions read, as UTF-16, made once per view (a list of many
#: suggestions on a long text would otherwise copy the text out of the doc for each).
_READ: WeakKeyDictionary[DocumentView, dict[str, bytes]] = WeakKeyDictionary()


def _units(view: DocumentView, key: str, text: Text) -> bytes:
    read = _READ.setdefault(view, {})
    if key not in read:
        read[key] = _utf16(str(text))
    return read[key]


def _target(anchor: dict[str, Any], view: DocumentView) -> tuple[Text, str, int, int]:
    """The text a suggestion on ``anchor`` replaces now, what it is now, and its range
    (UTF-16 units); NotApplicable when it is gone."""
    if anchor["kind"] == "text":
        text = view.text()
        where = resolve_anchor(anchor, view)
        if not where.attached or where.start is None or where.end is None:
            raise NotApplicable("the text it replaces is gone (the anchor is detached)")
        return (
            text,
            _segment(_units(view, "", text), where.start, where.end),
            where.start,
            where.end,
        )
    found = view.cell(anchor["cell_id"])
    source = view.cell_source(found[1]) if found is not None else None
    if source is None:
        raise NotApplicable("the cell it changes is gone")
    units = _units(view, anchor["cell_id"], source)
    if anchor["kind"] == "cell":
        return source, _segment(units, 0, len(units) // 2), 0, len(units) // 2
    where = resolve_anchor(anchor, view)
    if not where.attached or where.start is None or where.end is None:
        raise NotApplicable("the text it replaces is gone (the anchor is detached)")
    return source, _segment(units, where.start, where.end), where.start, where.end


def _segment(units: bytes, start: int, end: int) -> str:
    return units[2 * start : 2 * end].decode("utf-16-le", errors="replace")


def make_suggestion(raw: Any, anchor: dict[str, Any], view: DocumentView) -> dict[str, Any]:
    """The stored suggestion of a new thread on ``anchor`` (already made from ``view``);
    400 when it is not a proposed change of that text."""
    if not isinstance(raw, dict):
        raise BadRequest("'suggestion' must be an object: {\"text\": the proposed text}")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise BadRequest(f"'suggestion' has unknown field(s): {', '.join(unknown)}")
    text = raw.get("text")
    if not isinstance(text, str):
        raise BadRequest("'suggestion.text' must be a string (empty: delete the text)")
    if len(text) > MAX_SUGGESTION:
        raise BadRequest(f"'suggestion.text' is longer than {MAX_SUGGESTION} characters")
    if any(ord(c) < 32 and c not in "\n\t\r" for c in text):
        raise BadRequest("'suggestion.text' must not contain control characters but newlines")
    try:
        _, original, _, _ = _target(anchor, view)
    except NotApplicable as exc:  # not reached: the anchor was just made from this view
        raise BadRequest(str(exc)) from exc
    if len(original) > MAX_SUGGESTION:
        raise BadRequest(
            f"the text to replace is longer than {MAX_SUGGESTION} characters: suggest on a range"
        )
    if text == original:
        raise BadRequest("the suggestion changes nothing: its text is the anchored text")
    return {
        "text": text,
        "original": original,
        "status": PENDING,
        "decided_by": None,
        "decided_at": None,
    }


def check(thread: dict[str, Any], view: DocumentView) -> tuple[Text, int, int]:
    """Where a pending suggestion applies now; NotApplicable (why) when it does not."""
    suggestion = thread["suggestion"]
    if suggestion["status"] != PENDING:
        raise NotApplicable(f"the suggestion was already {suggestion['status']}")
    text, now, start, end = _target(thread["anchor"], view)
    if now != suggestion["original"]:
        raise NotApplicable("the text it replaces changed since the suggestion was made")
    return text, start, end


def suggestion_model(thread: dict[str, Any], view: DocumentView) -> dict[str, Any]:
    """The thread's ``suggestion`` in the API (docs/openapi.yaml ``Suggestion``)."""
    suggestion = thread["suggestion"]
    try:
        check(thread, view)
        applies, why = True, None
    except NotApplicable as exc:
        applies, why = False, str(exc)
    return {
        "text": suggestion["text"],
        "original": suggestion["original"],
        "status": suggestion["status"],
        "decided_by": suggestion["decided_by"],
        "decided_at": suggestion["decided_at"],
        "applies": applies,
        "why": why,
    }


def change_update(doc: Doc[Any], doc_type: str, thread: dict[str, Any]) -> bytes:
    """The Yjs update that makes the suggested change in ``doc`` (made on a copy: the
    room applies it). Only the part that differs is deleted and inserted, so the text
    around it, and the anchors in it, stay."""
    view = DocumentView(doc, doc_type)
    text, start, _ = check(thread, view)
    old, new = thread["suggestion"]["original"], thread["suggestion"]["text"]
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    # pycrdt edits a Text at UTF-8 byte offsets
    at = _utf8_length(_utf16_slice(str(text), 0, start) + old[:head])
    removed = _utf8_length(old[head : len(old) - tail])
    inserted = new[head : len(new) - tail]
    work: Doc[Any] = Doc()
    work.apply_update(doc.get_update())
    if doc_type == "file":
        target = work.get("source", type=Text)
    else:
        index = view.cell(thread["anchor"]["cell_id"])
        assert index is not None  # check() found it
        cell = work.get("cells", type=Array)[index[0]]
        assert isinstance(cell, Map)
        target = cell["source"]
    assert str(target) == str(text)  # the copy holds the same text
    with work.transaction():
        if removed:
            del target[at : at + removed]
        if inserted:
            target.insert(at, inserted)
    return work.get_update(doc.get_state())


class SuggestionService:
    """Accepting and rejecting suggestions, on the comment service's threads."""

    def __init__(self, comments: CommentService) -> None:
        self.comments = comments

    async def accept(
        self, actor: Actor, doc_id: str, thread_id: str, link: str | None = None
    ) -> dict[str, Any]:
        """Apply the suggestion as the suggester's change and resolve the thread (editors
        and owners); 409 when it no longer applies, with nothing changed."""
        comments = self.comments
        record, role = await comments.documents.role(actor, doc_id, link)
        if not can(role, Permission.WRITE):
            comments._refuse(
                actor, doc_id, "accept_suggestion", role, "only editors and owners accept"
            )
        thread = await self._pending(doc_id, thread_id)
        room = await comments.documents.live_room(record)
        try:
            check(thread, DocumentView(room.doc, record.type))
        except NotApplicable as exc:
            raise Conflict(f"the suggestion does not apply: {exc}") from exc
        fields = self._decided(thread, actor, ACCEPTED)
        await self._claim(doc_id, thread_id, fields)
        try:
            # After the claim's await the text may have changed: check and apply now, in
            # one loop turn, so nothing can come in between.
            update = change_update(room.doc, record.type, thread)
            room.apply_server_update(update, thread["author"])
        except (NotApplicable, UpdateRefused, RoomLoadError) as exc:
            await self._unclaim(doc_id, thread_id, thread)
            if isinstance(exc, NotApplicable):
                raise Conflict(f"the suggestion does not apply: {exc}") from exc
            if isinstance(exc, UpdateTooLarge):
                raise TooLarge(f"the change is too large: {exc}") from exc
            if isinstance(exc, RoomLoadError):
                raise Unavailable(f"the document could not be changed: {exc}") from exc
            raise BadRequest(f"the change was refused: {exc}") from exc
        await room.flush()  # answer once the change is durable
        thread.update(fields)
        comments.audit.emit(
            "suggestion.accepted",
            actor,
            doc_id,
            thread_id=thread_id,
            suggested_by=thread["author"],
            bytes=len(update),
        )
        view = DocumentView(room.doc, record.type)
        return await comments._changed(doc_id, "thread.updated", thread, view)

    async def reject(
        self, actor: Actor, doc_id: str, thread_id: str, link: str | None = None
    ) -> dict[str, Any]:
        """Turn the suggestion down and resolve the thread (editors and owners, or the
        suggester, who withdraws it); the document does not change."""
        comments = self.comments
        record, role = await comments.documents.role(actor, doc_id, link)
        if not can(role, Permission.WRITE):
            if not can(role, Permission.COMMENT):
                self._refuse_reject(actor, doc_id, role)
            thread = await comments._thread(doc_id, thread_id)
            if thread["author"] != actor.username:
                self._refuse_reject(actor, doc_id, role)
        thread = await self._pending(doc_id, thread_id)
        fields = self._decided(thread, actor, REJECTED)
        await self._claim(doc_id, thread_id, fields)
        thread.update(fields)
        comments.audit.emit(
            "suggestion.rejected",
            actor,
            doc_id,
            thread_id=thread_id,
            suggested_by=thread["author"],
        )
        return await comments._changed(
            doc_id, "thread.updated", thread, await comments._view(record)
        )

    # -- helpers -------------------------------------------------------------------------

    def _refuse_reject(self, actor: Actor, doc_id: str, role: str) -> None:
        self.comments._refuse(
            actor,
            doc_id,
            "reject_suggestion",
            role,
            "only editors, owners and the suggester reject a suggestion",
        )

    async def _pending(self, doc_id: str, thread_id: str) -> dict[str, Any]:
        thread = await self.comments._thread(doc_id, thread_id)
        suggestion = thread.get("suggestion")
        if not isinstance(suggestion, dict):
            raise BadRequest("this thread carries no suggestion")
        if suggestion["status"] != PENDING:
            raise Conflict(f"the suggestion was already {suggestion['status']}")
        return thread

    @staticmethod
    def _decided(thread: dict[str, Any], actor: Actor, status: str) -> dict[str, Any]:
        now = iso_time(utc_now())
        decided = {**thread["suggestion"], "status": status}
        decided.update(decided_by=actor.username, decided_at=now)
        return {
            "suggestion": decided,
            "resolved": True,
            "resolved_by": actor.username,
            "resolved_at": now,
        }

    async def _claim(self, doc_id: str, thread_id: str, fields: dict[str, Any]) -> None:
        """Record the decision, only if nobody decided meanwhile (on any node)."""
        store = self.comments.store
        if await store.update_comment_thread(
            doc_id, thread_id, fields, expect={"suggestion.status": PENDING}
        ):
            return
        await self._pending(doc_id, thread_id)  # 404 if gone, 409 if decided meanwhile
        raise Conflict("the suggestion was decided meanwhile")  # pending again: undone

    async def _unclaim(self, doc_id: str, thread_id: str, thread: dict[str, Any]) -> None:
        """Undo a claim whose change could not be made: pending again, as it was."""
        before = {
            key: thread[key] for key in ("suggestion", "resolved", "resolved_by", "resolved_at")
        }
        await self.comments.store.update_comment_thread(
            doc_id, thread_id, before, expect={"suggestion.status": ACCEPTED}
        )
