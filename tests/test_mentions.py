"""Mentions and notifications (docs/comments.md) on a real server: ``@name`` reaches the
named reader's inbox, the audit trail (``comment.mentioned``) and a real SMTP server
(aiosmtpd on a free port); nobody reads or marks another's inbox; someone who cannot
read the document gets nothing that carries its content, and the commenter is told;
completion of the document's readers. Every exchange is validated against
docs/openapi.yaml."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from jupyter_collab_docs.comments.mentions import ExternalPeople, people_for
from jupyter_collab_docs.notify import Mailer, SmtpSettings
from jupyter_collab_docs.testing import eventually, free_port
from tests.test_openapi import checked, new_doc, openapi  # noqa: F401  (fixtures)

SECRET_CONTENT = "the launch code is 0000"
SECRET_COMMENT = "the password is swordfish"
HOSTILE = '<img src=x onerror="window.pwned=1">'


class Mailbox:
    """aiosmtpd's handler: every message the server accepts, as (recipients, message)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def collab_config(mailbox: Mailbox, request: pytest.FixtureRequest) -> dict[str, Any]:
    # A test parametrized with backend="mongodb" runs on the MongoDB store (FerretDB).
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("backend", "sqlite") if callspec else "sqlite"
    store = (
        {"store_url": request.getfixturevalue("mongodb_test_url")} if backend != "sqlite" else {}
    )
    return {
        **store,
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "mail_from": "Docs <docs@example.test>",
        "mail_address_template": "{username}@example.test",
        "public_url": "https://docs.example.test/hub/",
    }


def audit_events(collab: Any, kind: str) -> list[dict[str, Any]]:
    path = Path(collab.data_dir, "audit.jsonl")
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in events if e.get("kind") == kind]


async def shared_doc(checked, collab, tokens) -> str:  # noqa: F811
    for name in ("erin", "gina"):
        tokens[name] = collab.users.add(name, HOSTILE if name == "erin" else None)
    doc = await new_doc(checked, content=SECRET_CONTENT)
    for principal, role in (("user:bob", "commenter"), ("user:erin", "viewer")):
        reply = await checked(
            "alice", "PUT", f"documents/{doc['id']}/shares/{principal}", {"role": role}
        )
        assert reply.status == 200, reply.body
    return str(doc["id"])


async def comment(checked, user: str, doc_id: str, body: str):  # noqa: F811
    anchor = {"kind": "text", "index": 0, "length": 3}
    return await checked(
        user, "POST", f"documents/{doc_id}/threads", {"anchor": anchor, "body": body}
    )


@pytest.mark.parametrize("backend", ["sqlite", "mongodb"])
async def test_a_mention_reaches_the_inbox_the_event_stream_and_mail(
    checked,  # noqa: F811
    collab,
    tokens,
    mailbox,
    backend,
):
    mailbox.received.clear()
    assert collab.store_url.startswith(backend)
    doc_id = await shared_doc(checked, collab, tokens)
    created = await comment(
        checked, "bob", doc_id, f"@alice @erin @gina @nobody @bob {SECRET_COMMENT} {HOSTILE}"
    )
    assert created.status == 201, created.body
    thread_id = created.body["id"]
    report = created.body["notifications"]
    assert report == {
        "notified": ["alice", "erin"],
        "cannot_read": ["gina"],
        "unknown": ["nobody"],
        "may_share": False,  # bob, a commenter, may not share: the face offers nothing
    }

    # each reader's own inbox, unread first time, with the thread to jump to
    inbox = await checked("alice", "GET", "inbox")
    assert inbox.status == 200
    assert inbox.body["unread"] == 1
    (note,) = inbox.body["notifications"]
    assert (note["document_id"], note["thread_id"], note["read"]) == (doc_id, thread_id, False)
    assert (note["author"], note["document_name"]) == ("bob", "Doc")
    assert SECRET_COMMENT in note["excerpt"]  # alice reads the document: she may read it
    assert (await checked("erin", "GET", "inbox")).body["unread"] == 1
    for nobody in ("gina", "bob", "carol"):  # not readable, the author, not mentioned
        assert (await checked(nobody, "GET", "inbox")).body == {"notifications": [], "unread": 0}

    # nobody marks another's notification read
    mark = await checked("bob", "POST", f"inbox/{note['id']}/read")
    assert mark.status == 404
    assert (await checked("alice", "GET", "inbox")).body["unread"] == 1
    mark = await checked("alice", "POST", f"inbox/{note['id']}/read")
    assert (mark.status, mark.body) == (200, {"unread": 0})
    assert (await checked("alice", "GET", "inbox")).body["notifications"][0]["read"] is True
    assert (await checked("alice", "POST", "inbox/not-an-id/read")).status == 404
    assert (await checked("erin", "POST", "inbox/read")).body == {"unread": 0}
    assert (await checked(None, "GET", "inbox", valid_request=False)).status in (401, 403)

    # the event stream: one comment.mentioned per reader, no body, nothing for gina
    await eventually(lambda: len(audit_events(collab, "comment.mentioned")) == 2)
    events = audit_events(collab, "comment.mentioned")
    assert sorted(e["recipient"] for e in events) == ["alice", "erin"]
    assert all(e["thread_id"] == thread_id and e["actor"] == "bob" for e in events)
    assert SECRET_COMMENT not in json.dumps(events) and SECRET_CONTENT not in json.dumps(events)

    # e-mail, sent off the request: to each reader, with a link to the thread only
    await eventually(lambda: len(mailbox.to("erin@example.test")) == 1, what="erin's mail")
    await eventually(lambda: len(mailbox.to("alice@example.test")) == 1, what="alice's mail")
    message = mailbox.to("alice@example.test")[0]
    assert message["To"] == "alice@example.test"
    assert message["From"] == "Docs <docs@example.test>"
    assert message["Subject"] == "bob mentioned you in Doc"
    text = message.get_content()
    link = f"https://docs.example.test/hub/collab-docs/#/d/{doc_id}?thread={thread_id}"
    assert link in text
    for secret in (SECRET_CONTENT, SECRET_COMMENT, "launch"):
        assert secret not in message.as_string()
    assert not mailbox.to("gina@example.test") and not mailbox.to("bob@example.test")
    assert not mailbox.to("nobody@example.test")
    assert collab.mentions.mailer.counts == {"sent": 2, "failed": 0}


async def test_edits_notify_new_mentions_and_owners_get_the_share_offer(
    checked,  # noqa: F811
    collab,
    tokens,
):
    doc_id = await shared_doc(checked, collab, tokens)
    created = await comment(checked, "alice", doc_id, "@gina please look")
    assert created.body["notifications"]["cannot_read"] == ["gina"]
    assert created.body["notifications"]["may_share"] is True  # alice owns it
    thread = created.body["id"]
    assert (await checked("gina", "GET", "inbox")).body["unread"] == 0

    reply = await checked(
        "bob", "POST", f"documents/{doc_id}/threads/{thread}/comments", {"body": "@erin hi"}
    )
    assert reply.body["notifications"]["notified"] == ["erin"]
    comment_id = reply.body["comments"][-1]["id"]
    edit = await checked(
        "bob",
        "PATCH",
        f"documents/{doc_id}/threads/{thread}/comments/{comment_id}",
        {"body": "@erin and @alice"},
    )
    assert edit.status == 200
    assert edit.body["notifications"]["notified"] == ["alice"]  # erin was told already
    assert (await checked("erin", "GET", "inbox")).body["unread"] == 1

    # losing the document takes its notifications out of the inbox
    await checked("alice", "DELETE", f"documents/{doc_id}/shares/user:erin")
    assert (await checked("erin", "GET", "inbox")).body == {"notifications": [], "unread": 0}


async def test_readers_completion(checked, collab, tokens):  # noqa: F811
    doc_id = await shared_doc(checked, collab, tokens)
    tokens["frank"] = collab.users.add("frank", "Frank Zappa")
    collab.users.add_group("team")
    collab.users.add_member("team", "frank")
    await checked("alice", "PUT", f"documents/{doc_id}/shares/group:team", {"role": "viewer"})
    readers = f"documents/{doc_id}/readers"

    everyone = await checked("bob", "GET", readers)
    assert everyone.status == 200
    names = [r["username"] for r in everyone.body["readers"]]
    assert sorted(names) == ["alice", "bob", "erin", "frank"]
    found = await checked("bob", "GET", readers, params={"q": "fr"})
    assert found.body["readers"] == [{"username": "frank", "display_name": "Frank Zappa"}]
    by_name = await checked("bob", "GET", readers, params={"q": "ali"})
    assert by_name.body["readers"] == [{"username": "alice", "display_name": "Alice Liddell"}]
    assert (await checked("erin", "GET", readers)).status == 403  # a viewer mentions nobody
    assert (await checked("gina", "GET", readers)).status == 404


async def test_a_mail_server_that_is_down_costs_the_commenter_nothing(
    checked,  # noqa: F811
    collab,
    tokens,
):
    # a real connection to a port nobody listens on: refused, logged and counted
    collab.mentions.mailer = Mailer(SmtpSettings("127.0.0.1", free_port(), "docs@example.test"))
    doc_id = await shared_doc(checked, collab, tokens)
    created = await comment(checked, "bob", doc_id, "@alice look")
    assert created.status == 201
    assert created.body["notifications"]["notified"] == ["alice"]
    await eventually(lambda: collab.mentions.mailer.counts == {"sent": 0, "failed": 1})
    assert (await checked("alice", "GET", "inbox")).body["unread"] == 1


async def test_a_stalled_mail_server_does_not_hold_up_the_comment(
    checked,  # noqa: F811
    collab,
    tokens,
):
    # A real server that accepts the connection and never says a word: smtplib waits
    # for its greeting until smtp_timeout. The comment must not wait with it.
    stalled = socket.create_server(("127.0.0.1", 0))
    try:
        port = stalled.getsockname()[1]
        collab.mentions.mailer = Mailer(SmtpSettings("127.0.0.1", port, timeout=4.0))
        doc_id = await shared_doc(checked, collab, tokens)
        started = time.monotonic()
        created = await comment(checked, "bob", doc_id, "@alice look")
        took = time.monotonic() - started
        assert created.status == 201
        assert took < 3.5, f"the comment waited {took:.1f} s for the mail server"
        await eventually(lambda: collab.mentions.mailer.counts["failed"] == 1, timeout=30)
    finally:
        stalled.close()


async def test_under_jupyterhub_a_mention_is_checked_by_name():
    # No directory of ours: anyone may exist; administrators are admin_users; hub groups
    # are unknown here, so only shares by name (and the creator) make a reader.
    people = people_for(object(), None, ["root"])  # type: ignore[arg-type]
    assert isinstance(people, ExternalPeople)
    alice = await people.actor("alice")
    assert alice is not None and (alice.username, alice.is_admin, alice.groups) == (
        "alice",
        False,
        frozenset(),
    )
    root = await people.actor("root")
    assert root is not None and root.is_admin
    assert await people.members(["team"]) == set()


@pytest.mark.parametrize("backend", ["sqlite", "mongodb"])
async def test_an_edited_or_deleted_comment_leaves_no_stale_text_in_inboxes(
    checked,  # noqa: F811
    collab,
    tokens,
    backend,
):
    doc_id = await shared_doc(checked, collab, tokens)
    created = await comment(checked, "bob", doc_id, f"@alice {SECRET_COMMENT}")
    thread = f"documents/{doc_id}/threads/{created.body['id']}"
    first = created.body["comments"][0]["id"]
    reply = await checked("bob", "POST", f"{thread}/comments", {"body": f"@erin {SECRET_COMMENT}"})
    second = reply.body["comments"][-1]["id"]
    assert (await checked("alice", "GET", "inbox")).body["unread"] == 1

    # the author takes the secret out: the inbox shows the comment as it is now
    edit = await checked("bob", "PATCH", f"{thread}/comments/{first}", {"body": "@alice oops"})
    assert edit.status == 200
    (note,) = (await checked("alice", "GET", "inbox")).body["notifications"]
    assert note["excerpt"] == "@alice oops"

    # a deleted reply, then the whole thread: their notifications go with them
    assert (await checked("bob", "DELETE", f"{thread}/comments/{second}")).status == 200
    assert (await checked("erin", "GET", "inbox")).body == {"notifications": [], "unread": 0}
    assert (await checked("bob", "DELETE", thread)).status == 204
    assert (await checked("alice", "GET", "inbox")).body == {"notifications": [], "unread": 0}
