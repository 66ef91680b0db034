/**
 * Small widgets shown on an open document: its connection state and the
 * collaborators present (from the room's awareness).
 */

import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { DocumentConnection } from './connection';
import { userOf } from './cursors';
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

/** The other people in the room, as coloured initials. */
export class CollaboratorAvatars extends Widget {
  constructor(
    private _conn: DocumentConnection,
    private _me: () => string | null
  ) {
    super();
    this.addClass('jp-CollabDocs-avatars');
    this._conn.sharedModel.awareness.on('change', this._update);
    this._update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._conn.sharedModel.awareness.off('change', this._update);
    super.dispose();
  }

  private _update = (): void => {
    const awareness = this._conn.sharedModel.awareness;
    const seen = new Map<string, ReturnType<typeof userOf>>();
    awareness.getStates().forEach((state, clientID) => {
      if (clientID === awareness.clientID || !state || !state.user) {
        return;
      }
      const user = userOf(state);
      seen.set(user.name, user);
    });
    const me = this._me();
    if (me) {
      seen.delete(me);
    }
    this.node.textContent = '';
    for (const user of seen.values()) {
      const avatar = document.createElement('span');
      avatar.className = 'jp-CollabDocs-avatar';
      avatar.style.backgroundColor = user.color;
      avatar.textContent = user.initials;
      avatar.title = user.label;
      avatar.dataset.user = user.name;
      this.node.appendChild(avatar);
    }
  };
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
