"""The two text forms of time keep their formats (stored data and the API depend on them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from jupyter_collab_docs.timeutil import from_stored_iso, iso_time, naive_utc_now, stored_iso

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_stored_form_is_utc_isoformat_and_reads_back() -> None:
    when = datetime(2026, 7, 1, 12, 0, 7, tzinfo=PARIS_SUMMER)
    assert stored_iso(when) == "2026-07-01T10:00:07+00:00"
    assert from_stored_iso(stored_iso(when)) == when
    precise = when.replace(microsecond=5)
    assert stored_iso(precise) == "2026-07-01T10:00:07.000005+00:00"


def test_api_form_always_has_microseconds_and_z() -> None:
    when = datetime(2026, 7, 1, 12, 0, 7, tzinfo=PARIS_SUMMER)
    assert iso_time(when) == "2026-07-01T10:00:07.000000Z"


def test_access_database_time_is_naive_utc() -> None:
    now = naive_utc_now()
    assert now.tzinfo is None
    assert abs(datetime.now(timezone.utc).replace(tzinfo=None) - now) < timedelta(seconds=5)
