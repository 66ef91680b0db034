"""Errors the services raise. Like Jupyter's contents manager they are Tornado
``HTTPError``s, so ``APIHandler`` answers them as ``{"message": ...}`` bodies
(docs/openapi.yaml)."""

from __future__ import annotations

from tornado.web import HTTPError


class CollabDocsError(HTTPError):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(self.status, message)
        self.message = message


class BadRequest(CollabDocsError):
    status = 400


class Forbidden(CollabDocsError):
    status = 403


class NotFound(CollabDocsError):
    status = 404

    def __init__(self, message: str = "document not found") -> None:
        super().__init__(message)


class Conflict(CollabDocsError):
    status = 409


class TooLarge(CollabDocsError):
    status = 413


class Unavailable(CollabDocsError):
    status = 503


class StartError(CollabDocsError):
    """The extension's services are not running: still starting, or their start failed."""

    status = 503
