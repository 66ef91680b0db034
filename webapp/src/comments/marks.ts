/**
 * Comment markers in a CodeMirror editor bound to a Y.Text: each open thread anchored in
 * that text is a highlighted range, resolved from its relative positions. Between two
 * resolutions the ranges map through the editor's changes, local and remote (marks
 * exclusive at both ends, as the anchors are: start sticking right, end left); they are
 * resolved again from the Y.Text when the threads change, and once edits pause
 * (resolving is linear in the text's items: ~0.2 ms a thread in a 110,000-character
 * text, too slow for every keystroke with many threads). Clicking a marker opens its thread; the editor's selection is what
 * the next comment is anchored to. A pending suggestion's range is struck out, its
 * proposed text shown right after it (a widget, set as text).
 */

import { EditorState, type Extension, type Range, StateEffect, StateField, Transaction } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate, WidgetType } from "@codemirror/view";
import type * as Y from "yjs";

import type { CommentsStore } from "./store";

const setMarks = StateEffect.define<DecorationSet>();

/** How long after the last edit the markers are resolved again from the Y.Text. */
const RESOLVE_AFTER_EDITS_MS = 300;

const marksField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, transaction) {
    for (const effect of transaction.effects) if (effect.is(setMarks)) return effect.value;
    return marks.map(transaction.changes);
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** A pending suggestion's new text, after the text it would replace. */
class SuggestedText extends WidgetType {
  constructor(
    private readonly text: string,
    private readonly threadId: string,
  ) {
    super();
  }

  eq(other: SuggestedText): boolean {
    return other.text === this.text && other.threadId === this.threadId;
  }

  toDOM(): HTMLElement {
    const element = document.createElement("ins");
    element.className = "cm-suggestion-insert";
    element.dataset.thread = this.threadId;
    element.textContent = this.text; // text, never HTML
    return element;
  }

  ignoreEvent(): boolean {
    return false;
  }
}

function resolveMarks(store: CommentsStore, text: Y.Text, cellId: string | null, length: number): DecorationSet {
  const ranges: { from: number; to: number; id: string; suggested: string | null }[] = [];
  for (const thread of store.threads) {
    const anchor = thread.anchor;
    if (thread.resolved || anchor.kind === "cell") continue;
    // Only this text's threads are resolved (a notebook may have many).
    if (anchor.kind === "text" ? cellId !== null : anchor.cell_id !== cellId) continue;
    const where = store.rangeIn(thread, text);
    const suggested = thread.suggestion?.status === "pending" ? thread.suggestion.text : null;
    if (where && where.to <= length) ranges.push({ ...where, id: thread.id, suggested });
  }
  const marks: Range<Decoration>[] = [];
  for (const range of ranges) {
    const active = range.id === store.activeId ? " cm-comment-mark-active" : "";
    const suggestion = range.suggested !== null ? " cm-suggestion-mark" : "";
    marks.push(Decoration.mark({ class: `cm-comment-mark${suggestion}${active}`, attributes: { "data-thread": range.id } }).range(range.from, range.to));
    if (range.suggested) marks.push(Decoration.widget({ widget: new SuggestedText(range.suggested, range.id), side: 1 }).range(range.to));
  }
  return Decoration.set(marks, true);
}

/**
 * Suggest mode for editors and owners: the editor refuses their own typing (changes with
 * a user event: input, delete, paste, undo...), as a commenter's read-only editor does;
 * remote changes (an accepted suggestion among them) carry none and pass.
 */
function suggestGuard(store: CommentsStore): Extension {
  return EditorState.transactionFilter.of((transaction) =>
    transaction.docChanged && store.suggesting && transaction.annotation(Transaction.userEvent) !== undefined ? [] : transaction,
  );
}

export function commentMarks(store: CommentsStore, text: Y.Text, cellId: string | null): Extension {
  const plugin = ViewPlugin.fromClass(
    class {
      private scheduled = false;
      private dead = false;
      private settle: ReturnType<typeof setTimeout> | null = null;
      private readonly unsubscribe: () => void;

      constructor(private readonly view: EditorView) {
        this.unsubscribe = store.onThreads(() => this.schedule());
        this.schedule();
      }

      /** After the current update (the Y.Text and the editor agree by then). */
      schedule(): void {
        if (this.scheduled) return;
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          if (this.dead) return; // a resolution must not dispatch to a destroyed view
          const marks = resolveMarks(store, text, cellId, this.view.state.doc.length);
          this.view.dispatch({ effects: setMarks.of(marks) });
        });
      }

      /** Once edits pause. */
      scheduleSettled(): void {
        if (this.settle !== null) clearTimeout(this.settle);
        this.settle = setTimeout(() => {
          this.settle = null;
          this.schedule();
        }, RESOLVE_AFTER_EDITS_MS);
      }

      update(update: ViewUpdate): void {
        if (update.docChanged) this.scheduleSettled();
        if (!update.view.hasFocus || !(update.selectionSet || update.focusChanged)) return;
        const { from, to } = update.state.selection.main;
        if (from === to) store.clearTargetIn(text);
        else store.setTarget({ kind: "range", text, cellId, from, to });
      }

      destroy(): void {
        this.dead = true;
        if (this.settle !== null) clearTimeout(this.settle);
        this.unsubscribe();
      }
    },
  );
  const clicks = EditorView.domEventHandlers({
    click(event, view) {
      if (!view.state.selection.main.empty) return false; // selecting, not opening
      const mark = (event.target as Element | null)?.closest?.(".cm-comment-mark, .cm-suggestion-insert");
      const id = mark instanceof HTMLElement ? mark.dataset.thread : undefined;
      if (id) store.open(id);
      return false;
    },
  });
  return [marksField, plugin, clicks, suggestGuard(store)];
}
