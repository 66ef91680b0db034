import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import {
  anchorFromSelection,
  applyCommentEvent,
  canResolve,
  decodeCommentEvent,
  filterThreads,
  nameInThreads,
  resolveAnchor,
  type Thread,
} from "../src/comments/model";

function thread(over: Partial<Thread>): Thread {
  return {
    id: "t1",
    document_id: "d",
    anchor: { kind: "cell", cell_id: "c1" },
    quote: "",
    author: "bob",
    created: "2026-12-02T11:00:00Z",
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: null, end: null, cell_index: 0 },
    comments: [{ id: "k1", thread_id: "t1", author: "bob", body: "hi", mentions: [], created: "2026-12-02T11:00:00Z", edited: null }],
    ...over,
  };
}

describe("comment anchors", () => {
  it("makes relative positions that follow an insert before the range", () => {
    const doc = new Y.Doc();
    const text = doc.getText("source");
    text.insert(0, "hello world");
    const { anchor, quote } = anchorFromSelection(text, 6, 11, null);
    expect(quote).toBe("world");
    expect(anchor.kind).toBe("text");
    text.insert(0, ">> ");
    expect(resolveAnchor(doc, anchor, text)).toEqual({ from: 9, to: 14 });
    // The whole range deleted: detached (an empty range).
    text.delete(9, 5);
    expect(resolveAnchor(doc, anchor, text)).toBeNull();
  });

  it("makes a cell_range anchor in a cell's source, and refuses another text", () => {
    const doc = new Y.Doc();
    const cells = doc.getArray<Y.Map<unknown>>("cells");
    const cell = new Y.Map<unknown>();
    cell.set("id", "c1");
    cell.set("source", new Y.Text("x = 1\ny = 2"));
    cells.push([cell]);
    const source = cell.get("source") as Y.Text;
    const { anchor } = anchorFromSelection(source, 6, 11, "c1");
    expect(anchor).toMatchObject({ kind: "cell_range", cell_id: "c1" });
    expect(resolveAnchor(doc, anchor, source)).toEqual({ from: 6, to: 11 });
    expect(resolveAnchor(doc, anchor, doc.getText("other"))).toBeNull();
  });

  it("does not resolve positions naming items this document lacks", () => {
    const other = new Y.Doc();
    const text = other.getText("source");
    text.insert(0, "abc");
    const { anchor } = anchorFromSelection(text, 0, 2, null);
    const doc = new Y.Doc();
    expect(resolveAnchor(doc, anchor, doc.getText("source"))).toBeUndefined();
  });
});

describe("thread lists", () => {
  const mine = thread({ id: "a", author: "alice" });
  const replied = thread({
    id: "b",
    comments: [...thread({}).comments, { id: "k2", thread_id: "b", author: "alice", body: "ok", mentions: [], created: "", edited: null }],
  });
  const mentioning = thread({ id: "c", resolved: true, comments: [{ ...thread({}).comments[0]!, mentions: ["alice"] }] });
  const all = [mine, replied, mentioning];

  it("filters as the server does", () => {
    expect(filterThreads(all, { status: "open", mine: false, mentioningMe: false }, "alice").map((t) => t.id)).toEqual(["a", "b"]);
    expect(filterThreads(all, { status: "resolved", mine: false, mentioningMe: false }, "alice").map((t) => t.id)).toEqual(["c"]);
    expect(filterThreads(all, { status: "all", mine: true, mentioningMe: false }, "alice").map((t) => t.id)).toEqual(["a", "b"]);
    expect(filterThreads(all, { status: "all", mine: false, mentioningMe: true }, "alice").map((t) => t.id)).toEqual(["c"]);
  });

  it("applies live events by thread id", () => {
    let threads = applyCommentEvent([mine], { event: "thread.created", thread_id: "b", thread: replied });
    expect(threads.map((t) => t.id)).toEqual(["a", "b"]);
    threads = applyCommentEvent(threads, { event: "thread.updated", thread_id: "a", thread: { ...mine, resolved: true } });
    expect(threads[0]!.resolved).toBe(true);
    // A created event seen twice (reconnect + list) does not duplicate.
    threads = applyCommentEvent(threads, { event: "thread.created", thread_id: "b", thread: replied });
    expect(threads).toHaveLength(2);
    threads = applyCommentEvent(threads, { event: "thread.deleted", thread_id: "a", thread: null });
    expect(threads.map((t) => t.id)).toEqual(["b"]);
  });

  it("reads only well-formed events", () => {
    expect(decodeCommentEvent('{"type":"comments","event":"thread.deleted","thread_id":"x","thread":null}')).toEqual({
      event: "thread.deleted",
      thread_id: "x",
      thread: null,
    });
    expect(decodeCommentEvent("not json")).toBeNull();
    expect(decodeCommentEvent('{"type":"comments","event":"nope","thread_id":"x"}')).toBeNull();
  });

  it("lets the thread's author, editors and owners resolve", () => {
    expect(canResolve(mine, "commenter", "alice")).toBe(true);
    expect(canResolve(replied, "commenter", "alice")).toBe(false);
    expect(canResolve(replied, "editor", "alice")).toBe(true);
    expect(canResolve(mine, "viewer", "alice")).toBe(false);
  });
});

describe("nameInThreads", () => {
  it("names authors and resolvers as the server does, and nobody it does not name", () => {
    const threads = [thread({ author: "bob", author_name: "Bob Builder", resolved_by: "alice", resolved_by_name: "Alice Liddell" })];
    expect(nameInThreads(threads, "bob")).toBe("Bob Builder");
    expect(nameInThreads(threads, "alice")).toBe("Alice Liddell");
    expect(nameInThreads(threads, "carol")).toBeNull();
  });
});
