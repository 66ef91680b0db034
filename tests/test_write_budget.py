"""The write budget's token buckets: refill rate, the cap, no window, forgetting."""

from __future__ import annotations

import pytest

from jupyter_collab_docs import write_budget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(write_budget.time, "monotonic", fake)
    return fake


def test_refills_evenly_over_the_window(clock: Clock) -> None:
    budget = write_budget.WriteBudget(max_bytes=1000, max_structs=100, window=10.0)
    assert budget.admit("alice", 1000, 100)  # empties both buckets
    assert not budget.admit("alice", 1, 0)
    clock.now += 2.5  # a quarter of the window: 250 bytes, 25 structs
    assert not budget.admit("alice", 251, 1)
    assert not budget.admit("alice", 1, 26)
    assert budget.admit("alice", 250, 25)
    assert not budget.admit("alice", 1, 0)


def test_refusal_takes_nothing(clock: Clock) -> None:
    budget = write_budget.WriteBudget(max_bytes=1000, max_structs=10, window=10.0)
    assert not budget.admit("alice", 500, 11)  # structs short: the bytes stay
    assert budget.admit("alice", 1000, 10)


def test_never_holds_more_than_its_budget(clock: Clock) -> None:
    budget = write_budget.WriteBudget(max_bytes=1000, max_structs=100, window=10.0)
    clock.now += 3600
    assert not budget.admit("alice", 1001, 1)
    assert budget.admit("alice", 1000, 100)
    assert not budget.admit("alice", 1, 1)


def test_no_window_refills_at_once(clock: Clock) -> None:
    budget = write_budget.WriteBudget(max_bytes=100, max_structs=10, window=0.0)
    for _ in range(5):
        assert budget.admit("alice", 100, 10)
    assert not budget.admit("alice", 101, 1)  # one update is still bounded


def test_forgets_users_whose_buckets_refilled(clock: Clock) -> None:
    budget = write_budget.WriteBudget(max_bytes=1000, max_structs=100, window=1.0)
    for i in range(100):
        assert budget.admit(f"user{i}", 10, 1)
    clock.now += 2.0  # every bucket is full again
    for _ in range(256 - 100):
        assert budget.admit("active", 1, 0)
    assert set(budget._buckets) == {"active"}
