/**
 * Collaborators' cursors and selections in CodeMirror editors, from the room's
 * awareness (docs/protocol.md, "Presence"). Each client publishes `cursor: {anchor,
 * head}` (Yjs relative positions in the Y.Text it edits, as y-codemirror.next does) and,
 * in a notebook, `cell` (the id of the cell it is in); the server sets `user: {name,
 * display_name, initials, color}`. A notebook shares one awareness for all its cells: a
 * position resolves only in the cell whose Y.Text it was made in.
 */

import { Extension, RangeSetBuilder } from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  ViewPlugin,
  ViewUpdate,
  WidgetType
} from '@codemirror/view';
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';

/** The awareness field holding a client's cursor. */
export const CURSOR_FIELD = 'cursor';

/** The awareness field holding the id of the notebook cell a client's cursor is in. */
export const CELL_FIELD = 'cell';

/** The id of the notebook cell whose `source` is `ytext`, or null (a text document). */
export function cellIdOf(ytext: Y.Text): string | null {
  const parent = ytext.parent;
  if (!(parent instanceof Y.Map)) {
    return null;
  }
  const id = parent.get('id');
  return typeof id === 'string' ? id : null;
}

/**
 * The `cursor` value for a selection: full relative positions (every field, null where
 * absent), the form y-codemirror.next writes and reads. The compact form of
 * `Y.relativePositionToJSON` drops `item` at the end of a text, which crashed
 * y-codemirror.next on the web page.
 */
export function cursorValue(
  ytext: Y.Text,
  anchor: number,
  head: number
): { anchor: Y.RelativePosition; head: Y.RelativePosition } {
  return {
    anchor: Y.createRelativePositionFromTypeIndex(ytext, anchor),
    head: Y.createRelativePositionFromTypeIndex(ytext, head)
  };
}

export interface IAwarenessUser {
  name?: string;
  display_name?: string;
  initials?: string;
  color?: string;
}

/** A collaborator's name and colour from an awareness state. */
export function userOf(state: any): {
  name: string;
  label: string;
  color: string;
  initials: string;
} {
  const user: IAwarenessUser = (state && state.user) || {};
  const name = typeof user.name === 'string' ? user.name : 'anonymous';
  const label =
    typeof user.display_name === 'string' && user.display_name
      ? user.display_name
      : name;
  const color =
    typeof user.color === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(user.color)
      ? user.color
      : '#888888';
  const initials =
    typeof user.initials === 'string' && user.initials
      ? user.initials
      : label.slice(0, 2).toUpperCase();
  return { name, label, color, initials };
}

class CaretWidget extends WidgetType {
  constructor(
    readonly label: string,
    readonly name: string,
    readonly color: string
  ) {
    super();
  }

  eq(other: CaretWidget): boolean {
    return (
      other.label === this.label &&
      other.color === this.color &&
      other.name === this.name
    );
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'jp-CollabDocs-caret';
    caret.style.borderLeftColor = this.color;
    caret.dataset.user = this.name;
    const tag = document.createElement('span');
    tag.className = 'jp-CollabDocs-caretName';
    tag.style.backgroundColor = this.color;
    tag.textContent = this.label;
    caret.appendChild(tag);
    return caret;
  }

  ignoreEvent(): boolean {
    return true;
  }
}

interface IRange {
  from: number;
  to: number;
  head: number;
  label: string;
  name: string;
  color: string;
}

/** The ranges of remote cursors that fall in `ytext`. */
function remoteRanges(
  awareness: Awareness,
  ytext: Y.Text,
  length: number
): IRange[] {
  const ranges: IRange[] = [];
  const doc = ytext.doc;
  if (!doc) {
    return ranges;
  }
  awareness.getStates().forEach((state, clientID) => {
    if (clientID === awareness.clientID || !state) {
      return;
    }
    const cursor = state[CURSOR_FIELD];
    if (!cursor || !cursor.anchor || !cursor.head) {
      return;
    }
    let anchor: Y.AbsolutePosition | null = null;
    let head: Y.AbsolutePosition | null = null;
    try {
      anchor = Y.createAbsolutePositionFromRelativePosition(
        Y.createRelativePositionFromJSON(cursor.anchor),
        doc
      );
      head = Y.createAbsolutePositionFromRelativePosition(
        Y.createRelativePositionFromJSON(cursor.head),
        doc
      );
    } catch {
      return;
    }
    if (!anchor || !head || anchor.type !== ytext || head.type !== ytext) {
      return;
    }
    const a = Math.min(anchor.index, length);
    const h = Math.min(head.index, length);
    const user = userOf(state);
    ranges.push({
      from: Math.min(a, h),
      to: Math.max(a, h),
      head: h,
      label: user.label,
      name: user.name,
      color: user.color
    });
  });
  return ranges;
}

function buildDecorations(
  view: EditorView,
  awareness: Awareness,
  ytext: Y.Text
): DecorationSet {
  const length = view.state.doc.length;
  const items: { from: number; to: number; deco: Decoration }[] = [];
  for (const range of remoteRanges(awareness, ytext, length)) {
    if (range.from < range.to) {
      items.push({
        from: range.from,
        to: range.to,
        deco: Decoration.mark({
          class: 'jp-CollabDocs-selection',
          attributes: { style: `background-color: ${range.color}33` }
        })
      });
    }
    items.push({
      from: range.head,
      to: range.head,
      deco: Decoration.widget({
        widget: new CaretWidget(range.label, range.name, range.color),
        side: 1
      })
    });
  }
  items.sort((x, y) => x.from - y.from || x.to - y.to);
  const builder = new RangeSetBuilder<Decoration>();
  for (const item of items) {
    builder.add(item.from, item.to, item.deco);
  }
  return builder.finish();
}

/** The CodeMirror extension showing remote cursors and publishing the local one. */
export function remoteCursors(options: {
  ytext: Y.Text;
  awareness: Awareness;
}): Extension {
  const { ytext, awareness } = options;
  const plugin = ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;

      constructor(readonly view: EditorView) {
        this.decorations = buildDecorations(view, awareness, ytext);
        awareness.on('change', this._onAwareness);
      }

      update(update: ViewUpdate): void {
        this.decorations = buildDecorations(update.view, awareness, ytext);
        if (update.selectionSet || update.focusChanged || update.docChanged) {
          this._publish(update.view);
        }
      }

      destroy(): void {
        this._destroyed = true;
        awareness.off('change', this._onAwareness);
        this._clearOwn();
      }

      private _publish(view: EditorView): void {
        if (!view.hasFocus) {
          this._clearOwn();
          return;
        }
        const sel = view.state.selection.main;
        const cursor = cursorValue(ytext, sel.anchor, sel.head);
        this._own = cursor;
        const local = awareness.getLocalState() ?? {};
        // One change for both fields: watchers never see a cursor in the wrong cell.
        awareness.setLocalState({
          ...local,
          [CURSOR_FIELD]: cursor,
          [CELL_FIELD]: cellIdOf(ytext)
        });
      }

      /** Withdraw the local cursor if this editor published it. */
      private _clearOwn(): void {
        const local = awareness.getLocalState();
        if (this._own && local && local[CURSOR_FIELD] === this._own) {
          awareness.setLocalStateField(CURSOR_FIELD, null);
        }
        this._own = null;
      }

      private _onAwareness = (): void => {
        // Redraw outside of any CodeMirror update.
        window.requestAnimationFrame(() => {
          if (!this._destroyed) {
            this.view.dispatch({});
          }
        });
      };

      private _own: unknown = null;
      private _destroyed = false;
    },
    { decorations: v => v.decorations }
  );
  return [plugin, firstLineLabels];
}

/**
 * A name label above a caret on the first line would be cut off by the editor's
 * scroller (a one-line cell has no room above or below): there it sits on the line,
 * right of the caret.
 */
const firstLineLabels = EditorView.baseTheme({
  '.cm-content > .cm-line:first-child .jp-CollabDocs-caretName': {
    top: '0',
    left: '2px',
    borderRadius: '0 3px 3px 0'
  }
});
