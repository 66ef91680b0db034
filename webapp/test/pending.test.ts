import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { MemoryStore, PendingEdits, pendingKey } from "../src/pending";

const REMOTE = Symbol("provider");

function docWith(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText("source").insert(0, text);
  return doc;
}

describe("pending edits", () => {
  it("keys by server, user and document", () => {
    expect(pendingKey("ws://a/", "alice", "d1")).not.toBe(pendingKey("ws://a/", "bob", "d1"));
    expect(pendingKey("ws://a/", "alice", "d1")).not.toBe(pendingKey("ws://a/", "alice", "d2"));
    expect(pendingKey("ws://a/", "alice", "d1")).not.toBe(pendingKey("ws://b/", "alice", "d1"));
    // No way to forge another user's key with separators in a name.
    expect(pendingKey("s", "a:b", "c")).not.toBe(pendingKey("s", "a", "b:c"));
  });

  it("keeps local edits, not the server's, until sent", async () => {
    const server = docWith("from server\n");
    const doc = new Y.Doc();
    const store = new MemoryStore();
    const pending = new PendingEdits(doc, store, "k", REMOTE);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server), REMOTE);
    expect(pending.hasUnsent).toBe(false);
    doc.getText("source").insert(doc.getText("source").length, "offline");
    expect(pending.hasUnsent).toBe(true);
    await pending.flushed();
    expect(store.entries.has("k")).toBe(true);
    pending.markSent();
    await pending.flushed();
    expect(pending.hasUnsent).toBe(false);
    expect(store.entries.has("k")).toBe(false);
  });

  it("restores them in a new page on top of the server's state", async () => {
    const server = docWith("kept\n");
    const store = new MemoryStore();
    const first = new Y.Doc();
    Y.applyUpdate(first, Y.encodeStateAsUpdate(server), REMOTE);
    const before = new PendingEdits(first, store, "k", REMOTE);
    first.getText("source").insert(5, "typed offline");
    await before.flushed();
    before.destroy();

    const reopened = new Y.Doc();
    Y.applyUpdate(reopened, Y.encodeStateAsUpdate(server), REMOTE);
    const sent: Uint8Array[] = [];
    reopened.on("update", (update: Uint8Array, origin: unknown) => origin !== REMOTE && sent.push(update));
    const after = new PendingEdits(reopened, store, "k", REMOTE);
    expect(await after.restore()).toBe(true);
    expect(reopened.getText("source").toString()).toBe("kept\ntyped offline");
    expect(after.hasUnsent).toBe(true);
    // The provider sends the restored edit like any local one.
    Y.applyUpdate(server, Y.mergeUpdates(sent), REMOTE);
    expect(server.getText("source").toString()).toBe("kept\ntyped offline");
  });

  it("restores nothing for another key", async () => {
    const store = new MemoryStore();
    const doc = new Y.Doc();
    const alice = new PendingEdits(doc, store, pendingKey("s", "alice", "d"), REMOTE);
    doc.getText("source").insert(0, "secret");
    await alice.flushed();
    const other = new Y.Doc();
    const bob = new PendingEdits(other, store, pendingKey("s", "bob", "d"), REMOTE);
    expect(await bob.restore()).toBe(false);
    expect(other.getText("source").toString()).toBe("");
  });

  it("survives a failing store", async () => {
    const doc = new Y.Doc();
    const broken = { get: () => Promise.reject(new Error("no")), put: () => Promise.reject(new Error("quota")), delete: () => Promise.resolve() };
    const pending = new PendingEdits(doc, broken, "k", REMOTE);
    doc.getText("source").insert(0, "x");
    await pending.flushed();
    expect(pending.hasUnsent).toBe(true);
    expect(await pending.restore()).toBe(false);
  });
});
