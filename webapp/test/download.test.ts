import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { downloadName, fileFromDoc, notebookJson } from "../src/download";

/** A notebook laid out as jupyter_ydoc's YNotebook does (ydoc.set of an nbformat 4.5). */
function notebook(): Y.Doc {
  const doc = new Y.Doc();
  const meta = doc.getMap<unknown>("meta");
  meta.set("nbformat", 4);
  meta.set("nbformat_minor", 5);
  meta.set("metadata", { kernelspec: { name: "python3" }, trusted: true });
  const code = new Y.Map<unknown>();
  code.set("id", "c1");
  code.set("cell_type", "code");
  code.set("source", new Y.Text("print(1)"));
  code.set("metadata", new Y.Map());
  code.set("execution_count", 2);
  code.set("execution_state", "idle");
  const stream = new Y.Map<unknown>();
  stream.set("output_type", "stream");
  stream.set("name", "stdout");
  stream.set("text", new Y.Text("1\n"));
  code.set("outputs", Y.Array.from([stream]));
  const markdown = new Y.Map<unknown>();
  markdown.set("id", "m1");
  markdown.set("cell_type", "markdown");
  markdown.set("source", new Y.Text("# Title"));
  markdown.set("metadata", new Y.Map());
  markdown.set("attachments", {});
  doc.getArray<Y.Map<unknown>>("cells").push([code, markdown]);
  return doc;
}

describe("download", () => {
  it("names files as the server does", () => {
    expect(downloadName("Report", "notebook")).toBe("Report.ipynb");
    expect(downloadName("Report.IPYNB", "notebook")).toBe("Report.IPYNB");
    expect(downloadName("notes", "file")).toBe("notes.txt");
    expect(downloadName("script.py", "file")).toBe("script.py");
    expect(downloadName(".env", "file")).toBe(".env.txt");
    expect(downloadName("a/b", "file")).toBe("a\u2215b.txt");
  });

  it("turns a notebook's Y.Doc into nbformat JSON, as jupyter_ydoc does", () => {
    expect(notebookJson(notebook())).toEqual({
      cells: [
        {
          id: "c1",
          cell_type: "code",
          source: "print(1)",
          metadata: {},
          execution_count: 2,
          outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }],
        },
        { id: "m1", cell_type: "markdown", source: "# Title", metadata: {} },
      ],
      metadata: { kernelspec: { name: "python3" } },
      nbformat: 4,
      nbformat_minor: 5,
    });
  });

  it("writes a text document's text", async () => {
    const doc = new Y.Doc();
    doc.getText("source").insert(0, "héllo");
    const file = fileFromDoc(doc, "file");
    expect(file.type).toMatch(/^text\/plain/);
    expect(await file.text()).toBe("héllo");
  });
});
