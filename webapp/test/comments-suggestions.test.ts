import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { ApiError, type Me } from "../src/api";
import type { CommentsClient } from "../src/comments/client";
import { anchorFromSelection, type Thread } from "../src/comments/model";
import { CommentsStore } from "../src/comments/store";
import {
  canDecide,
  canWithdraw,
  currentApplies,
  diffSuggestion,
  suggestionStatus,
} from "../src/comments/suggestions";

function thread(over: Partial<Thread> = {}): Thread {
  return {
    id: "t1",
    document_id: "d",
    anchor: { kind: "cell", cell_id: "c1" },
    quote: "world",
    author: "bob",
    created: "2026-12-02T11:00:00Z",
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: null, end: null, cell_index: 0 },
    comments: [],
    suggestion: { text: "there", original: "world", status: "pending", decided_by: null, decided_at: null, applies: true, why: null },
    ...over,
  };
}

describe("suggestion diff", () => {
  it("keeps the common start and end, strikes the old middle, inserts the new", () => {
    expect(diffSuggestion("The budget is final.", "The budget is a draft.")).toEqual([
      { kind: "same", text: "The budget is " },
      { kind: "removed", text: "final" },
      { kind: "added", text: "a draft" },
      { kind: "same", text: "." },
    ]);
  });

  it("shows a deletion and an insertion without empty parts", () => {
    expect(diffSuggestion("abc", "")).toEqual([{ kind: "removed", text: "abc" }]);
    expect(diffSuggestion("ac", "abc")).toEqual([
      { kind: "same", text: "a" },
      { kind: "added", text: "b" },
      { kind: "same", text: "c" },
    ]);
  });

  it("does not split a surrogate pair between the common part and the change", () => {
    const parts = diffSuggestion("x😀", "x😃");
    expect(parts.map((p) => p.text).join("")).not.toContain("\ud83d\ud83d");
    expect(parts).toEqual([
      { kind: "same", text: "x" },
      { kind: "removed", text: "😀" },
      { kind: "added", text: "😃" },
    ]);
  });

  it("keeps hostile text as plain strings", () => {
    const hostile = "<img src=x onerror=window.__pwned=1>";
    expect(diffSuggestion("a", hostile)).toEqual([
      { kind: "removed", text: "a" },
      { kind: "added", text: hostile },
    ]);
  });
});

describe("suggestion status and rights", () => {
  const name = (u: string): string => u.toUpperCase();

  it("names pending, accepted, rejected and withdrawn", () => {
    expect(suggestionStatus(thread(), name)).toBe("Pending");
    const decided = (status: "accepted" | "rejected", by: string): Thread =>
      thread({ suggestion: { ...thread().suggestion!, status, decided_by: by, decided_at: "2026-12-02T12:00:00Z", applies: false } });
    expect(suggestionStatus(decided("accepted", "alice"), name)).toBe("Accepted by ALICE");
    expect(suggestionStatus(decided("rejected", "alice"), name)).toBe("Rejected by ALICE");
    expect(suggestionStatus(decided("rejected", "bob"), name)).toBe("Withdrawn");
  });

  it("lets editors and owners decide, and the suggester withdraw a pending one", () => {
    expect(canDecide(thread(), "editor")).toBe(true);
    expect(canDecide(thread(), "owner")).toBe(true);
    expect(canDecide(thread(), "commenter")).toBe(false);
    expect(canWithdraw(thread(), "commenter", "bob")).toBe(true);
    expect(canWithdraw(thread(), "commenter", "carol")).toBe(false);
    expect(canWithdraw(thread(), "viewer", "bob")).toBe(false);
    const accepted = thread({ suggestion: { ...thread().suggestion!, status: "accepted" } });
    expect(canDecide(accepted, "owner")).toBe(false);
    expect(canWithdraw(accepted, "commenter", "bob")).toBe(false);
  });
});

describe("whether a suggestion still applies, as this page's document has it", () => {
  it("follows the server until the local text says otherwise", () => {
    expect(currentApplies(thread(), "world")).toEqual({ applies: true, why: null });
    expect(currentApplies(thread(), "wOrld")).toEqual({ applies: false, why: "the text it replaces changed since the suggestion was made" });
    expect(currentApplies(thread(), null)).toEqual({ applies: false, why: "the text it replaces is gone (the anchor is detached)" });
    const stale = thread({ suggestion: { ...thread().suggestion!, applies: false, why: "the cell it changes is gone" } });
    expect(currentApplies(stale, "world")).toEqual({ applies: false, why: "the cell it changes is gone" });
    // A page not synced yet (undefined): the server's word.
    expect(currentApplies(thread(), undefined)).toEqual({ applies: true, why: null });
  });

  it("a decided suggestion never applies, and says nothing", () => {
    const accepted = thread({ suggestion: { ...thread().suggestion!, status: "accepted", applies: false, why: "the suggestion was already accepted" } });
    expect(currentApplies(accepted, "world")).toEqual({ applies: false, why: null });
  });
});

const me: Me = { username: "alice", name: "alice", display_name: "Alice", initials: "A", color: "#000", is_admin: false };

describe("CommentsStore and suggestions", () => {
  it("reads the list again after a 409, so the thread shows why, and passes the 409 on", async () => {
    const stale = thread({ suggestion: { ...thread().suggestion!, applies: false, why: "the text it replaces changed since the suggestion was made" } });
    let lists = 0;
    const client = {
      accept: () => Promise.reject(new ApiError(409, "the suggestion does not apply: the text it replaces changed since the suggestion was made")),
      list: () => {
        lists += 1;
        return Promise.resolve([stale]);
      },
    } as unknown as CommentsClient;
    const store = new CommentsStore(client, new Y.Doc(), me, "editor", null);
    store.threads = [thread()];
    await expect(store.decide("t1", true)).rejects.toMatchObject({ status: 409 });
    expect(lists).toBe(1);
    expect(store.thread("t1")?.suggestion?.applies).toBe(false);
    store.destroy();
  });

  it("posts the suggested text with the thread", async () => {
    const doc = new Y.Doc();
    const text = doc.getText("source");
    text.insert(0, "hello world");
    const posted: unknown[] = [];
    const client = {
      create: (_anchor: unknown, body: string, suggestion: unknown) => {
        posted.push({ body, suggestion });
        return Promise.resolve(thread());
      },
    } as unknown as CommentsClient;
    const store = new CommentsStore(client, doc, me, "commenter", null);
    store.setTarget({ kind: "range", text, cellId: null, from: 6, to: 11 });
    await store.create("Friendlier?", "there");
    expect(posted).toEqual([{ body: "Friendlier?", suggestion: { text: "there" } }]);
    store.destroy();
  });

  it("keeps commenters in suggest mode; editors switch it", () => {
    const commenter = new CommentsStore({} as CommentsClient, new Y.Doc(), me, "commenter", null);
    commenter.setSuggesting(false);
    expect(commenter.suggesting).toBe(true);
    const editor = new CommentsStore({} as CommentsClient, new Y.Doc(), me, "editor", null);
    expect(editor.suggesting).toBe(false);
    editor.setSuggesting(true);
    expect(editor.suggesting).toBe(true);
    commenter.destroy();
    editor.destroy();
  });

  it("reads a thread's current text through its anchor, and null once deleted", () => {
    const doc = new Y.Doc();
    const text = doc.getText("source");
    text.insert(0, "hello world!");
    const { anchor } = anchorFromSelection(text, 6, 11, null);
    const store = new CommentsStore({} as CommentsClient, doc, me, "editor", null);
    const t = thread({ anchor });
    text.insert(0, ">> ");
    expect(store.currentText(t)).toBe("world");
    text.insert(11, "R");
    expect(store.currentText(t)).toBe("woRrld");
    expect(currentApplies(t, store.currentText(t)).applies).toBe(false);
    text.delete(8, 7);
    expect(store.currentText(t)).toBe(null);
    store.destroy();
  });
});
