"""Sharing on live sockets: read-only roles, revocation, links and groups."""

from __future__ import annotations

import time

import anyio

from jupyter_collab_docs import protocol
from jupyter_collab_docs.testing import RawClient, eventually, yclient


async def shared_doc(api, content="base"):
    doc = (
        await api("alice", "POST", "documents", {"name": "d", "type": "file", "content": content})
    ).body
    return doc["id"]


async def share(api, doc_id, principal, role, user="alice"):
    reply = await api(user, "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
    assert reply.status == 200, reply.body
    return reply.body


async def test_viewer_edits_reach_nobody_while_editor_edits_reach_everyone(api, ws_url, collab):
    doc_id = await shared_doc(api)
    await share(api, doc_id, "user:bob", "viewer")
    async with (
        yclient(ws_url(doc_id, "bob")) as viewer,
        yclient(ws_url(doc_id, "alice")) as editor,
        yclient(ws_url(doc_id, "carol")) as watcher,
    ):
        await eventually(lambda: str(viewer.text) == str(watcher.text) == "base")
        viewer.text.insert(0, "VIEWER ")
        editor.text.insert(len(editor.text), " EDITOR")
        await eventually(lambda: str(watcher.text) == "base EDITOR", what="editor's edit")
        await eventually(lambda: "EDITOR" in str(viewer.text), what="viewer sees editor")
        await anyio.sleep(0.3)
        assert "VIEWER" not in str(watcher.text)
        assert "VIEWER" not in str(editor.text)
    await collab.rooms.evict(doc_id, force=True)
    stored = await collab.store.load(doc_id)
    assert all(b"VIEWER" not in u.data for u in stored.updates)
    content = (await api("alice", "GET", f"documents/{doc_id}/content")).body["content"]
    assert content == "base EDITOR"


async def test_revocation_closes_the_socket_and_reconnect_gets_the_new_role(api, ws_url):
    doc_id = await shared_doc(api)
    await share(api, doc_id, "user:bob", "editor")
    bob = await RawClient.connect(ws_url(doc_id, "bob"))
    await bob.recv()
    started = time.monotonic()
    await share(api, doc_id, "user:bob", "viewer")  # lowered
    assert await bob.closed() == 4403
    assert time.monotonic() - started < 5
    async with yclient(ws_url(doc_id, "bob")) as again, yclient(ws_url(doc_id)) as alice:
        await eventually(lambda: str(again.text) == str(alice.text) == "base")
        again.text.insert(0, "nope ")
        alice.text.insert(0, "yes ")
        # the viewer's own doc keeps its local edit; nobody else ever sees it
        await eventually(lambda: str(again.text).replace("nope ", "") == "yes base")
        await anyio.sleep(0.2)
        assert str(alice.text) == "yes base"
    bob = await RawClient.connect(ws_url(doc_id, "bob"))
    await bob.recv()
    assert (await api("alice", "DELETE", f"documents/{doc_id}/shares/user:bob")).status == 204
    assert await bob.closed() == 4403
    again = await RawClient.connect(ws_url(doc_id, "bob"))
    assert await again.closed() == 4404


async def test_periodic_revalidation_catches_changes_no_one_announced(api, ws_url, collab):
    doc_id = await shared_doc(api)
    await share(api, doc_id, "user:bob", "editor")
    bob = await RawClient.connect(ws_url(doc_id, "bob"))
    await bob.recv()
    # change the grant behind the service's back, then run the backstop check
    await collab.documents.access.revoke(doc_id, "user:bob")
    await collab.rooms.revalidate_all()
    assert await bob.closed() == 4403


async def test_link_holders_and_group_members_connect_with_their_role(api, ws_url, collab, tokens):
    doc_id = await shared_doc(api)
    link = (await share(api, doc_id, "link", "viewer"))["token"]
    assert link.startswith("cdl_")
    # bob, with the link: read-only
    no_link = await RawClient.connect(ws_url(doc_id, "bob"))
    assert await no_link.closed() == 4404
    with_link = await RawClient.connect(ws_url(doc_id, "bob") + f"&link={link}")
    first = protocol.parse_frame(await with_link.recv())
    assert first.kind == protocol.MESSAGE_SYNC
    with_link.close()
    # a group grant makes bob an editor
    collab.users.add_group("team")
    collab.users.add_member("team", "bob")
    await share(api, doc_id, "group:team", "editor")
    assert (await api("bob", "GET", "me")).body["groups"] == ["team"]
    async with yclient(ws_url(doc_id, "bob")) as bob, yclient(ws_url(doc_id, "carol")) as carol:
        await eventually(lambda: str(bob.text) == "base")
        bob.text.insert(0, "team ")
        await eventually(lambda: str(carol.text) == "team base")
    listed = (await api("bob", "GET", "documents")).body["documents"]
    assert [(d["id"], d["role"]) for d in listed] == [(doc_id, "editor")]
