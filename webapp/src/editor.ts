/** CodeMirror 6 editors bound to a Y.Text, with remote cursors (y-codemirror.next). */

import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  placeholder,
} from "@codemirror/view";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import { labelledAwareness } from "./awareness";

export type Language = "python" | "plain";

export interface EditorOptions {
  parent: HTMLElement;
  text: Y.Text;
  awareness: Awareness | null;
  readOnly: boolean;
  language?: Language;
  lineNumbers?: boolean;
  placeholder?: string;
  label?: string;
  /** More extensions (comment markers, comments/marks.ts). */
  extensions?: Extension;
}

export interface BoundEditor {
  view: EditorView;
  setReadOnly(readOnly: boolean): void;
  destroy(): void;
}

/** A language for a file document, from its name. */
export function languageFor(name: string): Language {
  const lower = name.toLowerCase();
  if (lower.endsWith(".py")) return "python";
  return "plain";
}

function languageExtension(language: Language): Extension {
  if (language === "python") return python();
  return [];
}

function readOnlyExtension(readOnly: boolean): Extension {
  return [EditorState.readOnly.of(readOnly), EditorView.contentAttributes.of({ "aria-readonly": String(readOnly) })];
}

/** The id of the notebook cell whose `source` is `text`, or null (a text document). */
export function cellIdOf(text: Y.Text): string | null {
  const parent = text.parent;
  if (!(parent instanceof Y.Map)) return null;
  const id = parent.get("id") as unknown;
  return typeof id === "string" ? id : null;
}

/** Presence: y-codemirror.next publishes `cursor`; this adds `cell`, the cell it is in
 * (docs/protocol.md, "Presence"). */
function publishCell(awareness: Awareness, cell: string | null): Extension {
  return EditorView.updateListener.of((update) => {
    if (!update.view.hasFocus || !(update.focusChanged || update.selectionSet)) return;
    const local = awareness.getLocalState();
    if (local && local.cell !== cell) awareness.setLocalStateField("cell", cell);
  });
}

/** A name label above a cursor on the first line would be cut off by the editor's
 * scroller: there it sits on the line, right of the caret. */
const firstLineLabels = EditorView.theme({
  "& .cm-content > .cm-line:first-child .cm-ySelectionInfo": {
    top: "0 !important",
    left: "2px !important",
    borderRadius: "0 3px 3px 0 !important",
    lineHeight: "1.2 !important",
  },
});

export function createEditor(options: EditorOptions): BoundEditor {
  const readOnly = new Compartment();
  const undoManager = new Y.UndoManager(options.text);
  const extensions: Extension[] = [
    options.lineNumbers ? [lineNumbers(), highlightActiveLineGutter()] : [],
    highlightActiveLine(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    EditorView.lineWrapping,
    keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
    languageExtension(options.language ?? "plain"),
    options.placeholder ? placeholder(options.placeholder) : [],
    options.label ? EditorView.contentAttributes.of({ "aria-label": options.label }) : [],
    yCollab(options.text, options.awareness ? labelledAwareness(options.awareness) : null, { undoManager }),
    options.awareness ? publishCell(options.awareness, cellIdOf(options.text)) : [],
    firstLineLabels,
    readOnly.of(readOnlyExtension(options.readOnly)),
    options.extensions ?? [],
  ];
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({ doc: options.text.toString(), extensions }),
  });
  return {
    view,
    setReadOnly(value: boolean) {
      view.dispatch({ effects: readOnly.reconfigure(readOnlyExtension(value)) });
    },
    destroy() {
      view.destroy();
      undoManager.destroy();
    },
  };
}
