"""pytest plugin: test a project against a real collab-docs server.

In a ``conftest.py``::

    pytest_plugins = ["jupyter_collab_docs.pytest_plugin"]

gives the fixtures of :mod:`jupyter_collab_docs.testing.fixtures` (``collab``, ``tokens``,
``api``, ``ws_url``, ``standalone``, ``collab_config`` to override) on top of
pytest-jupyter's ``jp_serverapp``; the clients and waiting helpers are in
:mod:`jupyter_collab_docs.testing`. Needs the ``test`` extra (pytest-jupyter, httpx-ws).
See docs/testing.md.
"""

# pytest-jupyter first: pytest uses the last registered definition of a fixture, and ours
# replaces its ``jp_server_config``.
pytest_plugins = ["pytest_jupyter.jupyter_server", "jupyter_collab_docs.testing.fixtures"]
