"""The clock and the text forms of time, one of each, so a format is chosen in one place.

Two text forms, on purpose: what the stores keep (``isoformat`` in UTC, whatever its
precision) and what the REST API and the audit trail show (always microseconds and a
``Z``, so text order is time order). The access database keeps naive UTC datetimes
(SQL ``DATETIME`` has no zone).
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def naive_utc_now() -> datetime:
    """Now in UTC without a zone: the access database's ``DATETIME`` columns."""
    return utc_now().replace(tzinfo=None)


def stored_iso(value: datetime) -> str:
    """A document store's text form of a time (UTC ``isoformat``)."""
    return value.astimezone(timezone.utc).isoformat()


def from_stored_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def iso_time(value: datetime) -> str:
    """The API's and the audit trail's form: UTC, microseconds always, ``Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
