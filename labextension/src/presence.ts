/**
 * Who is in a shared document and where, and following one of them (docs/protocol.md,
 * "Presence"). The people list opens from the avatars in the document toolbar: each
 * person's display name, colour and place ("cell 12 · code", "line 40", "in the
 * document"), updated live, my own entry marked. "Follow" keeps bringing that person's
 * cell (notebook, marked in their colour) or cursor (text) into view until I scroll,
 * click or type in the document, or stop it. Names are data: set as text only.
 */

import { EditorView } from '@codemirror/view';
import type { Widget } from '@lumino/widgets';
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';

import { CELL_FIELD, CURSOR_FIELD, userOf } from './cursors';

/** Where a client is in the document. */
export interface IWhereabouts {
  /** "cell 12 · code", "line 40" or "in the document". */
  label: string;
  /** The id of the notebook cell it is in, or null. */
  cell: string | null;
  /** Its cursor's head resolved in the document, or null. */
  head: Y.AbsolutePosition | null;
}

function resolveHead(state: any, ydoc: Y.Doc): Y.AbsolutePosition | null {
  const cursor = state?.[CURSOR_FIELD];
  if (!cursor || typeof cursor !== 'object' || !cursor.head) {
    return null;
  }
  try {
    return Y.createAbsolutePositionFromRelativePosition(
      Y.createRelativePositionFromJSON(cursor.head),
      ydoc
    );
  } catch {
    return null; // a malformed position: no place
  }
}

/** Where the client with `state` is: its cell (notebook), its line (text), or neither. */
export function whereabouts(state: any, ydoc: Y.Doc): IWhereabouts {
  const head = resolveHead(state, ydoc);
  const cell =
    typeof state?.[CELL_FIELD] === 'string' ? state[CELL_FIELD] : null;
  if (cell && ydoc.share.has('cells')) {
    const cells = ydoc.getArray<unknown>('cells').toArray();
    const index = cells.findIndex(
      item => item instanceof Y.Map && item.get('id') === cell
    );
    if (index >= 0) {
      const type = (cells[index] as Y.Map<unknown>).get('cell_type');
      return {
        label: `cell ${index + 1} · ${typeof type === 'string' ? type : 'code'}`,
        cell,
        head
      };
    }
  }
  if (
    head &&
    head.type instanceof Y.Text &&
    !(head.type.parent instanceof Y.Map)
  ) {
    const before = head.type.toString().slice(0, head.index);
    const line = before.split('\n').length;
    return { label: `line ${line}`, cell: null, head };
  }
  return { label: 'in the document', cell: null, head: null };
}

/** One person in the room (all their tabs), as shown. */
export interface IPerson {
  name: string;
  label: string;
  color: string;
  initials: string;
  you: boolean;
  /** Their client that changed last: where they are. */
  client: number | null;
}

/**
 * The people in `awareness`, me first, then by display name. A person's place is that
 * of their client that changed last (`changedAt`), with several tabs open.
 */
export function peopleOf(
  awareness: Awareness,
  me: string | null,
  changedAt: Map<number, number>
): IPerson[] {
  const byName = new Map<string, IPerson>();
  const local = userOf(awareness.getLocalState());
  const myName = me ?? local.name;
  byName.set(myName, {
    ...local,
    name: myName,
    you: true,
    client: awareness.clientID
  });
  awareness.getStates().forEach((state, clientID) => {
    if (clientID === awareness.clientID || !state || !state.user) {
      return;
    }
    const user = userOf(state);
    const known = byName.get(user.name);
    if (known) {
      const newer =
        known.client === null ||
        (!known.you &&
          (changedAt.get(clientID) ?? 0) > (changedAt.get(known.client) ?? 0));
      if (newer) {
        known.client = clientID;
      }
      return;
    }
    byName.set(user.name, { ...user, you: false, client: clientID });
  });
  const [mine, ...others] = byName.values();
  others.sort((a, b) => a.label.localeCompare(b.label));
  return [mine, ...others];
}

/** Brings a place into view in a document widget's content (notebook or text editor). */
export function reveal(
  content: Widget,
  where: IWhereabouts,
  color: string
): void {
  const notebook = content as any;
  if (notebook.widgets && notebook.model && 'cells' in notebook.model) {
    const cell = markCell(notebook, where.cell, color);
    if (cell) {
      // Not `scrollToCell`: it activates the cell, focusing my editor there, which would
      // move my own cursor (and presence) to theirs.
      const index = notebook.widgets.indexOf(cell);
      Promise.resolve(notebook.scrollToItem(index, 'smart')).catch(() =>
        cell.node.scrollIntoView({ block: 'center' })
      );
    }
    return;
  }
  const view: EditorView | undefined = (content as any).editor?.editor;
  if (view instanceof EditorView && where.head) {
    const at = Math.min(where.head.index, view.state.doc.length);
    view.dispatch({
      effects: EditorView.scrollIntoView(at, { y: 'nearest', yMargin: 80 })
    });
  }
}

/** Marks the cell with `cellId` as followed (none when null); returns it. */
export function markCell(
  notebook: any,
  cellId: string | null,
  color: string
): any {
  let found: any = null;
  for (const cell of notebook.widgets ?? []) {
    const isTarget = cellId !== null && cell.model?.id === cellId;
    cell.node.classList.toggle(FOLLOWED_CLASS, isTarget);
    if (isTarget) {
      cell.node.style.setProperty('--jp-CollabDocs-follow-color', color);
      found = cell;
    }
  }
  return found;
}

export const FOLLOWED_CLASS = 'jp-CollabDocs-followed';

/**
 * Following one person in one document widget: on every awareness change, their place
 * is brought into view if it moved. My own wheel, click or key in the content stops it,
 * as does their leaving.
 */
export class Follower {
  constructor(
    private readonly _awareness: Awareness,
    private readonly _ydoc: Y.Doc,
    private readonly _content: Widget,
    private readonly _onChange: () => void
  ) {
    const node = _content.node;
    node.addEventListener('wheel', this._stop, {
      capture: true,
      passive: true
    });
    node.addEventListener('pointerdown', this._stop, true);
    node.addEventListener('keydown', this._stop, true);
  }

  /** The username followed, or null. */
  get leader(): string | null {
    return this._leader;
  }

  follow(username: string): void {
    this._leader = username;
    this._revealed = '';
    this._onChange();
  }

  stop(): void {
    if (this._leader === null) {
      return;
    }
    this._leader = null;
    this._revealed = '';
    markCell(this._content, null, '');
    this._onChange();
  }

  /** After an awareness change: follow the leader there, or stop if they left. */
  track(people: IPerson[]): void {
    if (this._leader === null) {
      return;
    }
    const leader = people.find(p => p.name === this._leader && !p.you);
    if (!leader || leader.client === null) {
      this.stop();
      return;
    }
    const state = this._awareness.getStates().get(leader.client);
    const where = whereabouts(state, this._ydoc);
    // Their cell (notebook) or cursor (text); no place (they left the editor) keeps the
    // view where it is, rather than jumping back.
    const key = where.cell ?? (where.head ? `@${where.head.index}` : null);
    if (key !== null && key !== this._revealed) {
      this._revealed = key;
      reveal(this._content, where, leader.color);
    }
  }

  dispose(): void {
    const node = this._content.node;
    node.removeEventListener('wheel', this._stop, { capture: true });
    node.removeEventListener('pointerdown', this._stop, true);
    node.removeEventListener('keydown', this._stop, true);
  }

  private _stop = (): void => this.stop();
  private _leader: string | null = null;
  private _revealed = '';
}

interface IRow {
  item: HTMLElement;
  where: HTMLElement;
  follow: HTMLButtonElement | null;
}

/**
 * The people list: a popover under the avatars, updated in place (rows are kept per
 * person, so a click on "Follow" is never lost to a redraw). Closes on Escape or a
 * click elsewhere.
 */
export class PeopleList {
  readonly node = document.createElement('div');

  constructor() {
    this.node.className = 'jp-CollabDocs-people';
    this.node.setAttribute('role', 'dialog');
    this.node.setAttribute('aria-label', 'People here');
    this.node.hidden = true;
    this._entries.className = 'jp-CollabDocs-peopleEntries';
    this.node.appendChild(this._entries);
  }

  get isOpen(): boolean {
    return !this.node.hidden;
  }

  toggle(anchor: HTMLElement): void {
    if (this.isOpen) {
      this.close();
      return;
    }
    this._anchor = anchor;
    document.body.appendChild(this.node);
    this.node.hidden = false;
    this._place();
    document.addEventListener('pointerdown', this._onOutside, true);
    document.addEventListener('keydown', this._onEscape, true);
    if (this._last) {
      this.render(...this._last);
    }
  }

  close(): void {
    this.node.hidden = true;
    document.removeEventListener('pointerdown', this._onOutside, true);
    document.removeEventListener('keydown', this._onEscape, true);
  }

  render(
    people: IPerson[],
    whereOf: (person: IPerson) => string,
    follower: Follower | null
  ): void {
    this._last = [people, whereOf, follower];
    if (!this.isOpen) {
      return;
    }
    if (this._anchor && !this._anchor.isConnected) {
      this.close(); // its document was closed
      return;
    }
    const seen = new Set<string>();
    people.forEach((person, index) => {
      seen.add(person.name);
      const row = this._rows.get(person.name) ?? this._newRow(person, follower);
      row.where.textContent = whereOf(person);
      if (row.follow) {
        const followed = follower?.leader === person.name;
        row.follow.textContent = followed ? 'Stop following' : 'Follow';
        row.follow.setAttribute('aria-pressed', String(followed));
      }
      const at = this._entries.children[index] ?? null;
      if (at !== row.item) {
        this._entries.insertBefore(row.item, at);
      }
    });
    for (const [name, row] of this._rows) {
      if (!seen.has(name)) {
        row.item.remove();
        this._rows.delete(name);
      }
    }
    this._place();
  }

  dispose(): void {
    this.close();
    this.node.remove();
  }

  private _newRow(person: IPerson, follower: Follower | null): IRow {
    const item = document.createElement('li');
    item.className = 'jp-CollabDocs-person';
    item.dataset.user = person.name;
    const swatch = document.createElement('span');
    swatch.className = 'jp-CollabDocs-personColor';
    swatch.style.backgroundColor = person.color;
    const text = document.createElement('span');
    text.className = 'jp-CollabDocs-personText';
    const name = document.createElement('span');
    name.className = 'jp-CollabDocs-personName';
    name.textContent = person.label;
    text.appendChild(name);
    if (person.you) {
      const you = document.createElement('span');
      you.className = 'jp-CollabDocs-personYou';
      you.textContent = ' (you)';
      text.appendChild(you);
    }
    const where = document.createElement('span');
    where.className = 'jp-CollabDocs-personWhere';
    text.append(document.createElement('br'), where);
    item.append(swatch, text);
    let follow: HTMLButtonElement | null = null;
    if (!person.you && follower) {
      follow = document.createElement('button');
      follow.className = 'jp-mod-styled jp-CollabDocs-follow';
      follow.type = 'button';
      follow.addEventListener('click', () => {
        if (follower.leader === person.name) {
          follower.stop();
        } else {
          follower.follow(person.name);
        }
      });
      item.appendChild(follow);
    }
    const row = { item, where, follow };
    this._rows.set(person.name, row);
    return row;
  }

  /** Under the avatars, kept inside the window. */
  private _place(): void {
    if (!this._anchor) {
      return;
    }
    const box = this._anchor.getBoundingClientRect();
    const width = this.node.offsetWidth;
    this.node.style.top = `${Math.round(box.bottom + 4)}px`;
    this.node.style.left = `${Math.round(Math.max(4, Math.min(box.right - width, window.innerWidth - width - 4)))}px`;
  }

  private _onOutside = (event: Event): void => {
    const target = event.target as Node | null;
    if (!this.node.contains(target) && !this._anchor?.contains(target)) {
      this.close();
    }
  };

  private _onEscape = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') {
      this.close();
    }
  };

  private _entries = document.createElement('ul');
  private _rows = new Map<string, IRow>();
  private _anchor: HTMLElement | null = null;
  private _last:
    [IPerson[], (person: IPerson) => string, Follower | null] | null = null;
}
