/**
 * The `CollabDocs` contents drive: JupyterLab opens the server's documents at
 * `CollabDocs:<id>/<file name>` with its own notebook and text editors. Its shared
 * model factory creates @jupyter/ydoc models connected to the document's room; the
 * REST API gives names, roles and (for non-collaborative viewers) content. Saving is a
 * no-op: the room stores every change as it happens.
 */

import { YDocument, YFile, YNotebook } from '@jupyter/ydoc';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, CollabDocsClient, IDocumentModel } from './api';
import { DocumentConnection } from './connection';
import {
  DRIVE_NAME,
  DocumentType,
  fileNameFor,
  localPathFor,
  nameFromFileName,
  parsePath,
  typeForFile
} from './paths';
import { permissions } from './roles';
import { untrustedNotebookContent, untrustSharedNotebook } from './trust';

/** The hash every model carries: content is live, so it never conflicts on save. */
const LIVE_HASH = 'collab-docs-live';

/** An empty notebook with one code cell, for new notebooks. */
export function newNotebookContent(): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        display_name: 'Python 3 (ipykernel)',
        language: 'python',
        name: 'python3'
      },
      language_info: { name: 'python' }
    },
    cells: [
      {
        cell_type: 'code',
        id: Math.random().toString(36).slice(2, 10),
        source: '',
        metadata: {},
        outputs: [],
        execution_count: null
      }
    ]
  };
}

/** `url` with `format=file` and, when JupyterLab sends its token in URLs, the token. */
export function downloadUrl(
  url: string,
  settings: Pick<ServerConnection.ISettings, 'token' | 'appendToken'>
): string {
  const base =
    typeof location === 'undefined' ? 'http://localhost/' : location.href;
  const full = new URL(url, base);
  full.searchParams.set('format', 'file');
  if (settings.appendToken && settings.token) {
    full.searchParams.set('token', settings.token);
  }
  return full.toString();
}

export class CollabDocsDrive implements Contents.IDrive {
  constructor(options: CollabDocsDrive.IOptions) {
    this.client = options.client;
    this._ready = options.ready ?? Promise.resolve();
    this.serverSettings = options.client.serverSettings;
    this.sharedModelFactory = new SharedModelFactory(this);
  }

  readonly name = DRIVE_NAME;
  readonly client: CollabDocsClient;
  readonly serverSettings: ServerConnection.ISettings;
  readonly sharedModelFactory: Contents.ISharedFactory;

  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  /** Emitted when a document's connection is created (a document is opened). */
  get connectionAdded(): ISignal<this, DocumentConnection> {
    return this._connectionAdded;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const conn of this._connections) {
      conn.dispose();
    }
    this._connections.clear();
    Signal.clearData(this);
  }

  /** The live connection of a shared model, if it is one of this drive's. */
  connectionFor(sharedModel: unknown): DocumentConnection | undefined {
    for (const conn of this._connections) {
      if (conn.sharedModel === sharedModel) {
        return conn;
      }
    }
    return undefined;
  }

  /** The live connections of a document. */
  connectionsOf(id: string): DocumentConnection[] {
    return [...this._connections].filter(c => c.id === id);
  }

  /** Every awareness that belongs to a room of this drive (for remote cursors). */
  isCollabAwareness(awareness: unknown): boolean {
    for (const conn of this._connections) {
      if (conn.sharedModel.awareness === awareness) {
        return true;
      }
    }
    return false;
  }

  /** Connect a new shared model to its room (called by the shared model factory). */
  connect(id: string, sharedModel: YDocument<any>): DocumentConnection {
    const conn = new DocumentConnection({
      id,
      sharedModel,
      client: this.client
    });
    this._connections.add(conn);
    sharedModel.disposed.connect(() => {
      this._connections.delete(conn);
      conn.dispose();
    });
    this._connectionAdded.emit(conn);
    return conn;
  }

  /**
   * Tell open documents that a document was renamed elsewhere (the sidebar notices it
   * when it refreshes), so their tabs follow.
   */
  notifyRenamed(before: IDocumentModel, after: IDocumentModel): void {
    const oldPath = localPathFor(before.id, before.name, before.type);
    const newPath = localPathFor(after.id, after.name, after.type);
    if (oldPath !== newPath) {
      this._fileChanged.emit({
        type: 'rename',
        oldValue: { path: oldPath },
        newValue: this._toContents(after, false)
      });
    }
  }

  /**
   * Show renames made elsewhere on the documents open here, sidebar shown or not:
   * every `interval` ms while the page is visible, one GET of each open document's
   * model ({@link checkNames}).
   */
  watchNames(interval = 5000): IDisposable {
    const timer = setInterval(() => {
      if (
        typeof document === 'undefined' ||
        document.visibilityState !== 'hidden'
      ) {
        void this.checkNames();
      }
    }, interval);
    return new DisposableDelegate(() => clearInterval(timer));
  }

  /** Fetch the open documents' models; a new name renames their tabs. */
  async checkNames(): Promise<void> {
    const open = new Map<string, IDocumentModel>();
    for (const conn of this._connections) {
      if (conn.model && !open.has(conn.id)) {
        open.set(conn.id, conn.model);
      }
    }
    await Promise.all(
      [...open].map(async ([id, before]) => {
        let after: IDocumentModel;
        try {
          after = await this.client.getDocument(id);
        } catch {
          return; // gone or unreachable: the room's socket says so
        }
        if (after.name !== before.name) {
          this.notifyRenamed(before, after);
          for (const conn of this.connectionsOf(id)) {
            void conn.refreshRole(); // its model, with the new name
          }
        }
      })
    );
  }

  /** Tell open documents that a document is gone. */
  notifyDeleted(doc: IDocumentModel): void {
    this._fileChanged.emit({
      type: 'delete',
      oldValue: { path: localPathFor(doc.id, doc.name, doc.type) },
      newValue: null
    });
  }

  async get(
    localPath: string,
    options?: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    const { id, fileName } = parsePath(localPath);
    if (!id) {
      const docs = await this._call(() => this.client.listDocuments());
      return this._directory('', docs);
    }
    const doc = await this._call(() => this.client.getDocument(id));
    if (!fileName) {
      return this._directory(id, [doc]);
    }
    const model = this._toContents(doc, false);
    if (!options?.content) {
      return model;
    }
    // Who I am decides how a document opens (a notebook without a kernel for a user
    // who may run no code): known before the document is populated.
    await this._ready;
    const live = this.connectionsOf(id);
    if (live.length > 0) {
      // The content arrives over the room: wait for the first sync, then let the
      // shared model be (no content here, so the context does not overwrite it).
      await Promise.all(live.map(c => c.synced)).catch(error => {
        throw new ApiError(404, `${doc.name}: ${error.message}`);
      });
      return { ...model, format: options.format ?? model.format };
    }
    const content = await this._call(() => this.client.getContent(id));
    return {
      ...model,
      content:
        doc.type === 'notebook'
          ? untrustedNotebookContent(content.content)
          : content.content,
      format: content.format
    };
  }

  /**
   * The document as the file to save (`content?format=file`: nbformat JSON or the
   * text, named by the server's Content-Disposition). The browser follows this link
   * itself, with its cookies; a token JupyterLab puts in URLs goes in the query.
   */
  async getDownloadUrl(localPath: string): Promise<string> {
    const { id } = parsePath(localPath);
    const path = `documents/${encodeURIComponent(id)}/content`;
    return downloadUrl(this.client.url(path), this.serverSettings);
  }

  async newUntitled(
    options: Contents.ICreateOptions = {}
  ): Promise<Contents.IModel> {
    const type: DocumentType =
      options.type === 'notebook' || options.ext === '.ipynb'
        ? 'notebook'
        : 'file';
    if (options.type === 'directory') {
      throw new Error('Shared documents have no folders');
    }
    let name = 'Untitled';
    if (type === 'file' && options.ext && options.ext !== '.txt') {
      name += options.ext.startsWith('.') ? options.ext : `.${options.ext}`;
    }
    const content = type === 'notebook' ? newNotebookContent() : '';
    const doc = await this._call(() =>
      this.client.createDocument(name, type, content)
    );
    const model = this._toContents(doc, false);
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  async delete(localPath: string): Promise<void> {
    const { id } = parsePath(localPath);
    await this._call(() => this.client.deleteDocument(id));
    this._fileChanged.emit({
      type: 'delete',
      oldValue: { path: localPath },
      newValue: null
    });
  }

  async rename(
    oldLocalPath: string,
    newLocalPath: string
  ): Promise<Contents.IModel> {
    const from = parsePath(oldLocalPath);
    const to = parsePath(newLocalPath);
    if (from.id !== to.id || !to.fileName) {
      throw new Error('A shared document can only be renamed, not moved');
    }
    const current = await this._call(() => this.client.getDocument(from.id));
    const name = nameFromFileName(to.fileName, current.type, current.name);
    const doc = await this._call(() =>
      this.client.renameDocument(from.id, name)
    );
    const model = this._toContents(doc, false);
    this._fileChanged.emit({
      type: 'rename',
      oldValue: { path: oldLocalPath },
      newValue: model
    });
    return model;
  }

  async save(
    localPath: string,
    options: Partial<Contents.IModel> = {}
  ): Promise<Contents.IModel> {
    const { id } = parsePath(localPath);
    if (
      this.connectionsOf(id).length === 0 &&
      options.content !== undefined &&
      options.content !== null
    ) {
      // A non-collaborative view saving: replace the content (a CRDT change).
      await this._call(() => this.client.putContent(id, options.content));
    }
    // Live documents are stored as they change: nothing to do.
    const model = await this.get(localPath, { content: false });
    this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
    return model;
  }

  async copy(localPath: string, toLocalDir: string): Promise<Contents.IModel> {
    const { id } = parsePath(localPath);
    const doc = await this._call(() => this.client.getDocument(id));
    const content = await this._call(() => this.client.getContent(id));
    const copy = await this._call(() =>
      this.client.createDocument(
        `${doc.name} (copy)`,
        doc.type,
        content.content
      )
    );
    const model = this._toContents(copy, false);
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  async createCheckpoint(
    localPath: string
  ): Promise<Contents.ICheckpointModel> {
    return { id: 'live', last_modified: new Date().toISOString() };
  }

  async listCheckpoints(
    localPath: string
  ): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  async restoreCheckpoint(
    localPath: string,
    checkpointID: string
  ): Promise<void> {
    // Versions replace checkpoints: see the document's history panel.
  }

  async deleteCheckpoint(
    localPath: string,
    checkpointID: string
  ): Promise<void> {
    // nothing to delete
  }

  private _toContents(
    doc: IDocumentModel,
    withContent: boolean
  ): Contents.IModel {
    const fileName = fileNameFor(doc.name, doc.type);
    const notebook = doc.type === 'notebook';
    return {
      name: fileName,
      path: localPathFor(doc.id, doc.name, doc.type),
      type: notebook ? 'notebook' : 'file',
      writable: permissions(doc.role).write,
      created: doc.created,
      last_modified: doc.modified,
      mimetype: notebook ? 'application/x-ipynb+json' : 'text/plain',
      content: withContent ? undefined : null,
      format: notebook ? 'json' : 'text',
      hash: LIVE_HASH,
      hash_algorithm: 'none'
    };
  }

  private _directory(id: string, docs: IDocumentModel[]): Contents.IModel {
    const now = new Date().toISOString();
    return {
      name: id,
      path: id,
      type: 'directory',
      writable: false,
      created: now,
      last_modified: now,
      mimetype: '',
      format: 'json',
      content: docs.map(d => this._toContents(d, false))
    };
  }

  /** Run a REST call; errors become `ServerConnection.ResponseError`s the UI knows. */
  private async _call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ApiError && error.status > 0) {
        const response = new Response(
          JSON.stringify({ message: error.message }),
          {
            status: error.status
          }
        );
        throw new ServerConnection.ResponseError(response, error.message);
      }
      throw error;
    }
  }

  private _ready: Promise<unknown>;
  private _connections = new Set<DocumentConnection>();
  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _connectionAdded = new Signal<this, DocumentConnection>(this);
  private _isDisposed = false;
}

export namespace CollabDocsDrive {
  export interface IOptions {
    client: CollabDocsClient;
    /** Resolves once who I am is known (or could not be). */
    ready?: Promise<unknown>;
  }
}

/** Creates @jupyter/ydoc models for the drive's documents, connected to their rooms. */
class SharedModelFactory implements Contents.ISharedFactory {
  constructor(private _drive: CollabDocsDrive) {}

  readonly collaborative = true;

  createNew(
    options: Contents.ISharedFactoryOptions
  ): YDocument<any> | undefined {
    if (!options.collaborative) {
      // A view that does not edit through a shared model: it reads the content.
      return undefined;
    }
    const { id, fileName } = parsePath(options.path);
    if (!id || !fileName) {
      return undefined;
    }
    const type = typeForFile(fileName, options.contentType);
    let sharedModel: YDocument<any>;
    if (type === 'notebook') {
      if (options.contentType !== 'notebook') {
        return undefined;
      }
      const notebook = new YNotebook({ disableDocumentWideUndoRedo: true });
      // First, before the notebook model is built on it: no cell is ever trusted.
      untrustSharedNotebook(notebook);
      sharedModel = notebook;
    } else {
      if (options.contentType !== 'file') {
        return undefined;
      }
      sharedModel = new YFile();
    }
    this._drive.connect(id, sharedModel);
    return sharedModel;
  }
}
