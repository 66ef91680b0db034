"""Display names of standalone users, many at once: the people of a comment thread or an
activity feed are named by one query rather than one look-up each."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import AccessDatabase
from .models import UserRow

# Bound parameters per query: well under SQLite's (32766; 999 before 3.32) and MySQL's.
CHUNK = 500


async def display_names(db: AccessDatabase, usernames: Iterable[str]) -> dict[str, str]:
    """``{username: display name}`` for the users that exist and have one; names nobody
    has are left out. One query per ``CHUNK`` names, on one database thread."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}

    def work(session: Session) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(wanted), CHUNK):
            query = select(UserRow.username, UserRow.display_name).where(
                UserRow.username.in_(wanted[start : start + CHUNK])
            )
            found.update((name, shown) for name, shown in session.execute(query) if shown)
        return found

    return await db.run(work)
