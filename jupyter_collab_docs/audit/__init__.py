"""The audit trail: every action as a Jupyter event, delivered to the configured sinks."""

from .trail import AuditTrail

__all__ = ["AuditTrail"]
