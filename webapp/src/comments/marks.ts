/**
 * Comment markers in a CodeMirror editor bound to a Y.Text: each open thread anchored in
 * that text is a highlighted range, resolved from its relative positions. Between two
 * resolutions the ranges map through the editor's changes, local and remote (marks
 * exclusive at both ends, as the anchors are: start sticking right, end left); they are
 * resolved again from the Y.Text when the threads change, and once edits pause
 * (resolving is linear in the text's items: ~0.2 ms a thread in a 110,000-character
 * text, too slow for every keystroke with many threads). Clicking a marker opens its thread; the editor's selection is what
 * the next comment is anchored to.
 */

import { type Extension, RangeSetBuilder, StateEffect, StateField } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate } from "@codemirror/view";
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

function resolveMarks(store: CommentsStore, text: Y.Text, cellId: string | null, length: number): DecorationSet {
  const ranges: { from: number; to: number; id: string }[] = [];
  for (const thread of store.threads) {
    const anchor = thread.anchor;
    if (thread.resolved || anchor.kind === "cell") continue;
    // Only this text's threads are resolved (a notebook may have many).
    if (anchor.kind === "text" ? cellId !== null : anchor.cell_id !== cellId) continue;
    const where = store.rangeIn(thread, text);
    if (where && where.to <= length) ranges.push({ ...where, id: thread.id });
  }
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  const builder = new RangeSetBuilder<Decoration>();
  for (const range of ranges) {
    const active = range.id === store.activeId ? " cm-comment-mark-active" : "";
    builder.add(range.from, range.to, Decoration.mark({ class: `cm-comment-mark${active}`, attributes: { "data-thread": range.id } }));
  }
  return builder.finish();
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
      const mark = (event.target as Element | null)?.closest?.(".cm-comment-mark");
      const id = mark instanceof HTMLElement ? mark.dataset.thread : undefined;
      if (id) store.open(id);
      return false;
    },
  });
  return [marksField, plugin, clicks];
}
