"""The share cap and the shared-with index look-up of ShareAccess, on SQLite and MariaDB
(issue #12 item 11): concurrent grants on MariaDB's four worker threads must not pass
the cap either."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_collab_docs.acl import ShareAccess, ShareLimitReached

from .test_access_contract import access, acl_url, actor, db  # noqa: F401 (fixtures)

DOC = "d" * 32


async def test_concurrent_grants_stop_at_the_cap(access: ShareAccess) -> None:  # noqa: F811
    async def grant(n: int) -> bool:
        try:
            await access.grant(DOC, f"user:u{n}", "viewer", "alice", max_shares=5)
        except ShareLimitReached:
            return False
        return True

    results = await asyncio.gather(*(grant(n) for n in range(20)))
    assert results.count(True) == 5

    def count(session):  # type: ignore[no-untyped-def]
        from sqlalchemy import func, select

        from jupyter_collab_docs.acl.models import ShareRow

        return session.scalar(select(func.count()).where(ShareRow.document_id == DOC))

    assert await access.db.run(count) == 5
    # at the cap: an existing share may still change, and the link is not counted
    holder = next(n for n, ok in enumerate(results) if ok)
    await access.grant(DOC, f"user:u{holder}", "editor", "alice", max_shares=5)
    assert await access.grant(DOC, "link", "viewer", "alice", max_shares=5)
    with pytest.raises(ShareLimitReached):
        await access.grant(DOC, "group:team", "viewer", "alice", max_shares=5)
    # no cap: anything goes
    await access.grant(DOC, "group:team", "viewer", "alice")


async def test_shared_with_reads_the_principal_index(access: ShareAccess) -> None:  # noqa: F811
    other = "e" * 32
    await access.grant(DOC, "user:bob", "viewer", "alice")
    await access.grant(DOC, "group:team", "editor", "alice")
    await access.grant(other, "group:team", "commenter", "alice")
    await access.grant(other, "user:carol", "owner", "alice")
    assert await access.shared_with(actor("bob", "team")) == {DOC: "editor", other: "commenter"}
    assert await access.shared_with(actor("bob")) == {DOC: "viewer"}
    assert await access.shared_with(actor("dave")) == {}
