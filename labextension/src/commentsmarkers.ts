/**
 * Commented ranges in a CodeMirror editor (a text document or a cell's source): a
 * highlight resolved from each open thread's Yjs relative positions, so it follows every
 * edit, concurrent ones included. Clicking a highlight opens its thread.
 */

import { Extension } from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  ViewPlugin,
  ViewUpdate
} from '@codemirror/view';
import type { ISignal } from '@lumino/signaling';
import type * as Y from 'yjs';

import { IThread, resolveAnchor } from './comments';
import { cellIdOf } from './cursors';

export const MARK_CLASS = 'jp-CollabDocs-commentMark';

/** How long after the last edit the highlights are resolved again (ms). */
const RESOLVE_AFTER_EDIT_MS = 250;

/** The ranges of `threads` that are open and resolve in `ytext`, by position. */
export function commentRanges(
  threads: readonly IThread[],
  ytext: Y.Text,
  length: number
): { from: number; to: number; threadId: string }[] {
  const ranges: { from: number; to: number; threadId: string }[] = [];
  // Only anchors that can lie in this text: a cell's source, or the document's.
  const cellId = cellIdOf(ytext);
  for (const thread of threads) {
    const anchor = thread.anchor;
    if (
      thread.resolved ||
      anchor.kind === 'cell' ||
      (anchor.kind === 'cell_range'
        ? anchor.cell_id !== cellId
        : cellId !== null)
    ) {
      continue;
    }
    const range = resolveAnchor(thread.anchor, ytext);
    if (!range) {
      continue;
    }
    const to = Math.min(range.to, length);
    if (range.from < to) {
      ranges.push({ from: range.from, to, threadId: thread.id });
    }
  }
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  return ranges;
}

function build(
  threads: readonly IThread[],
  ytext: Y.Text,
  view: EditorView,
  active: string | null
): DecorationSet {
  const marks = commentRanges(threads, ytext, view.state.doc.length).map(r =>
    Decoration.mark({
      class: r.threadId === active ? `${MARK_CLASS} jp-mod-active` : MARK_CLASS,
      attributes: { 'data-thread-id': r.threadId }
    }).range(r.from, r.to)
  );
  return Decoration.set(marks, true);
}

export interface ICommentMarkerSource {
  /** The threads of the editor's document (empty while unknown). */
  threads(): readonly IThread[];
  /** The thread shown in the side panel, if any. */
  active(): string | null;
  /** Emitted when threads (or the active one) change. */
  readonly changed: ISignal<unknown, unknown>;
  /** Open a thread in the side panel. */
  open(threadId: string): void;
}

/** The CodeMirror extension highlighting the commented ranges of `ytext`. */
export function commentMarkers(
  ytext: Y.Text,
  source: ICommentMarkerSource
): Extension {
  const plugin = ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;

      constructor(readonly view: EditorView) {
        this.decorations = build(
          source.threads(),
          ytext,
          view,
          source.active()
        );
        source.changed.connect(this._redraw, this);
      }

      update(update: ViewUpdate): void {
        if (update.docChanged) {
          // Mapping keeps marks on their text while typing goes on; the Y.Text (which
          // may take this change after us) is asked again once typing pauses: resolving
          // every thread costs ~40 us each in a long text.
          this.decorations = this.decorations.map(update.changes);
          this._schedule(RESOLVE_AFTER_EDIT_MS);
        } else if (this._dirty) {
          this._dirty = false;
          this.decorations = build(
            source.threads(),
            ytext,
            update.view,
            source.active()
          );
        }
      }

      destroy(): void {
        this._destroyed = true;
        if (this._timer !== null) {
          clearTimeout(this._timer);
        }
        source.changed.disconnect(this._redraw, this);
      }

      private _redraw(): void {
        this._schedule(0);
      }

      /** Resolve every thread again after `delay` ms, outside of any update. */
      private _schedule(delay: number): void {
        this._dirty = true;
        if (this._timer !== null) {
          clearTimeout(this._timer);
        }
        this._timer = setTimeout(() => {
          this._timer = null;
          if (!this._destroyed) {
            this.view.dispatch({});
          }
        }, delay);
      }

      private _dirty = false;
      private _timer: ReturnType<typeof setTimeout> | null = null;
      private _destroyed = false;
    },
    {
      decorations: v => v.decorations,
      eventHandlers: {
        click: (event: MouseEvent) => {
          const target = event.target as HTMLElement | null;
          const mark = target?.closest?.(
            `.${MARK_CLASS}`
          ) as HTMLElement | null;
          const id = mark?.dataset.threadId;
          if (id) {
            source.open(id);
          }
          return false;
        }
      }
    }
  );
  return plugin;
}
