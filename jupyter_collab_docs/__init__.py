"""jupyter-collab-docs: collaborative Jupyter documents in a database, over Yjs rooms."""

from __future__ import annotations

from typing import Any

from ._version import __version__


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabDocsApp

    return [{"module": "jupyter_collab_docs", "app": CollabDocsApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension (built from labextension/ into labextension/)."""
    return [{"src": "labextension", "dest": "jupyter-collab-docs"}]


__all__ = ["__version__"]
