"""The test suite's fixtures: the shipped plugin (:mod:`jupyter_collab_docs.pytest_plugin`:
an in-process server with the extension, users with tokens, ``api``, ``ws_url``,
``standalone``) and this repository's real backend servers (``tests/servers``).

The helpers live in :mod:`jupyter_collab_docs.testing`; they are re-exported here for the
test files that still import them from ``tests.conftest``.
"""

from __future__ import annotations

from jupyter_collab_docs.testing import (  # noqa: F401  (re-exported, see above)
    EXTENSION,
    RawClient,
    Reply,
    StandaloneServer,
    YClient,
    eventually,
    free_port,
    yclient,
)

pytest_plugins = [
    "jupyter_collab_docs.pytest_plugin",
    "tests.servers.ferretdb",
    "tests.servers.mariadb",
    "tests.servers.redis",
    "tests.servers.kafka",
]
