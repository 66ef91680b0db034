"""Every REST endpoint x every kind of caller: the exact status code, and for every refused
request proof that nothing changed (document metadata, content, shares and links).

The principals are made the way a real deployment makes them: users and a group in the
access directory, and shares granted through ``PUT documents/{id}/shares/{principal}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from jupyter_collab_docs.acl.models import LinkRow, ShareRow
from jupyter_collab_docs.identity import Actor

MISSING = "0" * 32

# caller -> (username, the caller's role on the document as docs/sharing.md defines it)
CALLERS = {
    "owner": "alice",  # created the document
    "editor": "bob",  # user:bob editor
    "commenter": "cora",  # user:cora commenter
    "viewer": "victor",  # user:victor viewer
    "group_member": "gus",  # member of "team"; group:team editor
    "link_holder": "lily",  # no share; presents the viewer link's token
    "stranger": "sam",  # no share, no link
    "admin": "carol",  # administrator
    "anonymous": None,  # no credentials
}
ROLE = {
    "owner": "owner",
    "editor": "editor",
    "commenter": "commenter",
    "viewer": "viewer",
    "group_member": "editor",
    "link_holder": "viewer",
    "stranger": None,
    "admin": "owner",
    "anonymous": None,
}

# endpoint -> (method, path ({id}: the document), body)
ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "me": ("GET", "me", None),
    "list": ("GET", "documents", None),
    "create": ("POST", "documents", {"name": "Fresh", "type": "file", "content": "new"}),
    "get": ("GET", "documents/{id}", None),
    "rename": ("PATCH", "documents/{id}", {"name": "Renamed"}),
    "delete": ("DELETE", "documents/{id}", None),
    "get_content": ("GET", "documents/{id}/content", None),
    "put_content": ("PUT", "documents/{id}/content", {"content": "replaced"}),
    "list_shares": ("GET", "documents/{id}/shares", None),
    "put_share": ("PUT", "documents/{id}/shares/user:sam", {"role": "viewer"}),
    "put_owner_share": ("PUT", "documents/{id}/shares/user:sam", {"role": "owner"}),
    "change_owner_share": ("PUT", "documents/{id}/shares/user:olga", {"role": "viewer"}),
    "delete_share": ("DELETE", "documents/{id}/shares/user:victor", None),
    "delete_owner_share": ("DELETE", "documents/{id}/shares/user:olga", None),
    "delete_link": ("DELETE", "documents/{id}/shares/link", None),
}

# The expected status of every (endpoint, caller), written out from docs/sharing.md.
COLUMNS = (
    "owner", "editor", "commenter", "viewer", "group_member",
    "link_holder", "stranger", "admin", "anonymous",
)  # fmt: skip
TABLE = {
    #                      own  edit comm view grp  link strg admn anon
    "me":                 (200, 200, 200, 200, 200, 200, 200, 200, 401),
    "list":               (200, 200, 200, 200, 200, 200, 200, 200, 401),
    "create":             (201, 201, 201, 201, 201, 201, 201, 201, 401),
    "get":                (200, 200, 200, 200, 200, 200, 404, 200, 401),
    "rename":             (200, 200, 403, 403, 200, 403, 404, 200, 401),
    "delete":             (204, 403, 403, 403, 403, 403, 404, 204, 401),
    "get_content":        (200, 200, 200, 200, 200, 200, 404, 200, 401),
    "put_content":        (200, 200, 403, 403, 200, 403, 404, 200, 401),
    "list_shares":        (200, 200, 200, 200, 200, 200, 404, 200, 401),
    "put_share":          (200, 200, 403, 403, 200, 403, 404, 200, 401),
    "put_owner_share":    (200, 403, 403, 403, 403, 403, 404, 200, 401),
    "change_owner_share": (200, 403, 403, 403, 403, 403, 404, 200, 401),
    "delete_share":       (204, 204, 403, 403, 204, 403, 404, 204, 401),
    "delete_owner_share": (204, 403, 403, 403, 403, 403, 404, 204, 401),
    "delete_link":        (204, 204, 403, 403, 204, 403, 404, 204, 401),
}  # fmt: skip
CASES = [
    pytest.param(endpoint, caller, status, id=f"{endpoint}-{caller}")
    for endpoint, statuses in TABLE.items()
    for caller, status in zip(COLUMNS, statuses, strict=True)
]

ADMIN = Actor.create("matrix-observer", is_admin=True)


def test_the_table_covers_every_endpoint_and_caller():
    assert set(TABLE) == set(ENDPOINTS)
    assert set(COLUMNS) == set(CALLERS) == set(ROLE)


@dataclass
class World:
    doc_id: str
    other_id: str  # alice's second document, shared with nobody
    link: str

    def params(self, caller: str) -> dict[str, str] | None:
        return {"link": self.link} if caller == "link_holder" else None


async def make_world(api: Any, collab: Any, tokens: dict[str, str]) -> World:
    for name in ("cora", "victor", "gus", "lily", "sam", "olga", "rex"):
        tokens[name] = collab.users.add(name)
    collab.users.add_group("team")
    collab.users.add_member("team", "gus")
    body = {"name": "Matrix", "type": "file", "content": "original"}
    created = await api("alice", "POST", "documents", body)
    assert created.status == 201, created.body
    doc_id = created.body["id"]
    other = await api("alice", "POST", "documents", {"name": "Other", "type": "file"})
    assert other.status == 201
    link = ""
    for principal, role in [
        ("user:bob", "editor"),
        ("user:cora", "commenter"),
        ("user:victor", "viewer"),
        ("group:team", "editor"),
        ("user:olga", "owner"),
        ("user:rex", "viewer"),
        ("link", "viewer"),
    ]:
        reply = await api("alice", "PUT", f"documents/{doc_id}/shares/{principal}", {"role": role})
        assert reply.status == 200, (principal, reply.body)
        link = reply.body.get("token", link)
    assert link
    # rex had a share and lost it: from now on he is a stranger too
    assert (await api("alice", "DELETE", f"documents/{doc_id}/shares/user:rex")).status == 204
    return World(doc_id, other.body["id"], link)


async def snapshot(collab: Any) -> dict[str, Any]:
    """Everything a request could change, read below the REST layer."""
    records = await collab.store.list_documents()
    documents = sorted(
        (r.id, r.name, r.type, r.owner, r.created.isoformat(), r.modified.isoformat())
        for r in records
    )
    content = {r.id: await collab.documents.content(ADMIN, r.id) for r in records}

    def rows(session: Any) -> dict[str, Any]:
        shares = sorted(
            (r.document_id, r.principal, r.role, r.granted_by, r.granted_at.isoformat())
            for r in session.scalars(select(ShareRow))
        )
        links = sorted(
            (r.document_id, r.token_hash, r.role, r.expires, r.created.isoformat())
            for r in session.scalars(select(LinkRow))
        )
        return {"shares": shares, "links": links}

    return {
        "documents": documents,
        "content": content,
        **(await collab.access_db.run(rows)),
        "groups": collab.users.groups(),
        "users": [u.username for u in collab.users.list_users()],
    }


async def request(api: Any, world: World, endpoint: str, caller: str, doc_id: str | None = None):
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(id=doc_id or world.doc_id)
    return await api(CALLERS[caller], method, path, body, params=world.params(caller))


@pytest.mark.parametrize(("endpoint", "caller", "status"), CASES)
async def test_matrix(api, collab, tokens, endpoint, caller, status):
    world = await make_world(api, collab, tokens)
    before = await snapshot(collab)
    reply = await request(api, world, endpoint, caller)
    assert reply.status == status, reply.body
    after = await snapshot(collab)
    if status >= 400:
        assert reply.body["message"], reply.body
        assert after == before, "a refused request changed something"
        return
    check_success(endpoint, caller, world, reply, before, after)


def check_success(
    endpoint: str, caller: str, world: World, reply: Any, before: dict, after: dict
) -> None:
    """What a successful request did, and that it did nothing else."""
    doc_id = world.doc_id
    username = CALLERS[caller]
    role = ROLE[caller]
    if endpoint in ("me", "list", "get", "get_content", "list_shares"):
        assert after == before, "a read changed something"
    if endpoint == "me":
        assert reply.body["username"] == username
        assert reply.body["is_admin"] is (caller == "admin")
    elif endpoint == "list":
        listed = {d["id"]: d["role"] for d in reply.body["documents"]}
        expected = {}
        if role is not None and caller != "link_holder":  # listing ignores links
            expected[doc_id] = role
        if caller in ("owner", "admin"):
            expected[world.other_id] = "owner"
        assert listed == expected
    elif endpoint == "create":
        assert reply.body["owner"] == username and reply.body["role"] == "owner"
        new = [d for d in after["documents"] if d not in before["documents"]]
        assert [d[0] for d in new] == [reply.body["id"]]
        assert after["content"][reply.body["id"]]["content"] == "new"
        assert after["shares"] == before["shares"] and after["links"] == before["links"]
    elif endpoint == "get":
        assert (reply.body["id"], reply.body["role"]) == (doc_id, role)
    elif endpoint == "get_content":
        assert reply.body == {"type": "file", "format": "text", "content": "original"}
    elif endpoint == "list_shares":
        assert reply.body["shares"] == [
            {"principal": "user:alice", "role": "owner"},
            {"principal": "user:bob", "role": "editor"},
            {"principal": "user:cora", "role": "commenter"},
            {"principal": "user:victor", "role": "viewer"},
            {"principal": "group:team", "role": "editor"},
            {"principal": "user:olga", "role": "owner"},
            {"principal": "link", "role": "viewer"},
        ]
    elif endpoint == "rename":
        assert (reply.body["name"], reply.body["role"]) == ("Renamed", role)
        mine = next(d for d in after["documents"] if d[0] == doc_id)
        assert mine[1] == "Renamed"
        assert after["content"] == before["content"]
        assert after["shares"] == before["shares"] and after["links"] == before["links"]
    elif endpoint == "delete":  # into the owner's trash: its shares stay for a restore
        assert doc_id not in {d[0] for d in after["documents"]}
        assert world.other_id in {d[0] for d in after["documents"]}
        assert after["shares"] == before["shares"] and after["links"] == before["links"]
    elif endpoint == "put_content":
        assert reply.body["role"] == role
        assert after["content"][doc_id]["content"] == "replaced"
        assert after["shares"] == before["shares"] and after["links"] == before["links"]
    elif endpoint in ("put_share", "put_owner_share", "change_owner_share"):
        principal = ENDPOINTS[endpoint][1].rsplit("/", 1)[1]
        new_role = ENDPOINTS[endpoint][2]["role"]
        assert reply.body == {"principal": principal, "role": new_role}
        ours = {(s[1], s[2], s[3]) for s in after["shares"] if s[0] == doc_id}
        assert (principal, new_role, username) in ours
        assert after["content"] == before["content"]
        assert after["links"] == before["links"]
    elif endpoint in ("delete_share", "delete_owner_share", "delete_link"):
        assert reply.body is None
        principal = ENDPOINTS[endpoint][1].rsplit("/", 1)[1]
        if principal == "link":
            assert after["links"] == [] and after["shares"] == before["shares"]
        else:
            gone = [s for s in before["shares"] if s not in after["shares"]]
            assert [(s[0], s[1]) for s in gone] == [(doc_id, principal)]
            assert after["links"] == before["links"]
        assert after["documents"] == before["documents"]
    else:  # pragma: no cover
        raise AssertionError(endpoint)


# -- a document one may not read is indistinguishable from a missing one ---------------------

DOC_ENDPOINTS = [e for e, (_, path, _) in ENDPOINTS.items() if "{id}" in path]


async def raw(
    jp_fetch: Any, token: str, method: str, path: str, body: Any, params=None, headers=None
):
    kwargs: dict[str, Any] = {
        "method": method,
        "raise_error": False,
        "headers": {"Authorization": f"token {token}", **(headers or {})},
        "params": params,
    }
    if body is not None:
        kwargs["body"] = json.dumps(body)
    response = await jp_fetch("api", "collab-docs", *path.split("/"), **kwargs)
    return response.code, response.body, response.headers.get("Content-Type")


@pytest.mark.parametrize("endpoint", DOC_ENDPOINTS)
async def test_unreadable_and_missing_documents_answer_the_same_404(
    api, collab, tokens, jp_fetch, endpoint
):
    world = await make_world(api, collab, tokens)
    before = await snapshot(collab)
    method, path, body = ENDPOINTS[endpoint]
    answers = {
        "stranger, real document": ("sam", world.doc_id, None),
        "stranger, missing document": ("sam", MISSING, None),
        "stranger, alice's unshared document": ("sam", world.other_id, None),
        "owner, missing document": ("alice", MISSING, None),
        "revoked user, real document": ("rex", world.doc_id, None),
        "wrong link, real document": ("sam", world.doc_id, {"link": world.link + "x"}),
        "link of another document": ("sam", world.other_id, {"link": world.link}),
        "viewer, alice's other document": ("victor", world.other_id, None),
    }
    seen = {}
    for what, (user, doc_id, params) in answers.items():
        seen[what] = await raw(jp_fetch, tokens[user], method, path.format(id=doc_id), body, params)
    expected = seen["stranger, missing document"]
    assert expected[0] == 404
    assert json.loads(expected[1])["message"]
    for what, answer in seen.items():
        assert answer == expected, what
    assert await snapshot(collab) == before


async def test_the_link_token_works_as_a_header_and_not_without_a_user(
    api, collab, tokens, jp_fetch
):
    world = await make_world(api, collab, tokens)
    path = f"documents/{world.doc_id}"
    reply = await api(None, "GET", path, params={"link": world.link})
    assert reply.status == 401
    header = {"X-Collab-Docs-Link": world.link}
    for endpoint, status in [
        ("get", 200),
        ("get_content", 200),
        ("list_shares", 200),
        ("rename", 403),
        ("put_content", 403),
        ("put_share", 403),
    ]:
        method, template, body = ENDPOINTS[endpoint]
        answer = await raw(
            jp_fetch, tokens["sam"], method, template.format(id=world.doc_id), body, None, header
        )
        assert answer[0] == status, endpoint
    reply = await api("sam", "GET", path, params={"link": world.link})
    assert (reply.status, reply.body["role"]) == (200, "viewer")
    # a stronger own role wins over the link's
    reply = await api("bob", "GET", path, params={"link": world.link})
    assert reply.body["role"] == "editor"
    # once the link is revoked, its holder is a stranger again
    assert (await api("alice", "DELETE", f"{path}/shares/link")).status == 204
    assert (await api("sam", "GET", path, params={"link": world.link})).status == 404
