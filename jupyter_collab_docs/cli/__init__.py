"""``jupyter collab-docs`` subcommands, one module per command group: ``users`` and
``groups`` (users.py), ``audit`` (audit.py), ``documents`` (documents.py), on the shared
base of base.py (its configuration, one way to fail).

``CollabDocsApp.subcommands`` is ``SUBCOMMANDS``: import strings, which traitlets imports
when a command runs, so the server's module imports this table and nothing else of the
CLI (the commands import the app for its configuration, never the other way round).
"""

from __future__ import annotations

# CollabDocsApp.subcommands: traitlets imports a class when its command runs.
SUBCOMMANDS = {
    "users": (
        "jupyter_collab_docs.cli.users.UsersApp",
        "Manage the users and API tokens of the standalone server.",
    ),
    "groups": (
        "jupyter_collab_docs.cli.users.GroupsApp",
        "Manage the groups of the standalone server (JupyterHub brings its own).",
    ),
    "audit": (
        "jupyter_collab_docs.cli.audit.AuditApp",
        "Read the audit trail: audit tail [--document ID] [--follow].",
    ),
    "documents": (
        "jupyter_collab_docs.cli.documents.DocumentsApp",
        "List, import and export documents of the configured store; list and restore its trash.",
    ),
}
