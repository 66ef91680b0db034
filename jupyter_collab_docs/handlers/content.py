"""``api/collab-docs/documents/{id}/content``: read it (as the content model, or with
``format=file`` as the file to save), or replace it as a CRDT change."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..downloads import MEDIA_TYPES, content_disposition, download_name, file_bytes
from .base import CollabDocsHandler

FORMATS = ("model", "file")


class ContentHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        answer = self.get_argument("format", "model")
        if answer not in FORMATS:
            raise web.HTTPError(400, f"format must be one of {', '.join(FORMATS)}")
        actor = await self.actor()
        version = self.get_argument("version", None)
        if version is not None:
            versions = self.collab.versions
            content = await versions.content(actor, doc_id, version, self.link_token)
        else:
            content = await self.collab.documents.content(actor, doc_id, self.link_token)
        if answer == "model":
            self.reply(content)
            return
        # The same read check as the content's; the name is read after it.
        doc = await self.collab.documents.get(actor, doc_id, self.link_token)
        name = download_name(doc["name"], content["type"])
        # Saved, never shown: the page cannot run what a collaborator wrote.
        self.set_header("Content-Disposition", content_disposition(name))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.finish(
            file_bytes(content["type"], content["content"]),
            set_content_type=MEDIA_TYPES[content["type"]],
        )

    @web.authenticated
    @authorized
    async def put(self, doc_id: str) -> None:
        body = self.json_object("content")
        actor = await self.actor()
        self.reply(
            await self.collab.documents.replace_content(
                actor, doc_id, body["content"], self.link_token
            )
        )
