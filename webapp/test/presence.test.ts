import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { whereabouts } from "../src/awareness";

function position(text: Y.Text, index: number): unknown {
  return JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, index)));
}

describe("whereabouts (people list, following)", () => {
  it("names the line of a cursor in a text document", () => {
    const doc = new Y.Doc();
    const text = doc.getText("source");
    text.insert(0, "one\ntwo\nthree");
    const at = position(text, 9);
    expect(whereabouts({ cursor: { anchor: at, head: at } }, doc).label).toBe("line 3");
    expect(whereabouts({ cursor: null }, doc).label).toBe("in the document");
  });

  it("names the cell (1-based) and its type in a notebook", () => {
    const doc = new Y.Doc();
    const cells = doc.getArray<Y.Map<unknown>>("cells");
    for (const [id, type] of [["a", "code"], ["b", "markdown"]]) {
      const cell = new Y.Map<unknown>();
      cell.set("id", id);
      cell.set("cell_type", type);
      cell.set("source", new Y.Text("x"));
      cells.push([cell]);
    }
    const where = whereabouts({ cell: "b" }, doc);
    expect(where).toMatchObject({ label: "cell 2 · markdown", cell: "b" });
    expect(whereabouts({ cell: "gone" }, doc).label).toBe("in the document");
  });

  it("never throws on malformed states", () => {
    const doc = new Y.Doc();
    for (const state of [null, undefined, {}, { cell: 5 }, { cursor: "x" }, { cursor: { head: { item: { client: "x" } } } }]) {
      expect(whereabouts(state as Record<string, unknown>, doc).label).toBe("in the document");
    }
  });
});
