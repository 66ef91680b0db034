"""Fail fast: an extension that cannot load or start says why, where it will be seen.

Jupyter Server logs an extension's failure to link, load or start as a warning and runs
on without it, so ``jupyter collab-docs`` with a bad ``store_url`` would serve 404 on
every collab-docs URL. Here the reason is logged as an error (credentials removed) and
kept in ``failure``, which the health check reports. When the extension launched the
server itself (``jupyter collab-docs``), the reason is also the last line on stderr and
the process exits with status 1: at once if loading failed, after the server stopped
(its clean-up run) if starting failed.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, ClassVar, cast

from jupyter_server.extension.application import ExtensionApp
from traitlets import TraitError

from . import log_through_server

log = logging.getLogger(__name__)

EXIT_STATUS = 1
_CREDENTIALS = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")


def without_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL masked."""
    return _CREDENTIALS.sub(r"\1:***@", text)


def describe(exc: BaseException) -> str:
    """One line for an exception: a configuration error's own words, else its type too
    (a driver's message over several lines is joined into one)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, TraitError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class FailFastApp(ExtensionApp):
    """An ExtensionApp whose failures to load or start are errors, fatal when it is the
    server (see the module docstring)."""

    failure: str | None = None  # why the extension did not load or start
    _launcher: ClassVar[FailFastApp | None] = None  # the app `jupyter collab-docs` runs

    def fail(self, reason: str) -> None:
        """Record and log why the extension cannot serve; the process exits (status 1)
        if this app launched the server."""
        self.failure = without_credentials(reason)
        if self.serverapp is not None:  # in Jupyter's log format, even before loading
            log_through_server(self.serverapp.log, cast(int, self.serverapp.log_level))
        log.error("%s cannot serve: %s", self.name, self.failure)
        if self is type(self)._launcher and self.serverapp is not None:
            self.serverapp.stop()  # started: launch_instance exits once it has stopped

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        try:
            super()._link_jupyter_server_extension(serverapp)
        except Exception as exc:
            self.serverapp = serverapp
            self.fail(f"invalid configuration: {describe(exc)}")
            raise

    def initialize(self) -> None:  # type: ignore[override]  # as ExtensionApp's
        if self.failure is not None:  # linking failed: the configuration is unusable
            raise RuntimeError(self.failure)
        try:
            super().initialize()
        except Exception as exc:
            self.fail(f"failed to load: {describe(exc)}")
            raise

    @classmethod
    def initialize_server(
        cls, argv: Any = None, load_other_extensions: bool = True, **kwargs: Any
    ) -> Any:
        # Only `jupyter collab-docs` (launch_instance) comes here; inside `jupyter lab`
        # the extension is one of many and the server runs on without it.
        serverapp = super().initialize_server(argv, load_other_extensions, **kwargs)
        app = serverapp.extension_manager.extension_points[cls.name].app
        if app.failure is not None:
            _exit(app.failure)
        cls._launcher = app
        return serverapp

    @classmethod
    def launch_instance(cls, argv: Any = None, **kwargs: Any) -> None:
        super().launch_instance(argv, **kwargs)
        launcher = cls._launcher
        if launcher is not None and launcher.failure is not None:  # its start failed
            _exit(launcher.failure)


def _exit(reason: str) -> None:
    print(f"jupyter collab-docs: {reason}", file=sys.stderr, flush=True)
    sys.exit(EXIT_STATUS)
