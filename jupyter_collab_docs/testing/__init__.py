"""Testing against a real collab-docs server: the helpers behind the pytest plugin
(:mod:`jupyter_collab_docs.pytest_plugin`), importable on their own.

* :mod:`.waiting`: ``free_port``, ``wait_until_ready`` (the readiness loop), ``eventually``;
* :mod:`.clients`: ``yclient`` / ``YClient`` (pycrdt), ``RawClient`` (raw frames);
* :mod:`.standalone`: ``StandaloneServer``, a ``jupyter collab-docs`` process;
* :mod:`.fixtures`: the pytest fixtures (load them through the plugin).

See docs/testing.md.
"""

from __future__ import annotations

#: The extension's name in ``ServerApp.jpserver_extensions``.
EXTENSION = "jupyter_collab_docs"

from .clients import RawClient, Reply, YClient, yclient  # noqa: E402
from .standalone import StandaloneServer  # noqa: E402
from .waiting import eventually, free_port, url_answers, wait_until_ready  # noqa: E402

__all__ = [
    "EXTENSION",
    "RawClient",
    "Reply",
    "StandaloneServer",
    "YClient",
    "eventually",
    "free_port",
    "url_answers",
    "wait_until_ready",
    "yclient",
]
