/**
 * The notebook's Yjs structure (jupyter_ydoc's YNotebook) as a view model.
 *
 *   cells: Y.Array<Y.Map> with, per cell:
 *     id: string, cell_type: "code" | "markdown" | "raw", source: Y.Text,
 *     metadata: Y.Map, execution_count: number | null (code), execution_state (code),
 *     outputs: Y.Array<Y.Map> (code; a stream output's "text" is a Y.Text), attachments
 *   meta: Y.Map { nbformat, nbformat_minor, metadata }
 *
 * The sources are edited live (one CodeMirror per cell bound to its Y.Text); the outputs
 * are rendered read-only.
 */

import * as Y from "yjs";

export type CellType = "code" | "markdown" | "raw";

export type OutputView =
  | { kind: "stream"; name: string; text: string }
  | { kind: "error"; ename: string; evalue: string; traceback: string }
  | { kind: "image"; mime: string; src: string }
  | { kind: "html"; html: string }
  | { kind: "text"; mime: string; text: string }
  | { kind: "unsupported"; mimes: string[] };

export interface CellView {
  id: string;
  type: CellType;
  source: Y.Text | null;
  executionCount: number | null;
  outputs: OutputView[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** nbformat's multiline strings are a string or a list of strings. */
export function joinText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((part) => (typeof part === "string" ? part : "")).join("");
  return "";
}

// ANSI escape sequences (colours in tracebacks): CSI and OSC sequences.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** The one view of a mime bundle to show, richest safe type first. */
export function bundleView(data: Record<string, unknown>): OutputView {
  for (const mime of IMAGE_TYPES) {
    if (typeof data[mime] === "string" || Array.isArray(data[mime])) {
      const b64 = joinText(data[mime]).replace(/\s+/g, "");
      return { kind: "image", mime, src: `data:${mime};base64,${b64}` };
    }
  }
  if (data["image/svg+xml"] !== undefined) {
    // As an <img>, an SVG cannot run scripts.
    const svg = joinText(data["image/svg+xml"]);
    return { kind: "image", mime: "image/svg+xml", src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` };
  }
  if (data["text/html"] !== undefined) {
    return { kind: "html", html: joinText(data["text/html"]) };
  }
  for (const mime of ["text/markdown", "text/latex", "text/plain"]) {
    if (data[mime] !== undefined) return { kind: "text", mime, text: joinText(data[mime]) };
  }
  if (data["application/json"] !== undefined) {
    return { kind: "text", mime: "application/json", text: JSON.stringify(data["application/json"], null, 2) };
  }
  return { kind: "unsupported", mimes: Object.keys(data) };
}

function asObject(value: unknown): Record<string, unknown> {
  if (value instanceof Y.Map) return value.toJSON() as Record<string, unknown>;
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  return {};
}

/** One nbformat output (a Y.Map or plain JSON) as a view. */
export function outputView(raw: unknown): OutputView {
  const output = asObject(raw);
  const type = output.output_type;
  if (type === "stream") {
    const text = output.text instanceof Y.Text ? output.text.toString() : joinText(output.text);
    return { kind: "stream", name: String(output.name ?? "stdout"), text: stripAnsi(text) };
  }
  if (type === "error") {
    const traceback = Array.isArray(output.traceback)
      ? (output.traceback as unknown[]).map((line) => String(line)).join("\n")
      : "";
    return {
      kind: "error",
      ename: String(output.ename ?? "Error"),
      evalue: String(output.evalue ?? ""),
      traceback: stripAnsi(traceback),
    };
  }
  if (type === "execute_result" || type === "display_data" || type === "update_display_data") {
    return bundleView(asObject(output.data));
  }
  return { kind: "unsupported", mimes: [String(type ?? "unknown output")] };
}

export function outputViews(outputs: unknown): OutputView[] {
  if (outputs instanceof Y.Array) return outputs.toArray().map(outputView);
  if (Array.isArray(outputs)) return outputs.map(outputView);
  return [];
}

export function cellType(cell: Y.Map<unknown>): CellType {
  const type = cell.get("cell_type");
  return type === "markdown" || type === "raw" ? type : "code";
}

export function cellView(cell: Y.Map<unknown>): CellView {
  const source = cell.get("source");
  const count = cell.get("execution_count");
  return {
    id: String(cell.get("id") ?? ""),
    type: cellType(cell),
    source: source instanceof Y.Text ? source : null,
    executionCount: typeof count === "number" ? count : null,
    outputs: outputViews(cell.get("outputs")),
  };
}

export function notebookCells(doc: Y.Doc): Y.Array<Y.Map<unknown>> {
  return doc.getArray<Y.Map<unknown>>("cells");
}

export function notebookView(doc: Y.Doc): CellView[] {
  return notebookCells(doc)
    .toArray()
    .filter((cell): cell is Y.Map<unknown> => cell instanceof Y.Map)
    .map(cellView);
}

function randomId(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return Math.random().toString(16).slice(2) + Date.now().toString(16);
}

/** A new, empty cell laid out as jupyter_ydoc's create_ycell does. */
export function newCell(type: CellType, source = ""): Y.Map<unknown> {
  const cell = new Y.Map<unknown>();
  cell.set("id", randomId());
  cell.set("cell_type", type);
  cell.set("source", new Y.Text(source));
  cell.set("metadata", new Y.Map<Json>());
  if (type === "code") {
    cell.set("execution_count", null);
    cell.set("outputs", new Y.Array<unknown>());
    cell.set("execution_state", "idle");
  }
  return cell;
}

/** Inserts a new cell at `index`, in one transaction. */
export function insertCell(doc: Y.Doc, index: number, type: CellType): Y.Map<unknown> {
  const cell = newCell(type);
  doc.transact(() => notebookCells(doc).insert(index, [cell]));
  return cell;
}

export function deleteCell(doc: Y.Doc, index: number): void {
  doc.transact(() => notebookCells(doc).delete(index, 1));
}

/** Pixel sizes used to guess the height of a cell that has not been drawn yet. */
export const CELL_METRICS = { line: 20.3, outputLine: 19.5, chrome: 30, outputGap: 8, image: 240, html: 120 };

function lineCount(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines += 1;
  return lines;
}

/**
 * A guess at a cell's height before it is drawn (a placeholder keeps the page's length
 * and the scroll bar honest). Once drawn, the measured height replaces it.
 */
export function estimateCellHeight(type: CellType, source: string, outputs: OutputView[], rendered = false): number {
  const m = CELL_METRICS;
  // Rendered Markdown: headings and paragraph gaps make a line taller than code.
  let height = m.chrome + lineCount(source) * (rendered ? m.line * 1.25 : m.line);
  if (type !== "code") return Math.round(height);
  for (const output of outputs) {
    height += m.outputGap;
    switch (output.kind) {
      case "stream":
      case "text":
        height += lineCount(output.text.replace(/\n$/, "")) * m.outputLine;
        break;
      case "error":
        height += lineCount(output.traceback || output.evalue) * m.outputLine + 16;
        break;
      case "image":
        height += m.image;
        break;
      case "html":
        height += m.html;
        break;
      case "unsupported":
        height += m.outputLine;
        break;
    }
  }
  return Math.round(height);
}

/** A deep copy of a Y value (a cell, its source, metadata, outputs). */
function cloneValue(value: unknown): unknown {
  if (value instanceof Y.Text) return new Y.Text(value.toString());
  if (value instanceof Y.Map) {
    const copy = new Y.Map<unknown>();
    for (const [key, item] of value.entries()) copy.set(key, cloneValue(item));
    return copy;
  }
  if (value instanceof Y.Array) {
    const copy = new Y.Array<unknown>();
    copy.push(value.toArray().map(cloneValue));
    return copy;
  }
  return value; // JSON: Yjs stores a copy
}

/**
 * Moves the cell at `from` to index `to` (its index afterwards). A Y.Array cannot move an
 * item, so this copies the cell and deletes the original in one transaction, as
 * JupyterLab does: an edit someone makes in that cell at the same instant is lost.
 */
export function moveCell(doc: Y.Doc, from: number, to: number): Y.Map<unknown> | null {
  const cells = notebookCells(doc);
  const cell = cells.get(from);
  if (!(cell instanceof Y.Map) || from === to || to < 0 || to >= cells.length) return null;
  const copy = cloneValue(cell) as Y.Map<unknown>;
  doc.transact(() => {
    cells.delete(from, 1);
    cells.insert(to, [copy]);
  });
  return copy;
}

/** Replaces the cell at `index` by one of `type` with the same id, source and metadata
 * (a code cell starts without outputs). */
export function changeCellType(doc: Y.Doc, index: number, type: CellType): Y.Map<unknown> | null {
  const cells = notebookCells(doc);
  const cell = cells.get(index);
  if (!(cell instanceof Y.Map) || cellType(cell) === type) return null;
  const source = cell.get("source");
  const replacement = newCell(type, source instanceof Y.Text ? source.toString() : String(source ?? ""));
  const id = cell.get("id");
  if (typeof id === "string" && id) replacement.set("id", id);
  const metadata = cell.get("metadata");
  if (metadata !== undefined) replacement.set("metadata", cloneValue(metadata));
  doc.transact(() => {
    cells.delete(index, 1);
    cells.insert(index, [replacement]);
  });
  return replacement;
}
