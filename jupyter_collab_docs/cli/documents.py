"""``jupyter collab-docs documents list|import|export``: documents from the command line,
for seeding a server (Binder's sample notebook, a migration from files) and for backups.

They act on the store the server's configuration names (``CollabDocsApp.store_url``), so
they work while a server runs: an import is a new document, visible to the server at once;
an export reads what is stored (edits of the last ``write_delay`` seconds may still be on
their way to the store).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycrdt import Doc
from traitlets import Bool, Unicode

from ..comments.anchors import DocumentView
from ..comments.service import thread_model
from ..doctypes import ContentError, initial_state, read_content, validate_content
from ..documents import model
from ..stores import DocumentRecord, DocumentStore, store_from_url
from ..stores.base import StoreError
from ..timeutil import iso_time, utc_now
from ..users import USERNAME_PATTERN
from . import SUBCOMMANDS
from .base import CollabDocsCommand, CommandGroup

if TYPE_CHECKING:
    from ..audit import AuditTrail


class _StoreCommand(CollabDocsCommand):
    """A subcommand that opens the configured document store for the time it runs."""

    def run(self, work: Any) -> Any:
        app = self.collab_app()
        Path(app.data_dir).mkdir(parents=True, exist_ok=True)

        async def main() -> Any:
            store = store_from_url(app.store_url, node=app.node_id, cls=app.store_class, parent=app)
            await store.start()
            try:
                return await work(app, store)
            finally:
                await store.close()

        try:
            return asyncio.run(main())
        except StoreError as exc:
            self.fail(f"the document store is unavailable: {exc}")


@asynccontextmanager
async def _audit_trail(app: Any, store: DocumentStore) -> AsyncIterator[AuditTrail]:
    """The server's audit trail (its configured sinks and the store's activity feed), open
    while a subcommand records what it did."""
    from ..audit import AuditTrail  # only when a subcommand writes

    audit = AuditTrail(
        app.node_id, sinks=app.audit_sinks, store=store, data_dir=app.data_dir, parent=app
    )
    await audit.start()
    try:
        yield audit
    finally:
        await audit.close()


class DocumentsListApp(_StoreCommand):
    name = "jupyter-collab-docs-documents-list"
    description = "List every document: id, type, owner, name."

    def execute(self) -> None:
        async def work(app: Any, store: DocumentStore) -> list[DocumentRecord]:
            return await store.list_documents()

        for record in self.run(work):
            print(f"{record.id}  {record.type:8}  {record.owner:16}  {record.name}")


class DocumentsImportApp(_StoreCommand):
    name = "jupyter-collab-docs-documents-import"
    description = "Create a document from a file (.ipynb: a notebook; anything else: text)."
    examples = "jupyter collab-docs documents import analysis.ipynb --owner alice"

    owner = Unicode(
        "", help="Username of the new document's owner (required): a standalone user."
    ).tag(config=True)
    external_owner = Bool(
        False,
        help="""The owner is not a standalone user but a JupyterHub user or the user of a
        personal Jupyter server, whom the standalone directory does not know: skip the
        check that the owner exists (the name's form is still checked).""",
    ).tag(config=True)
    document_name = Unicode(
        "", help="The document's name (default: the file name, without .ipynb)."
    ).tag(config=True)
    aliases = {"owner": "DocumentsImportApp.owner", "name": "DocumentsImportApp.document_name"}
    flags = {
        "external-owner": (
            {"DocumentsImportApp": {"external_owner": True}},
            "The owner is a JupyterHub or personal-server user, not a standalone one.",
        )
    }

    def execute(self) -> None:
        (file,) = self.arguments(1, "FILE")
        if not self.owner:
            self.fail("--owner is required: who owns the new document")
        path = Path(file)
        try:
            raw = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                doc_type, content = "notebook", json.loads(raw)
            else:
                doc_type, content = "file", raw
            content = validate_content(doc_type, content)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ContentError) as exc:
            self.fail(f"cannot import {path}: {exc}")
        name = self.document_name or (path.stem if doc_type == "notebook" else path.name)
        owner = self.owner
        self.check_owner(owner)

        async def work(app: Any, store: DocumentStore) -> dict[str, Any]:
            async with _audit_trail(app, store) as audit:
                now = utc_now()
                record = DocumentRecord(
                    id=secrets.token_hex(16),
                    name=name,
                    type=doc_type,
                    owner=owner,
                    created=now,
                    modified=now,
                )
                await store.create(record, initial_state(doc_type, content))
                audit.emit("document.created", owner, record.id, name=name, type=doc_type)
                return model(record, "owner")

        print(json.dumps(self.run(work)))

    def check_owner(self, owner: str) -> None:
        """A document owned by nobody the server knows would be reachable only by its
        administrators: refuse before anything is written."""
        if not USERNAME_PATTERN.match(owner):
            self.fail(f"invalid owner {owner!r}: use letters, digits and . _ @ - (max 64)")
        if self.external_owner:
            return
        directory = self.user_directory()
        try:
            known = directory.get(owner) is not None
        finally:
            directory.close()
        if not known:
            self.fail(
                f"no user {owner!r}: add them first (jupyter collab-docs users add {owner}), "
                "or pass --external-owner for a JupyterHub or personal-server user"
            )


class DocumentsExportApp(_StoreCommand):
    name = "jupyter-collab-docs-documents-export"
    description = "Write a document's stored content (notebook JSON or text) to a file or stdout."
    examples = "jupyter collab-docs documents export 9f1c... --output report.ipynb"

    output = Unicode("", help="File to write (default: standard output).").tag(config=True)
    with_comments = Bool(
        False,
        help="""Write one JSON object instead: the document's id, name, type, format and
        content, and its comment threads ("threads", docs/comments.md).""",
    ).tag(config=True)
    aliases = {"output": "DocumentsExportApp.output", "o": "DocumentsExportApp.output"}
    flags = {
        "with-comments": (
            {"DocumentsExportApp": {"with_comments": True}},
            "Export the content and the comment threads as one JSON object.",
        )
    }

    def execute(self) -> None:
        (doc_id,) = self.arguments(1, "DOCUMENT_ID")

        async def work(app: Any, store: DocumentStore) -> dict[str, Any] | None:
            record = await store.get(doc_id)
            if record is None:
                return None
            loaded = await store.load(doc_id)
            doc: Doc[Any] = Doc()
            for update in ([loaded.snapshot] if loaded.snapshot else []) + loaded.updates:
                doc.apply_update(update.data)
            content = read_content(doc, record.type)
            if self.with_comments:
                view = DocumentView(doc, record.type)
                threads = await store.list_comment_threads(doc_id)
                content = {
                    "id": record.id,
                    "name": record.name,
                    "type": record.type,
                    **content,
                    "threads": [thread_model(t, view) for t in threads],
                }
            return content

        content = self.run(work)
        if content is None:
            self.fail(f"no document {doc_id!r}")
        if self.with_comments:
            text = json.dumps(content, indent=1) + "\n"
        elif content["format"] == "json":
            text = json.dumps(content["content"], indent=1) + "\n"
        else:
            text = content["content"]
        if self.output:
            Path(self.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)


class DocumentsTrashApp(_StoreCommand):
    name = "jupyter-collab-docs-documents-trash"
    description = "List every deleted document (in its owner's trash): id, type, owner, when, name."

    def execute(self) -> None:
        async def work(app: Any, store: DocumentStore) -> list[DocumentRecord]:
            return await store.list_trash()

        for record in self.run(work):
            assert record.trashed is not None
            when = iso_time(record.trashed)
            print(f"{record.id}  {record.type:8}  {record.owner:16}  {when}  {record.name}")


class DocumentsRestoreApp(_StoreCommand):
    name = "jupyter-collab-docs-documents-restore"
    description = "Take a deleted document out of its owner's trash, as it was (shares too)."
    examples = "jupyter collab-docs documents restore 9f1c..."

    def execute(self) -> None:
        (doc_id,) = self.arguments(1, "DOCUMENT_ID")

        async def work(app: Any, store: DocumentStore) -> dict[str, Any] | None:
            record = await store.get(doc_id)
            if record is None or record.trashed is None or not await store.restore(doc_id):
                return None
            async with _audit_trail(app, store) as audit:
                audit.emit("document.restored", None, doc_id)  # the administrator's CLI
            record.trashed = None
            return model(record, "owner")

        restored = self.run(work)
        if restored is None:
            self.fail(f"document {doc_id!r} is not in the trash")
        print(json.dumps(restored))


class DocumentsApp(CommandGroup):
    name = "jupyter-collab-docs-documents"
    description = SUBCOMMANDS["documents"][1]
    subcommands = CommandGroup.table(
        {
            "list": DocumentsListApp,
            "import": DocumentsImportApp,
            "export": DocumentsExportApp,
            "trash": DocumentsTrashApp,
            "restore": DocumentsRestoreApp,
        }
    )
