"""The periodic access re-check resolves each distinct credential and each (identity,
document) pair once per pass, however many sockets share them; what it finds still
closes every socket it concerns. An in-process server, real sockets and access database."""

from __future__ import annotations

from collections import Counter

from jupyter_collab_docs.testing import RawClient

SOCKETS = 6


async def shared_doc(api, name="d"):
    reply = await api("alice", "POST", "documents", {"name": name, "type": "file", "content": ""})
    return reply.body["id"]


def count_lookups(collab, monkeypatch) -> Counter[str]:
    """Count the credential resolutions and role look-ups the server makes."""
    counts: Counter[str] = Counter()
    users, access = collab.users, collab.documents.access

    def counting(name, original):
        async def wrapper(*args, **kwargs):
            counts[name] += 1
            return await original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(users, "authenticate", counting("credential", users.authenticate))
    monkeypatch.setattr(access, "role_of", counting("role", access.role_of))
    return counts


async def test_many_sockets_of_one_user_cost_one_lookup_of_each_kind_per_pass(
    api, ws_url, collab, monkeypatch
):
    doc_id = await shared_doc(api)
    assert (
        await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
    ).status == 200
    sockets = [await RawClient.connect(ws_url(doc_id, "bob")) for _ in range(SOCKETS)]
    for socket in sockets:
        assert await socket.recv() is not None
    counts = count_lookups(collab, monkeypatch)

    await collab.rooms.revalidate_all()
    assert counts == {"credential": 1, "role": 1}

    await collab.rooms.revalidate_all()  # the next pass looks again
    assert counts == {"credential": 2, "role": 2}
    for socket in sockets:
        socket.close()


async def test_one_pass_covers_every_room_and_closes_every_socket_it_concerns(
    api, ws_url, collab, monkeypatch
):
    docs = [await shared_doc(api, f"d{i}") for i in range(3)]
    for doc_id in docs:
        reply = await api("alice", "PUT", f"documents/{doc_id}/shares/user:bob", {"role": "editor"})
        assert reply.status == 200
    sockets = {d: [await RawClient.connect(ws_url(d, "bob")) for _ in range(2)] for d in docs}
    for pair in sockets.values():
        for socket in pair:
            assert await socket.recv() is not None
    counts = count_lookups(collab, monkeypatch)
    # Revoked behind the service's back: only the periodic pass can notice.
    await collab.documents.access.revoke(docs[0], "user:bob")

    await collab.rooms.revalidate_all()
    # One credential for six sockets; one role look-up per document.
    assert counts == {"credential": 1, "role": 3}
    assert [await s.closed() for s in sockets[docs[0]]] == [4403, 4403]
    # The others keep their sockets (a socket the pass closes leaves its room at once).
    assert [len(collab.rooms.open_rooms[d].clients) for d in docs[1:]] == [2, 2]
    for doc_id in docs[1:]:
        for socket in sockets[doc_id]:
            socket.close()
