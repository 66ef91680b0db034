/**
 * The live connection of one open document to its room: a y-websocket
 * `WebsocketProvider` on the shared model's Y.Doc, the caller's role, and the
 * connection state shown on the document.
 */

import type { YDocument } from '@jupyter/ydoc';
import { PageConfig } from '@jupyterlab/coreutils';
import { PromiseDelegate } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';

import { ApiError, CollabDocsClient, IDocumentModel } from './api';
import { COMMENT_FRAME } from './comments';
import { browserStore, PendingEdits, pendingKey } from './pending';
import { permissions, Role } from './roles';
import {
  allowsEditing,
  closeOutcome,
  ConnectionState,
  isFinal,
  liveState
} from './states';

/** How long a live, flushed socket must stay up before edits count as sent. */
const SENT_SETTLE_MS = 1000;

export class DocumentConnection implements IDisposable {
  constructor(options: DocumentConnection.IOptions) {
    this.id = options.id;
    this.sharedModel = options.sharedModel;
    this._client = options.client;
    const params: Record<string, string> = {};
    const token = options.token ?? PageConfig.getToken();
    if (token) {
      params.token = token;
    }
    // Comment events (frame type 100) come on the room socket (docs/comments.md).
    params.comments = '1';
    this._provider = new WebsocketProvider(
      this._client.roomsUrl,
      options.id,
      options.sharedModel.ydoc,
      {
        awareness: options.sharedModel.awareness,
        params,
        // Another tab's edits must go through the server, which checks the role.
        disableBc: true,
        maxBackoffTime: 5000
      }
    );
    this._provider.messageHandlers[COMMENT_FRAME] = (_encoder, decoder) => {
      this._commentFrame.emit(decoding.readVarString(decoder));
    };
    this._provider.on('status', this._onStatus);
    this._provider.on('sync', this._onSync);
    this._provider.on('connection-close', this._onClose);
    this.sharedModel.ydoc.on('update', this._onDocUpdate);
    window.addEventListener('beforeunload', this._onBeforeUnload);
    // Never leave "synced" unhandled: the drive awaits it, others may not.
    this._synced.promise.catch(() => undefined);
    void this.refreshRole();
  }

  /** The document id (the room). */
  readonly id: string;

  /** The shared model this connection keeps in sync. */
  readonly sharedModel: YDocument<any>;

  get provider(): WebsocketProvider {
    return this._provider;
  }

  get state(): ConnectionState {
    return this._state;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  /** The JSON of each live comment event (see comments.ts), as it arrives. */
  get commentFrame(): ISignal<this, string> {
    return this._commentFrame;
  }

  /** The caller's role, once known. */
  get role(): Role | null {
    return this._model?.role ?? null;
  }

  /** The latest document model from the server. */
  get model(): IDocumentModel | null {
    return this._model;
  }

  /** Emitted when the document model (role, name) is fetched again. */
  get modelChanged(): ISignal<this, IDocumentModel> {
    return this._modelChanged;
  }

  /** Whether edits are accepted now: the role allows it and the room is live. */
  get canEdit(): boolean {
    return permissions(this.role).write && allowsEditing(this._state);
  }

  /** Resolves once the document is first synced; rejects if it cannot be opened. */
  get synced(): Promise<void> {
    return this._synced.promise;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Whether closing the page now would lose edits the server does not have. */
  get hasUnsentEdits(): boolean {
    return this._pending?.hasUnsent ?? false;
  }

  /** Fetch the document model (and so the role) again. */
  async refreshRole(): Promise<IDocumentModel | null> {
    try {
      const model = await this._client.getDocument(this.id);
      if (this._isDisposed) {
        return model;
      }
      this._model = model;
      this._modelChanged.emit(model);
      if (this._provider.synced && !isFinal(this._state)) {
        this._setState(liveState(permissions(model.role).write));
      } else {
        // The state did not change, but what it allows may have.
        this._stateChanged.emit(this._state);
      }
      return model;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this._stop('not-found');
      }
      return null;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._provider.off('status', this._onStatus);
    this._provider.off('sync', this._onSync);
    this._provider.off('connection-close', this._onClose);
    this.sharedModel.ydoc.off('update', this._onDocUpdate);
    window.removeEventListener('beforeunload', this._onBeforeUnload);
    if (this._sentCheck !== null) {
      clearTimeout(this._sentCheck);
    }
    // Unsent edits stay in IndexedDB: reopening the document sends them.
    this._pending?.destroy();
    this._provider.destroy();
    this._synced.reject(new Error('closed'));
    this._state = 'disposed';
    Signal.clearData(this);
  }

  private _onStatus = (event: { status: string }): void => {
    if (isFinal(this._state)) {
      return;
    }
    if (event.status === 'connecting' && this._state !== 'access-changed') {
      this._setState(this._everSynced ? 'reconnecting' : 'connecting');
    }
  };

  private _onSync = (isSynced: boolean): void => {
    if (!isSynced || isFinal(this._state)) {
      return;
    }
    this._everSynced = true;
    void this._keepPendingEdits().then(() => this._scheduleSentCheck());
    const refresh = this._refreshOnSync || this._model === null;
    this._refreshOnSync = false;
    if (refresh) {
      // Access changed (4403): the new role decides what the editor allows.
      void this.refreshRole().then(() => {
        if (!isFinal(this._state)) {
          this._setState(liveState(permissions(this.role).write));
        }
        this._synced.resolve();
      });
    } else {
      this._setState(liveState(permissions(this.role).write));
      this._synced.resolve();
    }
  };

  /**
   * Keep unsent edits in IndexedDB, keyed by server, user and document (the username
   * comes from the server), and apply those an earlier page left once the server's state
   * is here and the role allows writing.
   */
  private async _keepPendingEdits(): Promise<void> {
    if (this._pending !== null || this._pendingStarting) {
      return;
    }
    this._pendingStarting = true;
    try {
      const me = await this._client.me();
      if (this._isDisposed || this._pending !== null) {
        return;
      }
      this._pending = new PendingEdits(
        this.sharedModel.ydoc,
        browserStore(),
        pendingKey(this._client.roomsUrl, me.username, this.id),
        this._provider
      );
      const model = this._model ?? (await this.refreshRole());
      if (!this._isDisposed && permissions(model?.role ?? null).write) {
        await this._pending.restore();
      }
      this._scheduleSentCheck();
    } catch (error) {
      console.warn('jupyter-collab-docs: unsent edits are not kept', error);
    } finally {
      this._pendingStarting = false;
    }
  }

  private _onDocUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin !== this._provider) {
      this._scheduleSentCheck();
    }
  };

  private _onBeforeUnload = (event: BeforeUnloadEvent): void => {
    if (!this.hasUnsentEdits) {
      return;
    }
    // The edits are kept in IndexedDB either way; the browser still asks first.
    event.preventDefault();
    event.returnValue = '';
  };

  /**
   * Edits count as sent once the socket is live and synced and has flushed its
   * buffer, after a short settle (the server's sync reply carries what it lacked).
   */
  private _scheduleSentCheck(): void {
    if (this._sentCheck !== null) {
      clearTimeout(this._sentCheck);
    }
    this._sentCheck = setTimeout(() => {
      this._sentCheck = null;
      const pending = this._pending;
      if (this._isDisposed || !pending || !pending.hasUnsent) {
        return;
      }
      const ws = this._provider.ws;
      if (!this._provider.wsconnected || !this._provider.synced || !ws) {
        return; // the next "sync" checks again
      }
      if (ws.bufferedAmount > 0) {
        this._scheduleSentCheck();
      } else {
        pending.markSent();
      }
    }, SENT_SETTLE_MS);
  }

  private _onClose = (event: CloseEvent | null): void => {
    if (isFinal(this._state)) {
      return;
    }
    const outcome = closeOutcome(event?.code);
    if (!outcome.reconnect) {
      this._stop(outcome.state);
      return;
    }
    if (outcome.refreshRole) {
      this._refreshOnSync = true;
    }
    if (
      outcome.state === 'access-changed' ||
      this._state !== 'access-changed'
    ) {
      this._setState(outcome.state);
    }
  };

  private _stop(state: ConnectionState): void {
    this._provider.disconnect();
    this._setState(state);
    this._synced.reject(new Error(`document ${state}`));
  }

  private _setState(state: ConnectionState): void {
    if (this._state === state) {
      return;
    }
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _client: CollabDocsClient;
  private _provider: WebsocketProvider;
  private _state: ConnectionState = 'connecting';
  private _stateChanged = new Signal<this, ConnectionState>(this);
  private _commentFrame = new Signal<this, string>(this);
  private _model: IDocumentModel | null = null;
  private _modelChanged = new Signal<this, IDocumentModel>(this);
  private _synced = new PromiseDelegate<void>();
  private _everSynced = false;
  private _refreshOnSync = false;
  private _isDisposed = false;
  private _pending: PendingEdits | null = null;
  private _pendingStarting = false;
  private _sentCheck: ReturnType<typeof setTimeout> | null = null;
}

export namespace DocumentConnection {
  export interface IOptions {
    id: string;
    sharedModel: YDocument<any>;
    client: CollabDocsClient;
    /** The Jupyter token for the socket (default: the page's, if any). */
    token?: string;
  }
}
