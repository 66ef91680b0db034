"""Comment threads on documents (docs/comments.md): anchors that follow edits
(:mod:`.anchors`), the service and its rules (:mod:`.service`), live events to open
sockets on every node (:mod:`.live`). Threads are kept by the document store."""

from __future__ import annotations

from .live import MESSAGE_COMMENTS, CommentEvents
from .service import CommentService, parse_mentions

__all__ = ["MESSAGE_COMMENTS", "CommentEvents", "CommentService", "parse_mentions"]
