"""``documents/{id}/activity``: the document's recent audit events, each as a sentence,
filtered by person, kind and time (owners, admins)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..activity import ActivityFilter, FilterError, directory_names
from .base import CollabDocsHandler

MAX_LIMIT = 500


class ActivityHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        try:
            limit = int(self.get_argument("limit", "50"))
        except ValueError as exc:
            raise web.HTTPError(400, "'limit' must be an integer") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise web.HTTPError(400, f"'limit' must be between 1 and {MAX_LIMIT}")
        # Checked before anything is looked up: a bad filter tells nothing of the document.
        try:
            matching = ActivityFilter.parse(
                actors=self.get_arguments("actor", strip=False),
                kinds=[k for value in self.get_arguments("kind") for k in value.split(",")],
                since=self.get_argument("since", None),
                until=self.get_argument("until", None),
            )
        except FilterError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        actor = await self.actor()
        # The page's people are named by one access-database query, not one each.
        names = directory_names(self.collab.users.db, actor)
        events, truncated = await self.collab.documents.activity(
            actor, doc_id, limit, self.link_token, matching=matching, display_names=names
        )
        self.reply({"events": events, "truncated": truncated})
