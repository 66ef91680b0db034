"""The audit trail: every action as a Jupyter event, delivered to the configured sinks.

A sink's interface is :class:`Sink`, the sink URL schemes :data:`SINKS`
(``CollabDocsApp.audit_sinks``; plugged per scheme: ``audit_sink_classes``).
"""

from .schemas import KINDS, InvalidAuditEvent, load_schema, schema_id
from .sinks import SINKS, Sink
from .trail import AuditTrail

__all__ = [
    "KINDS",
    "SINKS",
    "AuditTrail",
    "InvalidAuditEvent",
    "Sink",
    "load_schema",
    "schema_id",
]
