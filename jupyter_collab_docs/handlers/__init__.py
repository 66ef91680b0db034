"""The extension's Tornado handlers, one module per resource."""

from __future__ import annotations

from typing import Any

from .activity import ActivityHandler
from .comments import (
    ThreadCommentHandler,
    ThreadCommentsHandler,
    ThreadHandler,
    ThreadsHandler,
)
from .content import ContentHandler
from .documents import DocumentHandler, DocumentsHandler
from .health import HealthHandler, LiveHandler, ReadyHandler
from .inbox import InboxHandler, InboxReadAllHandler, InboxReadHandler, ReadersHandler
from .me import MeHandler
from .principals import PrincipalsHandler
from .rooms import RoomHandler
from .shares import ShareHandler, SharesHandler
from .suggestions import SuggestionAcceptHandler, SuggestionRejectHandler
from .trash import TrashedDocumentHandler, TrashHandler, TrashRestoreHandler
from .versions import CompareHandler, RestoreHandler, VersionsHandler
from .webapp import (
    WebAppExampleHandler,
    WebAppPageHandler,
    WebAppRedirectHandler,
    WebAppStaticHandler,
)

DOC_ID = r"(?P<doc_id>[^/]+)"
THREAD_ID = r"(?P<thread_id>[^/]+)"


def handlers() -> list[tuple[str, Any]]:
    """URL patterns relative to the server's base_url."""
    api = r"/api/collab-docs"
    return [
        (rf"{api}/me", MeHandler),
        (rf"{api}/health", HealthHandler),
        (rf"{api}/live", LiveHandler),
        (rf"{api}/ready", ReadyHandler),
        (rf"{api}/documents/?", DocumentsHandler),
        (rf"{api}/documents/{DOC_ID}", DocumentHandler),
        (rf"{api}/documents/{DOC_ID}/content", ContentHandler),
        (rf"{api}/documents/{DOC_ID}/versions/?", VersionsHandler),
        (rf"{api}/documents/{DOC_ID}/versions/compare", CompareHandler),
        (rf"{api}/documents/{DOC_ID}/versions/(?P<version_id>[^/]+)/restore", RestoreHandler),
        (rf"{api}/documents/{DOC_ID}/shares/?", SharesHandler),
        (rf"{api}/documents/{DOC_ID}/activity", ActivityHandler),
        (rf"{api}/documents/{DOC_ID}/shares/(?P<principal>[^/]+)", ShareHandler),
        (rf"{api}/documents/{DOC_ID}/threads/?", ThreadsHandler),
        (rf"{api}/documents/{DOC_ID}/threads/{THREAD_ID}", ThreadHandler),
        (rf"{api}/documents/{DOC_ID}/threads/{THREAD_ID}/comments/?", ThreadCommentsHandler),
        (
            rf"{api}/documents/{DOC_ID}/threads/{THREAD_ID}/comments/(?P<comment_id>[^/]+)",
            ThreadCommentHandler,
        ),
        (rf"{api}/documents/{DOC_ID}/threads/{THREAD_ID}/accept", SuggestionAcceptHandler),
        (rf"{api}/documents/{DOC_ID}/threads/{THREAD_ID}/reject", SuggestionRejectHandler),
        (rf"{api}/documents/{DOC_ID}/readers", ReadersHandler),
        (rf"{api}/principals", PrincipalsHandler),
        (rf"{api}/inbox/?", InboxHandler),
        (rf"{api}/inbox/read", InboxReadAllHandler),
        (rf"{api}/inbox/(?P<note_id>[^/]+)/read", InboxReadHandler),
        (rf"{api}/trash/?", TrashHandler),
        (rf"{api}/trash/{DOC_ID}", TrashedDocumentHandler),
        (rf"{api}/trash/{DOC_ID}/restore", TrashRestoreHandler),
        (rf"{api}/rooms/{DOC_ID}", RoomHandler),
        # The web page: public shell and assets, no data (see handlers/webapp.py).
        (r"/collab-docs", WebAppRedirectHandler),
        (r"/collab-docs/", WebAppPageHandler),
        (r"/collab-docs/example\.html", WebAppExampleHandler),
        (r"/collab-docs/static/(.*)", WebAppStaticHandler),
    ]


__all__ = [
    "ActivityHandler",
    "CompareHandler",
    "ContentHandler",
    "DocumentHandler",
    "DocumentsHandler",
    "InboxHandler",
    "InboxReadAllHandler",
    "InboxReadHandler",
    "LiveHandler",
    "MeHandler",
    "PrincipalsHandler",
    "ReadersHandler",
    "ReadyHandler",
    "RestoreHandler",
    "RoomHandler",
    "ShareHandler",
    "SharesHandler",
    "SuggestionAcceptHandler",
    "SuggestionRejectHandler",
    "ThreadCommentHandler",
    "ThreadCommentsHandler",
    "ThreadHandler",
    "ThreadsHandler",
    "TrashHandler",
    "TrashRestoreHandler",
    "TrashedDocumentHandler",
    "VersionsHandler",
    "WebAppExampleHandler",
    "WebAppPageHandler",
    "WebAppRedirectHandler",
    "WebAppStaticHandler",
    "handlers",
]
