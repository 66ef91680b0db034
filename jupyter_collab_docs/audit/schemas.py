"""The audit event kinds and their versioned jupyter_events schemas (``schemas/*/v1.yaml``).

Each kind (``document.created``) has a schema id
``https://jupyter.org/collab-docs/events/document-created/v1``; the YAML file of a kind lives
at ``schemas/document-created/v1.yaml``. A schema change that removes or retypes a field
gets a new version (a new file and id); this module maps every kind to the version the
server emits today.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_BASE = "https://jupyter.org/collab-docs/events/"
SCHEMA_DIR = Path(__file__).with_name("schemas")

#: Every kind the server emits, with the schema version it emits.
KINDS: dict[str, int] = {
    "document.created": 1,
    "document.renamed": 1,
    "document.deleted": 1,
    "document.restored": 1,
    "document.purged": 1,
    "document.content_replaced": 1,
    "document.exported": 1,
    "document.edited": 1,
    "session.joined": 1,
    "session.left": 1,
    "share.granted": 1,
    "share.changed": 1,
    "share.revoked": 1,
    "version.created": 1,
    "version.restored": 1,
    "access.denied": 1,
    "comment.created": 1,
    "comment.edited": 1,
    "comment.deleted": 1,
    "comment.resolved": 1,
    "comment.reopened": 1,
    "suggestion.accepted": 1,
    "suggestion.rejected": 1,
    "comment.mentioned": 1,
}

#: The fields every audit event carries (the envelope of docs/audit.md).
ENVELOPE = ("event_id", "schema_id", "kind", "timestamp", "actor", "document_id", "node")


class InvalidAuditEvent(ValueError):
    """An event that does not match its kind's schema, or of an unknown kind: a bug at
    the emission point, raised rather than dropped."""


def slug(kind: str) -> str:
    return kind.replace(".", "-").replace("_", "-")


def schema_id(kind: str) -> str:
    """The schema id of the version of ``kind`` that the server emits."""
    try:
        version = KINDS[kind]
    except KeyError:
        raise InvalidAuditEvent(
            f"unknown audit event kind {kind!r}; known kinds: {', '.join(KINDS)}"
        ) from None
    return f"{SCHEMA_BASE}{slug(kind)}/v{version}"


def schema_path(kind: str, version: int | None = None) -> Path:
    return SCHEMA_DIR / slug(kind) / f"v{version or KINDS[kind]}.yaml"


def load_schema(kind: str, version: int | None = None) -> dict[str, Any]:
    """The schema of one kind, as a dict."""
    with schema_path(kind, version).open(encoding="utf-8") as f:
        return dict(yaml.safe_load(f))


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file shipped, current and older versions, by schema id."""
    found = {}
    for path in sorted(SCHEMA_DIR.glob("*/v*.yaml")):
        with path.open(encoding="utf-8") as f:
            schema = dict(yaml.safe_load(f))
        found[schema["$id"]] = schema
    return found


@cache
def field_caps(sid: str) -> dict[str, int]:
    """The maxLength of each capped string field of a schema, by field name."""
    schema = all_schemas().get(sid, {})
    return {
        name: int(prop["maxLength"])
        for name, prop in schema.get("properties", {}).items()
        if "maxLength" in prop
    }


def register_schemas(event_logger: Any) -> None:
    """Register every shipped schema on a jupyter_events ``EventLogger`` (once)."""
    for sid, schema in all_schemas().items():
        if sid not in event_logger.schemas:
            event_logger.register_event_schema(schema)
