"""``GET api/collab-docs/health``: is this node able to serve documents? And the two
probes a load balancer or Kubernetes calls without a token.

``health`` checks the document store, the access database, the cluster bus and the audit
trail, and names the reason the services failed to start, if they did (``checks.start``).
200 ``{"status": "ok"}`` when all are, 503 ``{"status": "degraded"}`` otherwise;
administrators also get the node id and each check's details (never credentials).

``live`` answers 200 as long as the process serves HTTP (a failing backend must not get
the node restarted). ``ready`` runs the same checks and answers 200 ``{"status": "ready"}``
or 503 ``{"status": "not ready"}`` (also before the services started) or
``{"status": "draining"}`` (the node was told to stop): nothing else, since anyone may
call it. Both are open to anonymous callers, in the standalone server's confinement too
(``authorizer.OPEN_TO_USERS``).

A probe's own 503 is its answer, not a server error: the request log writes it as a
warning (not ready) or as information (draining) rather than at Jupyter's level for any
5xx, error, which would page someone for every probe of a node being drained.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .. import __version__
from .base import AUTH_RESOURCE, SETTINGS_KEY, CollabDocsHandler

if TYPE_CHECKING:
    from ..app import CollabDocsApp

CHECK_TIMEOUT = 3.0
PROBE_ID = "00000000000000000000000000000000"  # a document id that never exists


async def _timed(probe: Any) -> dict[str, Any]:
    """Run one probe (a coroutine) with a timeout: ``{"ok", "latency_ms"[, "error"]}``."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except asyncio.TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT:g} s"}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def _audit_status(audit: Any) -> dict[str, Any]:
    status = getattr(audit, "status", None)
    if not callable(status):
        return {"ok": True}
    try:
        result = status()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if isinstance(result, dict):
        return {"ok": bool(result.get("ok", True)), **result}
    return {"ok": bool(result)}


async def check(collab: CollabDocsApp) -> dict[str, Any]:
    """Every check of one node, run concurrently."""
    store, access, audit = await asyncio.gather(
        _timed(collab.store.get(PROBE_ID)),
        _timed(collab.users.lookup("collab-docs-health-probe")),
        _audit_status(collab.audit),
    )
    cluster = dict(collab.cluster.status())
    cluster["ok"] = bool(cluster.get("ok", True))
    rooms = collab.rooms.totals()
    failed: dict[str, Any] = {}
    if collab.failure is not None:  # its start failed: the checks alone may not say why
        failed = {"start": {"ok": False, "error": collab.failure}}
    return {
        **failed,
        "store": store,
        "access_database": access,
        "cluster": cluster,
        "audit": audit,
        "rooms": {"ok": True, **dataclasses.asdict(rooms)},
    }


class HealthHandler(CollabDocsHandler):
    wait_for_start = False  # it reports on the services, started or not

    @web.authenticated
    @authorized
    async def get(self) -> None:
        checks = await check(self.collab)
        ok = all(c["ok"] for c in checks.values())
        body: dict[str, Any] = {"status": "ok" if ok else "degraded"}
        actor = await self.actor()
        if actor.is_admin:
            body.update(node=self.collab.node_id, version=__version__, checks=checks)
        self.reply(body, 200 if ok else 503)


class _AnswerLog(logging.LoggerAdapter[logging.Logger]):
    """The server's log, with its error lines written at ``level``: what Jupyter's request
    log (``jupyter_server.log.log_request``) uses for a probe that answered 503."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        super().__init__(logger, {})
        self.answer_level = level

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level >= logging.ERROR:
            level = self.answer_level
        # the record names the request log's line, not this one
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        super().log(level, msg, *args, **kwargs)


# The request log's level for a probe's 503, by its status.
ANSWER_LEVELS = {"draining": logging.INFO, "not ready": logging.WARNING}


class ProbeHandler(JupyterHandler):
    """Anonymous, GET and HEAD only, never cached, a status and nothing more."""

    SUPPORTED_METHODS = ("GET", "HEAD")  # type: ignore[assignment]
    auth_resource = AUTH_RESOURCE
    answered = ""  # the status this request answered, once it did

    @property
    def log(self) -> logging.Logger:
        logger = super().log
        level = ANSWER_LEVELS.get(self.answered)
        if level is None or self.get_status() != 503:
            return logger
        # Duck-typed: Jupyter's request log only calls its level methods.
        return _AnswerLog(logger, level)  # type: ignore[return-value]

    @property
    def collab(self) -> CollabDocsApp:
        return self.settings[SETTINGS_KEY]  # type: ignore[no-any-return]

    async def status(self) -> tuple[int, str]:
        raise NotImplementedError

    def check_xsrf_cookie(self) -> None:
        return None  # GET and HEAD only: nothing to forge

    @allow_unauthenticated
    async def get(self) -> None:
        code, self.answered = await self.status()
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": self.answered}))

    @allow_unauthenticated
    async def head(self) -> None:
        code, self.answered = await self.status()
        self.set_status(code)
        self.set_header("Cache-Control", "no-store")
        self.finish()


class LiveHandler(ProbeHandler):
    """``GET api/collab-docs/live``: the process answers."""

    async def status(self) -> tuple[int, str]:
        return 200, "ok"


class ReadyHandler(ProbeHandler):
    """``GET api/collab-docs/ready``: this node can take work now."""

    async def status(self) -> tuple[int, str]:
        collab = self.collab
        if collab.draining:
            return 503, "draining"
        if not collab.started:
            return 503, "not ready"
        checks = await check(collab)
        if all(c["ok"] for c in checks.values()) and not collab.draining:
            return 200, "ready"
        return 503, "not ready"
