"""A room's update guard (issue #12): what stands between a socket's bytes and the doc.

An update from a socket is refused, its socket closed and nothing applied, when the
writer's backlog is full, when it breaks the update guard's bounds
(:mod:`..update_guard`), when the doc would grow past ``max_document_structs``, or when
its writer is past their write budget (:mod:`..write_budget`). In a notebook, a
``trusted`` key that any update gives a cell is removed again in the same loop turn
(trust stripping, see doctypes.py): not even the merged broadcast carries it.
"""

from __future__ import annotations

import logging
import time

from ..close_codes import CLOSE_RATE_LIMITED
from ..doctypes import TrustWatch
from ..update_guard import UpdateRefused, UpdateShape, UpdateTooLarge, count_structs, inspect_update
from ..write_budget import WriteBudget
from .persistence import RoomPersistence
from .state import Connection
from .updates import contained

log = logging.getLogger(__name__)

# Notebook updates that set a cell's trust and wait for a dependency, watched per room.
_MAX_TRUST_PENDING = 64


class UpdateGuard(RoomPersistence):
    """The guard of a room; it refuses edits while the writer is behind, so it builds on
    the persistence part."""

    def _init_guard(self) -> None:
        # Writers' budgets, the doc's size, and updates that set a cell's trust but wait
        # for a dependency (stripped once applied).
        self._budget = WriteBudget(
            self.config.write_budget_bytes,
            self.config.write_budget_structs,
            self.config.write_budget_window,
        )
        self._doc_structs = 0
        self._next_count = 0.0  # when the estimate may next be replaced by a real count
        self._trust_pending: list[bytes] = []

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        """A socket's update: through the guard, the document's size bound and the
        writer's budget, or refused (its socket closed, nothing applied)."""
        if self._pending_bytes > self.config.max_pending_bytes:
            log.warning("document %s: write backlog full, refusing an edit", self.doc_id)
            conn.close(CLOSE_RATE_LIMITED, "the document store is behind; retry shortly")
            return
        user = conn.actor.username
        try:
            shape = inspect_update(update, self.config.client_limits)
            self._admit_growth(shape)
            if not self._budget.admit(user, len(update), shape.structs):
                self._refuse(conn, CLOSE_RATE_LIMITED, "write budget exceeded; retry shortly")
                return
            self._apply_guarded(update, shape, conn, user)
        except UpdateRefused as exc:
            self._refuse(conn, exc.close_code, str(exc))

    def _refuse(self, conn: Connection, code: int, reason: str) -> None:
        log.warning(
            "document %s: refused an update of %s (%d): %s",
            self.doc_id,
            conn.actor.username,
            code,
            reason,
        )
        conn.close(code, reason[:120])

    def _admit_growth(self, shape: UpdateShape) -> None:
        """Raise UpdateTooLarge if the doc would hold more than ``max_document_structs``.

        The running count only grows (it adds every update's structs, which yrs may
        squash or already hold); past the bound it is replaced by a real count of the
        doc's encoded state before anything is refused. A count takes seconds for a doc
        at the default bound, so the next one waits at least 10 s and 100 times as long
        as this one took: a full document costs the loop at most 1% of its time."""
        bound = self.config.max_document_structs
        if self._doc_structs + shape.structs <= bound:
            return
        started = time.monotonic()
        if started >= self._next_count:
            self._doc_structs = count_structs(self.doc.get_update())
            took = time.monotonic() - started
            self._next_count = started + max(10.0, 100 * took)
            if self._doc_structs + shape.structs <= bound:
                return
        raise UpdateTooLarge(f"the document would hold more than {bound} structs")

    def _apply_guarded(
        self, update: bytes, shape: UpdateShape, origin: Connection | None, author: str
    ) -> None:
        """Apply a checked update; in a notebook, then remove any ``trusted`` key it gave
        a cell, as a server change of the same loop turn: the turn's merged broadcast
        and the stored log never leave a cell trusted (see doctypes.py)."""
        trusted = shape.touches_trust and b"trusted" in update
        if self.doc_type != "notebook" or not (trusted or self._trust_pending):
            self._doc_structs += shape.structs
            self._apply(update, origin, author)
            return
        if trusted and len(self._trust_pending) >= _MAX_TRUST_PENDING:
            raise UpdateRefused("too many updates waiting for their dependencies")
        self._doc_structs += shape.structs
        with TrustWatch(self.doc) as watch:
            self._apply(update, origin, author)
        removal = watch.strip()
        if removal is not None:
            self._apply(removal, None, author)
        # An update yrs keeps pending (a dependency is missing) sets the key only once
        # the dependency arrives: watch every update until then.
        state = self.doc.get_state()
        waiting = [*self._trust_pending, update] if trusted else self._trust_pending
        self._trust_pending = [u for u in waiting if not contained(u, state)]
