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
from .rooms import RoomManager
from .users import USERNAME_PATTERN

PRINCIPAL = re.compile(r"^(user|group):(.+)$")


def validate_principal(principal: str) -> str:
    if principal == LINK:
        return principal
    match = PRINCIPAL.match(principal)
    if not match or not USERNAME_PATTERN.match(match.group(2)):
        shown = principal if len(principal) <= 80 else principal[:80] + "..."
        raise BadRequest(f"invalid principal {shown!r}: use user:NAME, group:NAME or link")
    return principal


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
    ):
        self.documents = documents
        self.access = access
        self.rooms = rooms
        #: User and group shares a document may have (0: no cap); everyone is held to it.
        self.max_shares_per_document = max_shares_per_document

    async def shares(self, actor: Actor, doc_id: str, link: str | None) -> list[dict[str, str]]:
        record, _ = await self.documents.role(actor, doc_id, link)
        return [
            {"principal": s.principal, "role": s.role} for s in await self.access.shares(record)
        ]

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
