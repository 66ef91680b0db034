import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { cursorOf, labelledState } from "../src/awareness";

describe("awareness cursor", () => {
  const doc = new Y.Doc();
  const text = doc.getText("source");
  text.insert(0, "hello");

  it("reads the compact JSON form (no item at the end of a text) that crashed y-codemirror.next", () => {
    const end = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, 5));
    expect(end.item).toBeUndefined();
    const cursor = cursorOf({ cursor: { anchor: end, head: end } });
    expect(cursor).not.toBeNull();
    expect(Y.createAbsolutePositionFromRelativePosition(cursor!.anchor, doc)?.index).toBe(5);
  });

  it("reads the full form, as sent over the wire", () => {
    const position = JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, 2)));
    const cursor = cursorOf({ cursor: { anchor: position, head: position } });
    expect(Y.createAbsolutePositionFromRelativePosition(cursor!.head, doc)?.index).toBe(2);
  });

  it("drops malformed cursors", () => {
    expect(cursorOf({ cursor: { anchor: {}, head: {} } })).toBeNull();
    expect(cursorOf({ cursor: { anchor: { item: { client: "x" } }, head: null } })).toBeNull();
    expect(cursorOf({ cursor: "here" })).toBeNull();
    expect(labelledState({ cursor: { anchor: 1, head: 2 }, user: { name: "bob" } }).cursor).toBeNull();
  });
});
