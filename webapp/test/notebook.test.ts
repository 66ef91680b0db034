import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { collaborators, labelledState } from "../src/awareness";
import { bundleView, deleteCell, insertCell, notebookView, outputView, stripAnsi } from "../src/notebook";

/** A notebook laid out as jupyter_ydoc's YNotebook.create_ycell does. */
function notebook(): Y.Doc {
  const doc = new Y.Doc();
  const cells = doc.getArray<Y.Map<unknown>>("cells");
  const code = new Y.Map<unknown>();
  const stream = new Y.Map<unknown>();
  stream.set("output_type", "stream");
  stream.set("name", "stdout");
  stream.set("text", new Y.Text("hello\n"));
  const result = new Y.Map<unknown>();
  result.set("output_type", "execute_result");
  result.set("data", { "text/plain": "2", "text/html": ["<b>", "2</b>"] });
  code.set("id", "c1");
  code.set("cell_type", "code");
  code.set("source", new Y.Text("print('hello')"));
  code.set("metadata", new Y.Map());
  code.set("execution_count", 3);
  code.set("outputs", Y.Array.from([stream, result]));
  const markdown = new Y.Map<unknown>();
  markdown.set("id", "m1");
  markdown.set("cell_type", "markdown");
  markdown.set("source", new Y.Text("# Title"));
  cells.push([code, markdown]);
  return doc;
}

describe("notebook view model", () => {
  it("reads cells, sources and outputs from the Y structure", () => {
    const view = notebookView(notebook());
    expect(view.map((c) => [c.id, c.type, c.source?.toString(), c.executionCount])).toEqual([
      ["c1", "code", "print('hello')", 3],
      ["m1", "markdown", "# Title", null],
    ]);
    expect(view[0]!.outputs).toEqual([
      { kind: "stream", name: "stdout", text: "hello\n" },
      { kind: "html", html: "<b>2</b>" },
    ]);
    expect(view[1]!.outputs).toEqual([]);
  });

  it("sees live changes to sources and outputs", () => {
    const doc = notebook();
    const cell = doc.getArray<Y.Map<unknown>>("cells").get(0);
    (cell.get("source") as Y.Text).insert(0, "# hi\n");
    (cell.get("outputs") as Y.Array<unknown>).delete(0, 2);
    const [first] = notebookView(doc);
    expect(first!.source!.toString()).toBe("# hi\nprint('hello')");
    expect(first!.outputs).toEqual([]);
  });

  it("picks the richest safe view of a mime bundle", () => {
    expect(bundleView({ "image/png": "iVBO\nRw==", "text/plain": "<Figure>" })).toEqual({
      kind: "image",
      mime: "image/png",
      src: "data:image/png;base64,iVBORw==",
    });
    const svg = bundleView({ "image/svg+xml": "<svg onload='x'/>" });
    expect(svg.kind === "image" && svg.src.startsWith("data:image/svg+xml;charset=utf-8,%3Csvg")).toBe(true);
    expect(bundleView({ "text/plain": ["a", "b"] })).toEqual({ kind: "text", mime: "text/plain", text: "ab" });
    expect(bundleView({ "application/json": { a: 1 } })).toMatchObject({ kind: "text", mime: "application/json" });
    expect(bundleView({ "application/x-widget": {} })).toEqual({ kind: "unsupported", mimes: ["application/x-widget"] });
  });

  it("shows errors without terminal colours", () => {
    expect(stripAnsi("\u001b[0;31mValueError\u001b[0m: bad")).toBe("ValueError: bad");
    expect(
      outputView({ output_type: "error", ename: "E", evalue: "v", traceback: ["\u001b[1mline 1\u001b[0m", "line 2"] }),
    ).toEqual({ kind: "error", ename: "E", evalue: "v", traceback: "line 1\nline 2" });
  });

  it("adds and deletes cells in jupyter_ydoc's layout", () => {
    const doc = notebook();
    const cell = insertCell(doc, 1, "code");
    expect(cell.get("cell_type")).toBe("code");
    expect(cell.get("source")).toBeInstanceOf(Y.Text);
    expect(cell.get("outputs")).toBeInstanceOf(Y.Array);
    expect(cell.get("metadata")).toBeInstanceOf(Y.Map);
    expect(cell.get("execution_count")).toBeNull();
    expect(typeof cell.get("id")).toBe("string");
    expect(notebookView(doc).map((c) => c.type)).toEqual(["code", "code", "markdown"]);
    deleteCell(doc, 0);
    expect(notebookView(doc).map((c) => c.id)).toEqual([cell.get("id"), "m1"]);
  });
});

describe("awareness", () => {
  const states = new Map<number, Record<string, unknown>>([
    [1, { user: { name: "alice", display_name: "Alice Liddell", initials: "AL", color: "#1f77b4" } }],
    [2, { user: { name: "bob", display_name: "Bob Builder", initials: "BB", color: "#d62728" }, cursor: null }],
    [3, { user: { name: "bob", display_name: "Bob Builder", initials: "BB", color: "#d62728" } }],
    [4, { user: { name: "eve", color: "javascript:alert(1)" } }],
    [5, {}],
  ]);

  it("lists the other people once each, from the server-written user field", () => {
    const people = collaborators(states, 1, "alice");
    expect(people.map((p) => [p.username, p.displayName, p.initials, p.clients])).toEqual([
      ["bob", "Bob Builder", "BB", [2, 3]],
      ["eve", "eve", "EV", [4]],
    ]);
    expect(people[1]!.color).toBe("#6b7280"); // not a colour: replaced
  });

  it("labels remote cursors with the display name and colour", () => {
    expect(labelledState(states.get(2)!)).toMatchObject({
      user: { name: "Bob Builder", color: "#d62728", colorLight: "#d6272833" },
    });
  });
});

describe("estimateCellHeight", () => {
  it("grows with source lines and outputs, and ignores outputs of non-code cells", async () => {
    const { estimateCellHeight, CELL_METRICS: m } = await import("../src/notebook");
    const one = estimateCellHeight("code", "x = 1", []);
    const three = estimateCellHeight("code", "a\nb\nc", []);
    expect(three - one).toBe(Math.round(m.chrome + 3 * m.line) - Math.round(m.chrome + m.line));
    const stream = { kind: "stream" as const, name: "stdout", text: "1\n2\n3\n" };
    expect(estimateCellHeight("code", "x", [stream])).toBe(Math.round(m.chrome + m.line + m.outputGap + 3 * m.outputLine));
    expect(estimateCellHeight("markdown", "x", [stream])).toBe(estimateCellHeight("markdown", "x", []));
    const image = { kind: "image" as const, mime: "image/png", src: "data:" };
    expect(estimateCellHeight("code", "x", [image])).toBeGreaterThan(m.image);
  });
});

describe("moveCell and changeCellType", () => {
  async function threeCells() {
    const { insertCell, notebookCells } = await import("../src/notebook");
    const doc = new Y.Doc();
    for (const [i, type] of (["code", "markdown", "code"] as const).entries()) {
      const cell = insertCell(doc, i, type);
      (cell.get("source") as Y.Text).insert(0, `s${i}`);
    }
    const sources = () => notebookCells(doc).toArray().map((c) => (c.get("source") as Y.Text).toString());
    return { doc, sources, cells: notebookCells(doc) };
  }

  it("moves a cell with its content, outputs included, in one transaction", async () => {
    const { moveCell } = await import("../src/notebook");
    const { doc, sources, cells } = await threeCells();
    const outputs = cells.get(2).get("outputs") as Y.Array<unknown>;
    const stream = new Y.Map<unknown>();
    stream.set("output_type", "stream");
    stream.set("text", new Y.Text("out\n"));
    outputs.push([stream]);
    const id = cells.get(2).get("id");
    let transactions = 0;
    doc.on("afterTransaction", () => transactions++);
    const moved = moveCell(doc, 2, 0);
    expect(transactions).toBe(1);
    expect(sources()).toEqual(["s2", "s0", "s1"]);
    expect(moved?.get("id")).toBe(id);
    expect(((cells.get(0).get("outputs") as Y.Array<Y.Map<unknown>>).get(0).get("text") as Y.Text).toString()).toBe("out\n");
    expect(moveCell(doc, 0, 3)).toBeNull();
    expect(moveCell(doc, 1, 1)).toBeNull();
  });

  it("changes a cell's type keeping its id and source", async () => {
    const { changeCellType, cellType } = await import("../src/notebook");
    const { doc, sources, cells } = await threeCells();
    const id = cells.get(0).get("id");
    changeCellType(doc, 0, "markdown");
    expect(cellType(cells.get(0))).toBe("markdown");
    expect(cells.get(0).get("id")).toBe(id);
    expect(cells.get(0).has("outputs")).toBe(false);
    expect(sources()).toEqual(["s0", "s1", "s2"]);
    changeCellType(doc, 1, "code");
    expect(cells.get(1).get("outputs")).toBeInstanceOf(Y.Array);
    expect(changeCellType(doc, 1, "code")).toBeNull();
  });
});
