"""The audit trail: every action as a Jupyter event, delivered to the configured sinks."""

from .schemas import KINDS, InvalidAuditEvent, load_schema, schema_id
from .trail import AuditTrail

__all__ = ["KINDS", "AuditTrail", "InvalidAuditEvent", "load_schema", "schema_id"]
