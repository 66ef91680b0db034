/**
 * Small widgets shown on an open document: its connection state and the
 * collaborators present (from the room's awareness).
 */

import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { DocumentConnection } from './connection';
import { Follower, PeopleList, peopleOf, whereabouts } from './presence';
import { ConnectionState, stateLabel } from './states';

/** The connection state as a toolbar item (`data-state` carries the raw state). */
export class ConnectionStatus extends Widget {
  constructor(private _conn: DocumentConnection) {
    super();
    this.addClass('jp-CollabDocs-status');
    this._conn.stateChanged.connect(this._update, this);
    this._conn.modelChanged.connect(this._update, this);
    this._update();
  }

  private _update(): void {
    const state: ConnectionState = this._conn.state;
    let label = stateLabel(state);
    if (state === 'connected' && this._conn.role) {
      label = `Live · ${this._conn.role}`;
    } else if (state === 'read-only' && this._conn.role) {
      label = `Read-only · ${this._conn.role}`;
    }
    this.node.dataset.state = state;
    this.node.textContent = label;
    this.node.title =
      state === 'read-only'
        ? `You can view this document (${this._conn.role ?? 'viewer'}); editing is not allowed.`
        : `Shared document: ${label}`;
  }

  dispose(): void {
    Signal.disconnectReceiver(this);
    super.dispose();
  }
}

/**
 * The people in the room as coloured initials (mine last, marked), opening the people
 * list (presence.ts): who is here, where, and following one of them in `content`.
 */
export class CollaboratorAvatars extends Widget {
  constructor(
    private _conn: DocumentConnection,
    private _me: () => string | null,
    content: Widget | null = null
  ) {
    super();
    this.addClass('jp-CollabDocs-avatars');
    const awareness = this._conn.sharedModel.awareness;
    this._follower = content
      ? new Follower(
          awareness,
          this._conn.sharedModel.ydoc,
          content,
          this._update
        )
      : null;
    this._following.className = 'jp-CollabDocs-following';
    this._following.setAttribute('role', 'status');
    this._followingText.className = 'jp-CollabDocs-followingText';
    const stop = document.createElement('button');
    stop.className = 'jp-CollabDocs-followingStop';
    stop.textContent = '×';
    stop.title = 'Stop following';
    stop.setAttribute('aria-label', 'Stop following');
    stop.addEventListener('click', () => this._follower?.stop());
    this._following.append(this._followingText, stop);
    this._following.hidden = true;
    this._list.className = 'jp-CollabDocs-avatarList';
    this._list.setAttribute('role', 'button');
    this._list.tabIndex = 0;
    this._list.title = 'People here';
    this._list.setAttribute('aria-label', 'People here');
    this._list.addEventListener('click', () => this._people.toggle(this._list));
    this._list.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this._people.toggle(this._list);
      }
    });
    this.node.append(this._following, this._list);
    awareness.on('change', this._onChange);
    this._update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._conn.sharedModel.awareness.off('change', this._onChange);
    this._follower?.dispose();
    this._people.dispose();
    super.dispose();
  }

  private _onChange = ({
    added,
    updated
  }: {
    added: number[];
    updated: number[];
  }): void => {
    const now = performance.now();
    for (const id of [...added, ...updated]) {
      this._changedAt.set(id, now);
    }
    this._update();
  };

  private _update = (): void => {
    if (this.isDisposed) {
      return;
    }
    const awareness = this._conn.sharedModel.awareness;
    const people = peopleOf(awareness, this._me(), this._changedAt);
    this._follower?.track(people);
    const leader = this._follower?.leader ?? null;
    const followed = people.find(p => p.name === leader && !p.you);
    this._following.hidden = !followed;
    this._followingText.textContent = followed
      ? `Following ${followed.label}`
      : '';
    this._following.style.borderColor = followed?.color ?? '';
    this._list.textContent = '';
    // Others first, then me (as the web page shows them); alone, nothing: the toolbar
    // keeps its room for the buttons (a narrow notebook moves them to its "…" menu).
    const shown = people.length > 1 ? [...people.slice(1), people[0]] : [];
    for (const person of shown) {
      const avatar = document.createElement('span');
      avatar.className = 'jp-CollabDocs-avatar';
      avatar.style.backgroundColor = person.color;
      avatar.textContent = person.initials;
      avatar.title = person.you ? `${person.label} (you)` : person.label;
      avatar.dataset.user = person.name;
      if (person.you) {
        avatar.dataset.you = 'true';
      }
      this._list.appendChild(avatar);
    }
    this._people.render(
      people,
      person =>
        whereabouts(
          person.client === null
            ? null
            : awareness.getStates().get(person.client),
          this._conn.sharedModel.ydoc
        ).label,
      this._follower
    );
  };

  private _follower: Follower | null;
  private _changedAt = new Map<number, number>();
  private _following = document.createElement('span');
  private _followingText = document.createElement('span');
  private _list = document.createElement('span');
  private _people = new PeopleList();
}

/**
 * A banner over a document that can no longer be edited (deleted, not found). It sits
 * in the document's content header, whose layout gives it its CSS min-height: one
 * line (style/base.css), the whole message in its tooltip if the line is too short.
 */
export class DocumentBanner extends Widget {
  constructor() {
    super();
    this.addClass('jp-CollabDocs-banner');
    this.hide();
  }

  show_(message: string, kind: string): void {
    this.node.textContent = message;
    this.node.title = message;
    this.node.dataset.kind = kind;
    this.show();
    // The header re-reads the banner's size limits (it may have been laid out empty).
    this.parent?.fit();
  }
}
