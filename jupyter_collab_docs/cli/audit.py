"""``jupyter collab-docs audit tail [--document ID] [--follow] [--sink URL]``: print the
audit events a sink holds, one JSON object per line, oldest first.

It reads the same configuration as the server (``CollabDocsApp.audit_sinks``, ``data_dir``),
so with no option it reads what the server writes: the first configured sink, a file
(with its rotated files) or a Kafka topic.
"""

from __future__ import annotations

import sys
from typing import Any

from traitlets import Bool, Unicode

from . import SUBCOMMANDS
from .base import CollabDocsCommand, CommandGroup


class AuditTailApp(CollabDocsCommand):
    name = "jupyter-collab-docs-audit-tail"
    description = "Print the audit events of the configured sink as JSON lines, oldest first."
    examples = """
jupyter collab-docs audit tail
jupyter collab-docs audit tail --document 9f1c... --follow
jupyter collab-docs audit tail --sink kafka://k1:9092/collab-audit
"""

    document = Unicode("", help="Only the events of this document id.").tag(config=True)
    follow = Bool(False, help="Keep printing new events as they arrive (Ctrl-C stops).").tag(
        config=True
    )
    sink = Unicode(
        "",
        help="""The sink to read (a file:// or kafka:// URL); default: the first of
        CollabDocsApp.audit_sinks.""",
    ).tag(config=True)

    flags = {
        "follow": ({"AuditTailApp": {"follow": True}}, "Keep printing new events."),
        "f": ({"AuditTailApp": {"follow": True}}, "Keep printing new events."),
    }
    aliases = {"document": "AuditTailApp.document", "sink": "AuditTailApp.sink"}

    def _command_classes(self) -> list[Any]:
        from ..audit import AuditTrail

        return [type(self), AuditTrail]

    def execute(self) -> None:
        from ..audit.sinks import parse_sink_url
        from ..audit.tail import read_file, read_kafka

        app = self.collab_app()
        url = self.sink or (app.audit_sinks[0] if app.audit_sinks else "")
        if not url:
            self.fail("no audit sink configured (CollabDocsApp.audit_sinks is empty)")
        sink = parse_sink_url(url, app.data_dir)
        document = self.document or None
        if sink.scheme == "file":
            assert sink.path is not None
            backups = int(sink.options.get("backups", 100))
            lines = read_file(sink.path, document, self.follow, backups=max(backups, 100))
        else:
            lines = read_kafka(sink, document, self.follow)
        try:
            for line in lines:
                sys.stdout.write(line + "\n")
                if self.follow:
                    sys.stdout.flush()
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:  # `| head`
            sys.stderr.close()
        except Exception as exc:
            self.fail(f"could not read {url}: {exc}")
        sys.stdout.flush()


class AuditApp(CommandGroup):
    name = "jupyter-collab-docs-audit"
    description = SUBCOMMANDS["audit"][1]
    subcommands = CommandGroup.table({"tail": AuditTailApp})
