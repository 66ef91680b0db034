"""RefusalLimiter: how many refusal events the trail records per source and interval.

A refusal (``access.denied``) is caused by the caller, so without a limit anyone able to
reach the server could write the audit trail at will (the attack of issue #12: 17 MB of
audit in 4 s). Each source (a user, or the address of an unauthenticated caller) may
cause ``per_source`` recorded refusals per interval, and all sources together ``total``;
the rest are counted, and the count is logged once per interval instead.
"""

from __future__ import annotations

import time


class RefusalLimiter:
    """Fixed windows of ``interval`` seconds; memory bounded by ``max_sources``."""

    def __init__(
        self, per_source: int, total: int, interval: float, max_sources: int = 10_000
    ) -> None:
        self.per_source = per_source
        self.total = total
        self.interval = interval
        self.max_sources = max_sources
        self.window_start = self.last_report = time.monotonic()
        self._counts: dict[str, int] = {}
        self._recorded = 0
        #: Refusals not recorded: since the trail started, and in the current window.
        self.dropped_total = 0
        self.dropped_window = 0
        self._dropped_sources: set[str] = set()

    def allow(self, source: str, now: float | None = None) -> bool:
        """Count one refusal of ``source``; True if it may be recorded."""
        self._roll(time.monotonic() if now is None else now)
        count = self._counts.get(source, 0)
        # Past max_sources distinct sources a new one is refused outright: the table of
        # counts stays bounded, and so many sources in one window is a flood anyway.
        known = count > 0 or len(self._counts) < self.max_sources
        if known and count < self.per_source and self._recorded < self.total:
            self._counts[source] = count + 1
            self._recorded += 1
            return True
        self.dropped_total += 1
        self.dropped_window += 1
        if len(self._dropped_sources) < self.max_sources:
            self._dropped_sources.add(source)
        return False

    def _roll(self, now: float) -> None:
        if now - self.window_start >= self.interval:
            self.window_start = now
            self._counts.clear()
            self._recorded = 0

    def take_report(self, now: float | None = None) -> tuple[int, int] | None:
        """(dropped, sources) since the last report, at most once an interval (``now``
        None: at once); None if nothing was dropped."""
        if now is not None and now - self.last_report < self.interval:
            return None
        self.last_report = time.monotonic() if now is None else now
        if not self.dropped_window:
            return None
        report = (self.dropped_window, len(self._dropped_sources))
        self.dropped_window = 0
        self._dropped_sources.clear()
        return report
