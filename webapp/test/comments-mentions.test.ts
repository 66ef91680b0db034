import { describe, expect, it } from "vitest";

import { completeMention, type CompletionState, completionKey, mentionAt, mentionNotice } from "../src/comments/mentions";

const readers = [
  { username: "alice", display_name: "Alice A." },
  { username: "alfred", display_name: "<img src=x onerror=alert(1)>" },
];

describe("mentionAt", () => {
  it("finds the @word being typed before the caret", () => {
    expect(mentionAt("hello @al", 9)).toEqual({ from: 6, query: "al" });
    expect(mentionAt("@b", 2)).toEqual({ from: 0, query: "b" });
    expect(mentionAt("(@bo.b-x", 8)).toEqual({ from: 1, query: "bo.b-x" });
  });

  it("ignores e-mail addresses, finished words and a bare @", () => {
    expect(mentionAt("mail me@al", 10)).toBeNull();
    expect(mentionAt("@al done", 8)).toBeNull();
    expect(mentionAt("just @", 6)).toBeNull();
  });
});

describe("completeMention", () => {
  it("replaces the @word by @username and a space, caret after it", () => {
    expect(completeMention("hi @al", 6, "alice")).toEqual({ text: "hi @alice ", caret: 10 });
  });

  it("keeps the text after the caret, without doubling a space", () => {
    expect(completeMention("hi @al there", 6, "alice")).toEqual({ text: "hi @alice there", caret: 10 });
  });

  it("leaves the text alone when no @word is before the caret", () => {
    expect(completeMention("hi al", 5, "alice")).toEqual({ text: "hi al", caret: 5 });
  });
});

describe("completionKey", () => {
  const open: CompletionState = { readers, active: 0 };

  it("moves with the arrows, wrapping round", () => {
    expect(completionKey(open, "ArrowDown")).toEqual({ state: { readers, active: 1 }, handled: true });
    expect(completionKey({ readers, active: 1 }, "ArrowDown").state?.active).toBe(0);
    expect(completionKey(open, "ArrowUp").state?.active).toBe(1);
  });

  it("picks the active reader with Enter or Tab, and closes with Escape", () => {
    expect(completionKey({ readers, active: 1 }, "Enter")).toEqual({ state: null, handled: true, pick: readers[1] });
    expect(completionKey(open, "Tab")).toEqual({ state: null, handled: true, pick: readers[0] });
    expect(completionKey(open, "Escape")).toEqual({ state: null, handled: true });
  });

  it("lets keys through when the list is closed or empty, and other keys always", () => {
    expect(completionKey(null, "Enter")).toEqual({ state: null, handled: false });
    expect(completionKey({ readers: [], active: 0 }, "ArrowDown").handled).toBe(false);
    expect(completionKey(open, "a")).toEqual({ state: open, handled: false });
  });
});

describe("mentionNotice", () => {
  it("says nothing when everyone was told", () => {
    expect(mentionNotice(undefined)).toBeNull();
    expect(mentionNotice({ notified: ["alice"], cannot_read: [], unknown: [], may_share: true })).toBeNull();
  });

  it("names who cannot read, offers Share only when allowed, lists unknown names", () => {
    expect(mentionNotice({ notified: [], cannot_read: ["gina"], unknown: [], may_share: true })).toEqual({
      cannotRead: "gina cannot read this document",
      unknown: null,
      offerShare: true,
    });
    expect(mentionNotice({ notified: [], cannot_read: ["gina", "hal"], unknown: ["nobdy"], may_share: false })).toEqual({
      cannotRead: "gina and hal cannot read this document",
      unknown: "nobdy: no such user",
      offerShare: false,
    });
    expect(mentionNotice({ notified: [], cannot_read: [], unknown: ["x", "y", "z"], may_share: true })).toEqual({
      cannotRead: null,
      unknown: "x, y and z: no such user",
      offerShare: false,
    });
  });
});
