/**
 * The threads of one open document, kept current: listed when the room syncs (and on
 * every reconnection, since live delivery is at most once), then changed by the live
 * events of the room socket and by the answers to this page's own writes.
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  applyCommentEvent,
  decodeCommentEvent,
  ICommentEvent,
  IThread
} from './comments';
import type { CommentsApi } from './commentsapi';
import type { DocumentConnection } from './connection';

export class CommentsStore implements IDisposable {
  constructor(
    readonly conn: DocumentConnection,
    readonly api: CommentsApi
  ) {
    conn.commentFrame.connect(this._onFrame);
    conn.provider.on('sync', this._onSync);
    if (conn.provider.synced) {
      void this.reload();
    }
  }

  get docId(): string {
    return this.conn.id;
  }

  get threads(): readonly IThread[] {
    return this._threads;
  }

  /** Whether the list was read at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error reading the list, if any. */
  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  thread(id: string): IThread | undefined {
    return this._threads.find(t => t.id === id);
  }

  async reload(): Promise<void> {
    const generation = ++this._generation;
    try {
      const threads = await this.api.list(this.docId);
      if (this._isDisposed || generation !== this._generation) {
        return;
      }
      this._threads = threads;
      this._error = null;
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      this._error = (error as Error).message ?? String(error);
    }
    this._loaded = true;
    this._changed.emit();
  }

  /** Put a thread as the server answered a write of ours (the event may come later). */
  put(thread: IThread): void {
    this.apply({ event: 'thread.updated', thread_id: thread.id, thread });
  }

  remove(threadId: string): void {
    this.apply({ event: 'thread.deleted', thread_id: threadId, thread: null });
  }

  apply(event: ICommentEvent): void {
    if (this._isDisposed) {
      return;
    }
    // A list in flight predates this event: read it again rather than lose it.
    if (this._generation > 0 && !this._loaded) {
      void this.reload();
    }
    this._threads = applyCommentEvent(this._threads, event);
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.conn.commentFrame.disconnect(this._onFrame);
    this.conn.provider.off('sync', this._onSync);
    Signal.clearData(this);
  }

  private _onFrame = (_: unknown, json: string): void => {
    const event = decodeCommentEvent(json);
    if (event) {
      this.apply(event);
    }
  };

  private _onSync = (synced: boolean): void => {
    if (synced) {
      void this.reload();
    }
  };

  private _threads: IThread[] = [];
  private _loaded = false;
  private _error: string | null = null;
  private _generation = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

/** The comment stores of the open documents, one per room connection. */
export class CommentsStores implements IDisposable {
  constructor(readonly api: CommentsApi) {}

  /** Emitted when any store's threads change. */
  get changed(): ISignal<this, CommentsStore> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The store of a connection, made on first use and disposed with it. */
  storeFor(conn: DocumentConnection): CommentsStore {
    let store = this._stores.get(conn);
    if (!store) {
      const made = new CommentsStore(conn, this.api);
      store = made;
      this._stores.set(conn, made);
      made.changed.connect(() => this._changed.emit(made));
      conn.sharedModel.disposed.connect(() => {
        this._stores.delete(conn);
        made.dispose();
        // Whoever shows it lets it go (see `isDisposed`).
        this._changed.emit(made);
      });
    }
    return store;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const store of this._stores.values()) {
      store.dispose();
    }
    this._stores.clear();
    Signal.clearData(this);
  }

  private _stores = new Map<DocumentConnection, CommentsStore>();
  private _changed = new Signal<this, CommentsStore>(this);
  private _isDisposed = false;
}
