"""Write budgets: how much one user may write to one room, as token buckets.

Each (user, room) has a bucket of bytes and one of structs. A bucket holds at most its
budget and refills evenly over ``window`` seconds; an update is admitted only if both
buckets hold what it costs, and then it is taken from them. A full bucket admits any
single update the per-update bounds allow, so an honest burst (opening a big notebook
from an offline copy, a large paste) passes, while a sustained flood is refused.
"""

from __future__ import annotations

import time


class TokenBucket:
    """One bucket: ``tokens`` out of ``capacity``, refilling over ``window`` seconds."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, window: float, now: float | None = None) -> None:
        self.capacity = capacity
        # Tokens per second; None: no window, the bucket is full at every refill.
        self.rate = capacity / window if window > 0 else None
        self.tokens = capacity
        self.updated = time.monotonic() if now is None else now

    def refill(self, now: float) -> None:
        rate = self.rate
        if rate is None:
            self.tokens = self.capacity
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now

    @property
    def full(self) -> bool:
        return self.tokens >= self.capacity


class WriteBudget:
    """The buckets of one room's writers, by username."""

    def __init__(self, max_bytes: int, max_structs: int, window: float) -> None:
        self.max_bytes = max_bytes
        self.max_structs = max_structs
        self.window = window
        self._buckets: dict[str, tuple[TokenBucket, TokenBucket]] = {}
        self._admitted = 0

    def admit(self, user: str, size: int, structs: int) -> bool:
        """Take ``size`` bytes and ``structs`` structs from ``user``'s buckets; False,
        taking nothing, if either holds less. Called for every update a socket sends:
        plain attributes (slots, the rate computed once), one clock read."""
        now = time.monotonic()
        buckets = self._buckets.get(user)
        if buckets is None:
            buckets = self._buckets[user] = (
                TokenBucket(self.max_bytes, self.window, now),
                TokenBucket(self.max_structs, self.window, now),
            )
        by_bytes, by_structs = buckets
        by_bytes.refill(now)
        by_structs.refill(now)
        if by_bytes.tokens < size or by_structs.tokens < structs:
            return False
        by_bytes.tokens -= size
        by_structs.tokens -= structs
        self._admitted += 1
        if self._admitted % 256 == 0 and len(self._buckets) > 64:
            self._forget_full(now)
        return True

    def _forget_full(self, now: float) -> None:
        # Buckets that refilled are the same as new ones: keep the map small.
        for user, (by_bytes, by_structs) in list(self._buckets.items()):
            by_bytes.refill(now)
            by_structs.refill(now)
            if by_bytes.full and by_structs.full:
                del self._buckets[user]
