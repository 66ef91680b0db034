/**
 * Edits not yet sent to the server, kept in the browser (IndexedDB) so that closing the
 * tab while the server is away loses nothing: restored into the document on reopen, then
 * sent by the room as any local edit.
 *
 * Only unsent edits are stored (one merged Yjs update per document), never the whole
 * document, and they are deleted once sent. Entries are keyed by server, user and
 * document: another user signing in on the same browser never gets them.
 */

import * as Y from "yjs";

/** Where pending updates live: IndexedDB in the page, memory in tests. */
export interface PendingStore {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, update: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The store key of one user's pending edits to one document of one server. */
export function pendingKey(server: string, username: string, docId: string): string {
  return JSON.stringify([server, username, docId]);
}

/**
 * One document's unsent local edits. `remoteOrigin` is the origin of updates that came
 * from the server (the provider): everything else done to the doc is a local edit.
 */
export class PendingEdits {
  private pending: Uint8Array | null = null;
  private writes: Promise<void> = Promise.resolve();
  private restoring = false;

  constructor(
    private readonly doc: Y.Doc,
    private readonly store: PendingStore,
    private readonly key: string,
    private readonly remoteOrigin: unknown,
  ) {
    doc.on("update", this.onUpdate);
  }

  /** Whether there are local edits the server may not have yet. */
  get hasUnsent(): boolean {
    return this.pending !== null;
  }

  /** Apply edits left by an earlier page (then they count as unsent until sent). */
  async restore(): Promise<boolean> {
    const stored = await this.store.get(this.key).catch(() => null);
    if (!stored || stored.length === 0) return false;
    this.pending = this.pending ? Y.mergeUpdates([stored, this.pending]) : stored;
    this.restoring = true;
    try {
      Y.applyUpdate(this.doc, stored, this);
    } finally {
      this.restoring = false;
    }
    return true;
  }

  /** The server has everything edited so far: forget it. */
  markSent(): void {
    if (this.pending === null) return;
    this.pending = null;
    this.enqueue(() => this.store.delete(this.key));
  }

  /** Resolves once every write so far reached the store. */
  flushed(): Promise<void> {
    return this.writes;
  }

  destroy(): void {
    this.doc.off("update", this.onUpdate);
  }

  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this.remoteOrigin || this.restoring) return;
    this.pending = this.pending ? Y.mergeUpdates([this.pending, update]) : update;
    const snapshot = this.pending;
    this.enqueue(() => this.store.put(this.key, snapshot));
  };

  private enqueue(write: () => Promise<void>): void {
    // In order, and a failed write (quota, private mode) never stops the next ones.
    this.writes = this.writes.then(write).catch((error: unknown) => console.warn("collab-docs: could not keep unsent edits", error));
  }
}

const DB_NAME = "collab-docs-pending";
const STORE_NAME = "updates";

/** Pending updates in this origin's IndexedDB. */
export class IndexedDbStore implements PendingStore {
  private db: Promise<IDBDatabase> | null = null;

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("IndexedDB unavailable"));
    });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE_NAME, mode);
      const request = action(transaction.objectStore(STORE_NAME));
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = () => reject(transaction.error ?? request.error);
      transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
    });
  }

  async get(key: string): Promise<Uint8Array | null> {
    const value = await this.run<unknown>("readonly", (store) => store.get(key));
    return value instanceof Uint8Array ? value : null;
  }

  async put(key: string, update: Uint8Array): Promise<void> {
    await this.run("readwrite", (store) => store.put(update, key));
  }

  async delete(key: string): Promise<void> {
    await this.run("readwrite", (store) => store.delete(key));
  }
}

/** A store in memory (tests, or a browser without IndexedDB). */
export class MemoryStore implements PendingStore {
  readonly entries = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | null> {
    return this.entries.get(key) ?? null;
  }

  async put(key: string, update: Uint8Array): Promise<void> {
    this.entries.set(key, update);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/** IndexedDB when the browser has it, else memory (edits then survive reconnects only). */
export function browserStore(): PendingStore {
  return typeof indexedDB === "undefined" ? new MemoryStore() : new IndexedDbStore();
}
