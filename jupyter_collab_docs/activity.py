"""The activity feed in people's words: each audit event as one plain sentence ("Alice
restored “before cleanup”"), its category for the feed's filters, and the filters.

Sentences name people by their display names and objects by their names (version labels,
share targets, old and new names). They are plain text, never markup: a display name or a
document name may hold anything, and the faces set them as text only.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .acl.database import AccessDatabase
from .acl.names import display_names
from .identity import Actor

#: The feed's filter categories (``kind=``) and the event kinds each one covers.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "editing": ("document.edited", "document.content_replaced", "session.joined", "session.left"),
    "sharing": ("share.granted", "share.changed", "share.revoked"),
    "versions": ("version.created", "version.restored"),
    "lifecycle": (
        "document.created",
        "document.renamed",
        "document.deleted",
        "document.restored",
        "document.purged",
        "document.exported",
    ),
    "comments": (
        "comment.created",
        "comment.edited",
        "comment.deleted",
        "comment.resolved",
        "comment.reopened",
        "suggestion.accepted",
        "suggestion.rejected",
        "comment.mentioned",
    ),
    "access": ("access.denied",),
}
_CATEGORY_OF = {kind: name for name, kinds in CATEGORIES.items() for kind in kinds}
KINDS = tuple(_CATEGORY_OF)

#: A filtered feed looks at no more than this many of the document's newest events.
SCAN_LIMIT = 5000
MAX_ACTOR_LENGTH = 255

_SCHEMA_KIND = re.compile(r"/events/([a-z]+)-([a-z_-]+)/v\d+$")
_REFUSED = {
    "read": "reading it",
    "comment": "commenting",
    "write": "editing",
    "manage_versions": "managing its versions",
    "share": "sharing it",
    "delete": "deleting it",
    "read_activity": "reading the activity",
    "connect": "connecting",
    "resolve_comments": "resolving comments",
    "moderate_comments": "moderating comments",
    "edit_comment": "editing a comment",
    "delete_comment": "deleting a comment",
    "delete_thread": "deleting a comment thread",
    "accept_suggestion": "accepting a suggestion",
    "reject_suggestion": "rejecting a suggestion",
}


class FilterError(ValueError):
    """A filter value that means nothing (the API answers 400 with this message)."""


@dataclass(frozen=True)
class Names:
    """What the sentences call people (username -> display name) and versions (id ->
    label); what is not known here is shown as it is in the event."""

    people: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def person(self, username: str | None, nobody: str = "Someone") -> str:
        if not username:
            return nobody
        return self.people.get(username) or username


def kind_of(event: dict[str, Any]) -> str:
    """``document.renamed``: the event's ``kind``, or read from its ``schema_id``."""
    kind = event.get("kind")
    if isinstance(kind, str) and kind:
        return kind
    match = _SCHEMA_KIND.search(str(event.get("schema_id") or ""))
    return f"{match[1]}.{match[2].replace('-', '_')}" if match else "event"


def category_of(event: dict[str, Any]) -> str:
    return _CATEGORY_OF.get(kind_of(event), "other")


def _quoted(text: Any) -> str:
    return f"“{text}”"


def _target(principal: Any, names: Names) -> str:
    principal = str(principal or "")
    if principal == "link":
        return "anyone who has the link"
    kind, _, name = principal.partition(":")
    if kind == "group":
        return f"the group {name}"
    return names.person(name) if kind == "user" else principal


def _version(event: dict[str, Any], names: Names) -> str | None:
    label = event.get("label")
    if isinstance(label, str) and label:
        return label
    return names.versions.get(str(event.get("version_id") or "")) or None


def describe(event: dict[str, Any], names: Names) -> str:
    """One plain sentence for one audit event."""
    kind = kind_of(event)
    who = names.person(event.get("actor"))
    get = event.get
    if kind == "document.created":
        what = {"notebook": "the notebook ", "file": "the file "}.get(str(get("type")), "")
        return f"{who} created {what}{_quoted(get('name'))}"
    if kind == "document.renamed":
        return f"{who} renamed it from {_quoted(get('old_name'))} to {_quoted(get('new_name'))}"
    if kind == "document.deleted":  # to the trash (docs/sharing.md)
        return f"{who} moved it to the trash"
    if kind == "document.restored":
        return f"{who} restored it from the trash"
    if kind == "document.purged":
        if get("reason") == "retention":
            who = names.person(get("actor"), nobody="The server")
            return f"{who} deleted it for good, after its time in the trash"
        return f"{who} deleted it for good"
    if kind == "document.content_replaced":
        return f"{who} replaced its content"
    if kind == "document.exported":
        label = _version(event, names) if get("version_id") else None
        what = f"the version {_quoted(label)}" if label else "it"
        return f"{who} exported {what} as {get('format')}"
    if kind == "document.edited":
        count = int(get("updates") or 0)
        return f"{who} edited it ({count} change{'' if count == 1 else 's'})"
    if kind == "session.joined":
        return f"{who} opened it as {get('role')}"
    if kind == "session.left":
        return f"{who} closed it"
    if kind == "share.granted":
        return f"{who} shared this with {_target(get('principal'), names)} as {get('role')}"
    if kind == "share.changed":
        target = _target(get("principal"), names)
        return f"{who} changed {target} from {get('previous_role')} to {get('role')}"
    if kind == "share.revoked":
        return f"{who} stopped sharing this with {_target(get('principal'), names)}"
    if kind == "version.created":
        label = get("label")
        if get("auto"):
            who = names.person(get("actor"), nobody="The server")
            return f"{who} kept an automatic version" + (f" {_quoted(label)}" if label else "")
        return f"{who} saved the version {_quoted(label)}" if label else f"{who} saved a version"
    if kind == "version.restored":
        label = _version(event, names)
        return (
            f"{who} restored {_quoted(label)}"
            if label
            else (f"{who} restored a version that is no longer kept")
        )
    if kind.startswith("comment."):
        return _comment(kind, who, event, names)
    if kind in ("suggestion.accepted", "suggestion.rejected"):
        suggester = get("suggested_by")
        if kind == "suggestion.rejected" and suggester == get("actor"):
            return f"{who} withdrew a suggestion"
        verb = "accepted" if kind == "suggestion.accepted" else "rejected"
        return f"{who} {verb} {names.person(suggester, nobody='someone')}'s suggestion"
    if kind == "access.denied":
        attempted = str(get("attempted"))
        return f"{who} was refused {_REFUSED.get(attempted, attempted)}"
    return f"{who}: {kind}"


def _comment(kind: str, who: str, event: dict[str, Any], names: Names) -> str:
    if kind == "comment.created":
        text = (
            f"{who} started a comment thread"
            if event.get("new_thread")
            else f"{who} replied to a comment thread"
        )
        mentions = event.get("mentions") or []
        if isinstance(mentions, list) and mentions:
            text += ", mentioning " + ", ".join(names.person(str(m)) for m in mentions)
        return text
    if kind == "comment.edited":
        return f"{who} edited a comment"
    if kind == "comment.mentioned":
        return f"{who} mentioned {names.person(str(event.get('recipient')))} in a comment"
    if kind == "comment.deleted":
        if event.get("thread_deleted"):
            count = int(event.get("comments") or 0)
            tail = f" ({count} comment{'' if count == 1 else 's'})" if count else ""
            return f"{who} deleted a comment thread{tail}"
        return f"{who} deleted a comment"
    verb = {"comment.resolved": "resolved", "comment.reopened": "reopened"}.get(kind)
    return f"{who} {verb} a comment thread" if verb else f"{who}: {kind}"


# -- filters --------------------------------------------------------------------------------


def _instant(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise FilterError(
            f"'{name}' must be a date and time with its zone, e.g. 2026-11-26T09:00:00Z"
        )
    return when.astimezone(timezone.utc)


@dataclass(frozen=True)
class ActivityFilter:
    """Which events a feed request wants: any of ``actors`` (usernames), any of ``kinds``
    (a category or an event kind), from ``since`` up to ``until`` (both included)."""

    actors: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls, *, actors: Iterable[str], kinds: Iterable[str], since: str | None, until: str | None
    ) -> ActivityFilter:
        wanted: set[str] = set()
        for kind in kinds:
            if kind in CATEGORIES:
                wanted.update(CATEGORIES[kind])
            elif kind in _CATEGORY_OF:
                wanted.add(kind)
            else:
                raise FilterError(
                    f"'kind' must be one of {', '.join(CATEGORIES)} or an event kind "
                    f"({', '.join(KINDS)}), not {kind[:64]!r}"
                )
        people = set(actors)
        for actor in people:
            if not actor or len(actor) > MAX_ACTOR_LENGTH or any(ord(c) < 32 for c in actor):
                raise FilterError(
                    f"'actor' must be a username of 1 to {MAX_ACTOR_LENGTH} characters"
                )
        start, end = _instant("since", since), _instant("until", until)
        if start and end and end < start:
            raise FilterError("'since' must be before 'until'")
        return cls(frozenset(people), frozenset(wanted), start, end)

    @property
    def active(self) -> bool:
        return bool(self.actors or self.kinds or self.since or self.until)

    def matches(self, event: dict[str, Any]) -> bool:
        if self.actors and event.get("actor") not in self.actors:
            return False
        if self.kinds and kind_of(event) not in self.kinds:
            return False
        if self.since or self.until:
            try:
                when = _instant("timestamp", str(event.get("timestamp")))
            except FilterError:
                return False
            assert when is not None
            if (self.since and when < self.since) or (self.until and when > self.until):
                return False
        return True


# -- the feed -------------------------------------------------------------------------------


class _Trail(Protocol):
    async def activity(self, document_id: str, limit: int = 50) -> list[dict[str, Any]]: ...


class _Versions(Protocol):
    async def list_versions(self, doc_id: str) -> Any: ...


#: Display names of many usernames at once: ``{username: name}`` for those known here
#: (the others are shown as usernames). A feed page asks once for all its people.
DisplayNames = Callable[[list[str]], Awaitable[Mapping[str, str]]]


async def no_display_names(usernames: list[str]) -> Mapping[str, str]:
    return {}


def directory_names(db: AccessDatabase, actor: Actor) -> DisplayNames:
    """Names from the access database's users, one query for a page (``acl/names.py``);
    the caller's own from their actor, which is all that is known of anyone under
    JupyterHub (nobody else has a row there, so the rest stay usernames)."""

    async def names(usernames: list[str]) -> dict[str, str]:
        found = await display_names(db, [u for u in usernames if u != actor.username])
        if actor.username in usernames:
            found[actor.username] = actor.display_name
        return found

    return names


async def read_feed(
    trail: _Trail,
    store: _Versions,
    doc_id: str,
    limit: int,
    matching: ActivityFilter,
    display_names: DisplayNames,
) -> tuple[list[dict[str, Any]], bool]:
    """The document's newest ``limit`` events that match, newest first, each with its
    ``summary``, ``category`` and ``actor_name``; and whether older events were not
    looked at (a filtered feed reads at most :data:`SCAN_LIMIT` events)."""
    window = SCAN_LIMIT if matching.active else limit
    events = await trail.activity(doc_id, window)
    kept = [e for e in events if matching.matches(e)][:limit]
    truncated = matching.active and len(events) >= window and len(kept) < limit
    names = await _names(kept, store, doc_id, display_names)
    return [present(event, names) for event in kept], truncated


def present(event: dict[str, Any], names: Names) -> dict[str, Any]:
    """The event as the API shows it: its own fields, then the feed's."""
    actor = event.get("actor")
    return {
        **event,
        "kind": kind_of(event),
        "category": category_of(event),
        "actor_name": names.person(actor) if actor else None,
        "summary": describe(event, names),
    }


async def _names(
    events: list[dict[str, Any]], store: _Versions, doc_id: str, display_names: DisplayNames
) -> Names:
    usernames: set[str] = set()
    unlabelled = False
    for event in events:
        if isinstance(event.get("actor"), str):
            usernames.add(event["actor"])
        principal = event.get("principal")
        if isinstance(principal, str) and principal.startswith("user:"):
            usernames.add(principal[5:])
        if isinstance(event.get("suggested_by"), str):
            usernames.add(event["suggested_by"])
        mentions = event.get("mentions")
        if isinstance(mentions, list):
            usernames.update(m for m in mentions if isinstance(m, str))
        if kind_of(event) in ("version.restored", "document.exported") and not event.get("label"):
            unlabelled = unlabelled or bool(event.get("version_id"))
    ordered = sorted(usernames)
    found = await display_names(ordered) if ordered else {}
    people = {username: found[username] for username in ordered if found.get(username)}
    versions = {}
    if unlabelled:  # events from before the label was recorded: the version's label today
        versions = {v.id: v.label for v in await store.list_versions(doc_id) if v.label}
    return Names(people, versions)
