"""``documents/{id}/threads``: comment threads, their comments, resolving (docs/comments.md)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CollabDocsHandler

TRUE = ("1", "true", "yes")


class ThreadsHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str) -> None:
        threads = await self.collab.comments.list_threads(
            await self.actor(),
            doc_id,
            self.link_token,
            status=self.get_argument("status", None),
            mine=self.get_argument("mine", "").lower() in TRUE,
            mentioning_me=self.get_argument("mentioning_me", "").lower() in TRUE,
        )
        self.reply({"threads": threads})

    @web.authenticated
    @authorized
    async def post(self, doc_id: str) -> None:
        body = self.json_object("anchor", "body")
        thread = await self.collab.comments.create_thread(
            await self.actor(),
            doc_id,
            body["anchor"],
            body["body"],
            self.link_token,
            suggestion=body.get("suggestion"),  # a proposed change (suggestions.py)
        )
        self.reply(thread, 201)


class ThreadHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def get(self, doc_id: str, thread_id: str) -> None:
        thread = await self.collab.comments.get_thread(
            await self.actor(), doc_id, thread_id, self.link_token
        )
        self.reply(thread)

    @web.authenticated
    @authorized
    async def patch(self, doc_id: str, thread_id: str) -> None:
        body = self.json_object("resolved")
        thread = await self.collab.comments.set_resolved(
            await self.actor(), doc_id, thread_id, body["resolved"], self.link_token
        )
        self.reply(thread)

    @web.authenticated
    @authorized
    async def delete(self, doc_id: str, thread_id: str) -> None:
        await self.collab.comments.delete_thread(
            await self.actor(), doc_id, thread_id, self.link_token
        )
        self.set_status(204)
        self.finish()


class ThreadCommentsHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def post(self, doc_id: str, thread_id: str) -> None:
        body = self.json_object("body")
        thread = await self.collab.comments.reply(
            await self.actor(), doc_id, thread_id, body["body"], self.link_token
        )
        self.reply(thread, 201)


class ThreadCommentHandler(CollabDocsHandler):
    @web.authenticated
    @authorized
    async def patch(self, doc_id: str, thread_id: str, comment_id: str) -> None:
        body = self.json_object("body")
        thread = await self.collab.comments.edit_comment(
            await self.actor(), doc_id, thread_id, comment_id, body["body"], self.link_token
        )
        self.reply(thread)

    @web.authenticated
    @authorized
    async def delete(self, doc_id: str, thread_id: str, comment_id: str) -> None:
        thread = await self.collab.comments.delete_comment(
            await self.actor(), doc_id, thread_id, comment_id, self.link_token
        )
        if thread is None:  # the thread's first comment: the thread went with it
            self.set_status(204)
            self.finish()
        else:
            self.reply(thread)
