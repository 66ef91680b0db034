"""jupyter-collab-docs: collaborative Jupyter documents in a database, over Yjs rooms."""

from __future__ import annotations

import logging
from typing import Any

from ._version import __version__


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabDocsApp

    return [{"module": "jupyter_collab_docs", "app": CollabDocsApp}]


class _ServerLogHandler(logging.Handler):
    """Hands the package's records to the Jupyter server's log handlers, whatever they
    are when the record is made (Jupyter rebuilds them when its log settings change)."""

    def __init__(self, server_log: logging.Logger) -> None:
        super().__init__()
        self.server_log = server_log

    def emit(self, record: logging.LogRecord) -> None:
        self.server_log.handle(record)


def log_through_server(server_log: logging.Logger, level: int | str) -> None:
    """Log the ``jupyter_collab_docs.*`` loggers through Jupyter's formatter (level,
    timestamp, logger name), at the server's log level. Without it their records reach
    no handler and Python prints the bare message.

    Records still propagate to the root logger: nothing is handled there in a Jupyter
    server, and a deployment (or pytest) that configured root logging keeps getting them.
    """
    package = logging.getLogger(__name__)
    for handler in list(package.handlers):
        if isinstance(handler, _ServerLogHandler):
            package.removeHandler(handler)  # a second server in the same process
    package.addHandler(_ServerLogHandler(server_log))
    package.setLevel(level)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension (built from labextension/ into labextension/)."""
    return [{"src": "labextension", "dest": "jupyter-collab-docs"}]


__all__ = ["__version__", "log_through_server"]
