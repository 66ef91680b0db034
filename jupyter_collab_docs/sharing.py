"""SharingService: who a document is shared with, changed under the policy's rules.

Every change re-checks the live sockets of the document, so a revoked or lowered share
closes its sockets with 4403 at once (they reconnect with the new role).
"""

from __future__ import annotations

import re
from typing import Any

from .acl import LINK, ROLES, AccessService, Permission, ShareLimitReached, can, can_grant
from .documents import DocumentService
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .identity import Actor
from .principals import ExternalPrincipals, Principals
from .rooms import RoomManager
from .users import USERNAME_PATTERN

PRINCIPAL = re.compile(r"^(user|group):(.+)$")
#: Names a completion answers at most, and the longest prefix it takes: a share dialog
#: needs a few names, not a way to list the directory.
COMPLETION_LIMIT = 10
COMPLETION_MAX_PREFIX = 64
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_principal(principal: str) -> str:
    if principal == LINK:
        return principal
    match = PRINCIPAL.match(principal)
    if not match or not USERNAME_PATTERN.match(match.group(2)):
        shown = principal if len(principal) <= 80 else principal[:80] + "..."
        raise BadRequest(f"invalid principal {shown!r}: use user:NAME, group:NAME or link")
    return principal


def completion_query(query: str | None) -> tuple[tuple[str, ...], str]:
    """``PREFIX``, ``user:PREFIX`` or ``group:PREFIX`` as (kinds, prefix), or 400."""
    kinds: tuple[str, ...] = ("user", "group")
    prefix = query or ""
    for kind in kinds:
        if prefix.startswith(f"{kind}:"):
            kinds, prefix = (kind,), prefix[len(kind) + 1 :]
            break
    if not prefix or len(prefix) > COMPLETION_MAX_PREFIX or CONTROL.search(prefix):
        raise BadRequest(
            f"'q' must be the first 1 to {COMPLETION_MAX_PREFIX} characters of a name "
            "(optionally after user: or group:)"
        )
    return kinds, prefix


def validate_role(principal: str, role: Any) -> str:
    if role not in ROLES:
        raise BadRequest(f"'role' must be one of {', '.join(ROLES)}")
    if principal == LINK and role == "owner":
        raise BadRequest("a share link cannot make its holders owners")
    return str(role)


class SharingService:
    def __init__(
        self,
        documents: DocumentService,
        access: AccessService,
        rooms: RoomManager,
        *,
        max_shares_per_document: int = 0,
        principals: Principals | None = None,
    ):
        self.documents = documents
        self.access = access
        self.rooms = rooms
        #: Who exists to be shared with (default: any well-formed name, as in JupyterHub).
        self.principals: Principals = principals or ExternalPrincipals()
        #: User and group shares a document may have (0: no cap); everyone is held to it.
        self.max_shares_per_document = max_shares_per_document

    async def shares(self, actor: Actor, doc_id: str, link: str | None) -> list[dict[str, str]]:
        record, _ = await self.documents.role(actor, doc_id, link)
        return [
            {"principal": s.principal, "role": s.role} for s in await self.access.shares(record)
        ]

    async def complete(self, actor: Actor, query: str | None) -> dict[str, Any]:
        """Users and groups a share dialog may offer for what was typed (``query``)."""
        kinds, prefix = completion_query(query)
        found = await self.principals.complete(actor, prefix, kinds, COMPLETION_LIMIT)
        return {"principals": found[:COMPLETION_LIMIT], "directory": self.principals.directory}

    async def grant(
        self, actor: Actor, doc_id: str, principal: str, role: Any, link: str | None
    ) -> dict[str, str]:
        principal = validate_principal(principal)  # before anything is looked up
        record, mine = await self.documents.role(actor, doc_id, link)
        role = validate_role(principal, role)
        if not can(mine, Permission.SHARE):
            raise Forbidden(f"your role '{mine}' does not allow sharing")
        if principal == f"user:{record.owner}":
            raise Conflict("the document's creator always owns it")
        current = {s.principal: s.role for s in await self.access.shares(record)}.get(principal)
        if not can_grant(mine, role, current):
            raise Forbidden(f"your role '{mine}' may share up to editor, not change owners")
        # Only once the caller may share: nobody else learns which names exist this way.
        if principal != LINK and (unknown := await self.principals.missing(principal)):
            raise NotFound(unknown)
        try:
            token = await self.access.grant(
                doc_id, principal, role, actor.username, self.max_shares_per_document
            )
        except ShareLimitReached as exc:
            raise Forbidden(
                f"the document already has {exc.count} shares, the most allowed "
                f"(max_shares_per_document); remove one first"
            ) from None
        kind = "share.granted" if current is None else "share.changed"
        self.documents.audit.emit(
            kind, actor, doc_id, principal=principal, role=role, previous_role=current
        )
        await self.rooms.access_changed(doc_id)  # here and on every other node
        share = {"principal": principal, "role": role}
        if token is not None:
            share["token"] = token
        return share

    async def revoke(self, actor: Actor, doc_id: str, principal: str, link: str | None) -> None:
        principal = validate_principal(principal)  # before anything is looked up
        record, mine = await self.documents.role(actor, doc_id, link)
        if not can(mine, Permission.SHARE):
            raise Forbidden(f"your role '{mine}' does not allow sharing")
        if principal == f"user:{record.owner}":
            raise Conflict("the document's creator always owns it")
        current = {s.principal: s.role for s in await self.access.shares(record)}.get(principal)
        if current is None:
            raise NotFound("no such share")
        if not can_grant(mine, current, current):
            raise Forbidden(f"your role '{mine}' cannot remove an owner")
        await self.access.revoke(doc_id, principal)
        self.documents.audit.emit(
            "share.revoked", actor, doc_id, principal=principal, previous_role=current
        )
        await self.rooms.access_changed(doc_id)  # here and on every other node
