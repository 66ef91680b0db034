/**
 * The REST client of `{base}api/collab-docs/` (docs/openapi.yaml), through Jupyter's
 * `ServerConnection` (cookie, XSRF and token handled as for every Jupyter request).
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { DocumentType } from './paths';
import type { Role } from './roles';

/** A document model (docs/openapi.yaml). */
export interface IDocumentModel {
  id: string;
  name: string;
  type: DocumentType;
  role: Role;
  owner: string;
  created: string;
  modified: string;
}

/** A document of the caller's trash (`GET trash`). */
export interface ITrashedDocument extends IDocumentModel {
  trashed: string;
  /** When the server purges it, unless restored first. */
  purge_after: string;
}

export interface IContentModel {
  type: DocumentType;
  format: 'json' | 'text';
  content: any;
}

export interface IShare {
  principal: string;
  role: Role;
  /** Only when a share link is created: its token, shown once. */
  token?: string;
}

export interface IVersion {
  id: string;
  label: string;
  created: string;
  created_by: string | null;
  auto: boolean;
}

/** One hunk of a line diff (docs/openapi.yaml `LineHunks`). */
export interface ILineHunks {
  hunks: {
    old_start: number;
    old_lines: number;
    new_start: number;
    new_lines: number;
    lines: { kind: 'context' | 'added' | 'removed'; text: string }[];
  }[];
  added: number;
  removed: number;
  truncated: boolean;
}

export interface ICellChange {
  status: 'added' | 'removed' | 'changed' | 'moved';
  id: string | null;
  cell_type: string;
  old_index: number | null;
  new_index: number | null;
  moved: boolean;
  source: ILineHunks;
  outputs: {
    change: 'added' | 'removed' | 'changed';
    index: number;
    output_type: string;
    mime_types: string[];
    name?: string;
  }[];
  metadata: { added: string[]; removed: string[]; changed: string[] } | null;
  cell_type_change: { from: string; to: string } | null;
  /** Usernames of who touched the cell in between (empty when not worked out). */
  by?: string[];
}

/** What changed between two versions, or a version and now, and who changed it. */
export interface IVersionComparison {
  from: string;
  to: string;
  authors: {
    username: string;
    display_name: string;
    updates: number;
    bytes: number;
  }[];
  changes:
    | ({ type: 'file' } & ILineHunks)
    | {
        type: 'notebook';
        cells: ICellChange[];
        summary: Record<string, number>;
        metadata: {
          added: string[];
          removed: string[];
          changed: string[];
        } | null;
        truncated: boolean;
      };
}

export interface IActivityEvent {
  event_id: string;
  kind?: string;
  schema_id: string;
  timestamp: string;
  actor: string | null;
  document_id?: string;
  /** The event as a plain-text sentence (servers from issue #15 on): set it as text. */
  summary?: string;
  category?: string;
  actor_name?: string | null;
  [key: string]: any;
}

/** One page of the activity feed; `truncated`: older events were left unread. */
export interface IActivityPage {
  events: IActivityEvent[];
  truncated: boolean;
}

/** The activity feed's filters, every one optional. */
export interface IActivityQuery {
  limit?: number;
  actor?: string;
  kind?: string;
  since?: string;
  until?: string;
}

export interface IMe {
  username: string;
  display_name: string;
  initials: string;
  color: string;
  is_admin: boolean;
  /**
   * Whether the server lets me run code (kernels, terminals). Absent on older servers,
   * which let everyone: read it with `canRunCode`.
   */
  can_run_code?: boolean;
}

/** Whether the server lets this user run code (older servers: yes). */
export function canRunCode(me: IMe | null): boolean {
  return me?.can_run_code !== false;
}

/** A refused or failed request: the HTTP status (0: no answer) and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get forbidden(): boolean {
    return this.status === 403;
  }
}

export type RequestFunction = (
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
) => Promise<Response>;

/** The message of an error answer: the JSON `message`, else the status text. */
export async function errorMessage(response: Response): Promise<string> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // no body
  }
  if (text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.message === 'string' && body.message) {
        return body.message;
      }
    } catch {
      // not JSON
    }
  }
  return response.statusText || `HTTP ${response.status}`;
}

export class CollabDocsClient {
  constructor(options: CollabDocsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._request = options.request ?? ServerConnection.makeRequest;
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** The URL of an API path (relative to `api/collab-docs/`). */
  url(path: string): string {
    return URLExt.join(this.serverSettings.baseUrl, 'api/collab-docs', path);
  }

  /** The room WebSocket base URL (`ws(s)://host{base}api/collab-docs/rooms`). */
  get roomsUrl(): string {
    return URLExt.join(this.serverSettings.wsUrl, 'api/collab-docs/rooms');
  }

  /** One request; resolves with the parsed JSON body (undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await this._request(this.url(path), init, this.serverSettings);
    } catch (error) {
      throw new ApiError(
        0,
        `the server did not answer: ${(error as Error)?.message ?? error}`
      );
    }
    if (!response.ok) {
      throw new ApiError(response.status, await errorMessage(response));
    }
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    if (!text) {
      return undefined as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        response.status,
        'the server answered with invalid JSON'
      );
    }
  }

  me(): Promise<IMe> {
    return this.request('GET', 'me');
  }

  async listDocuments(): Promise<IDocumentModel[]> {
    const reply = await this.request<{ documents: IDocumentModel[] }>(
      'GET',
      'documents'
    );
    return reply.documents;
  }

  createDocument(
    name: string,
    type: DocumentType,
    content?: unknown
  ): Promise<IDocumentModel> {
    const body: Record<string, unknown> = { name, type };
    if (content !== undefined) {
      body.content = content;
    }
    return this.request('POST', 'documents', body);
  }

  getDocument(id: string): Promise<IDocumentModel> {
    return this.request('GET', `documents/${enc(id)}`);
  }

  renameDocument(id: string, name: string): Promise<IDocumentModel> {
    return this.request('PATCH', `documents/${enc(id)}`, { name });
  }

  /** Move a document to its owner's trash. */
  deleteDocument(id: string): Promise<void> {
    return this.request('DELETE', `documents/${enc(id)}`);
  }

  async listTrash(): Promise<ITrashedDocument[]> {
    const reply = await this.request<{ documents: ITrashedDocument[] }>(
      'GET',
      'trash'
    );
    return reply.documents;
  }

  restoreDocument(id: string): Promise<IDocumentModel> {
    return this.request('POST', `trash/${enc(id)}/restore`);
  }

  /** Delete a document of the trash for good. */
  purgeDocument(id: string): Promise<void> {
    return this.request('DELETE', `trash/${enc(id)}`);
  }

  getContent(id: string, version?: string): Promise<IContentModel> {
    const query = version ? `?version=${enc(version)}` : '';
    return this.request('GET', `documents/${enc(id)}/content${query}`);
  }

  putContent(id: string, content: unknown): Promise<IDocumentModel> {
    return this.request('PUT', `documents/${enc(id)}/content`, { content });
  }

  async listVersions(id: string): Promise<IVersion[]> {
    const reply = await this.request<{ versions: IVersion[] }>(
      'GET',
      `documents/${enc(id)}/versions`
    );
    return reply.versions;
  }

  createVersion(id: string, label: string): Promise<IVersion> {
    return this.request('POST', `documents/${enc(id)}/versions`, { label });
  }

  /** `to`: a newer version's id, or `current` for the document as it is now. */
  compareVersions(
    id: string,
    from: string,
    to: string
  ): Promise<IVersionComparison> {
    return this.request(
      'GET',
      `documents/${enc(id)}/versions/compare?from=${enc(from)}&to=${enc(to)}`
    );
  }

  restoreVersion(id: string, versionId: string): Promise<IDocumentModel> {
    return this.request(
      'POST',
      `documents/${enc(id)}/versions/${enc(versionId)}/restore`
    );
  }

  async listShares(id: string): Promise<IShare[]> {
    const reply = await this.request<{ shares: IShare[] }>(
      'GET',
      `documents/${enc(id)}/shares`
    );
    return reply.shares;
  }

  setShare(id: string, principal: string, role: Role): Promise<IShare> {
    return this.request(
      'PUT',
      `documents/${enc(id)}/shares/${enc(principal)}`,
      {
        role
      }
    );
  }

  removeShare(id: string, principal: string): Promise<void> {
    return this.request(
      'DELETE',
      `documents/${enc(id)}/shares/${enc(principal)}`
    );
  }

  async activity(id: string, limit = 50): Promise<IActivityEvent[]> {
    return (await this.activityPage(id, { limit })).events;
  }

  /** The activity feed filtered (docs/openapi.yaml): events with their sentences. */
  async activityPage(
    id: string,
    query: IActivityQuery = {}
  ): Promise<IActivityPage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') {
        params.set(name, String(value));
      }
    }
    return this.request<IActivityPage>(
      'GET',
      `documents/${enc(id)}/activity?${params.toString()}`
    );
  }

  /** The caller's inbox of mentions, newest first, with the unread count. */
  inbox(): Promise<IInbox> {
    return this.request<IInbox>('GET', 'inbox');
  }

  /** Mark one notification read (`null`: all); the unread count after. */
  markRead(id: string | null): Promise<{ unread: number }> {
    return this.request(
      'POST',
      id === null ? 'inbox/read' : `inbox/${enc(id)}/read`
    );
  }

  /** People who can read a document, for @-completion (commenters and up). */
  async readers(id: string, query: string): Promise<IReader[]> {
    const answer = await this.request<{ readers: IReader[] }>(
      'GET',
      `documents/${enc(id)}/readers?q=${enc(query)}`
    );
    return answer.readers;
  }

  private _request: RequestFunction;
}

/** One mention in the caller's inbox (docs/openapi.yaml `Notification`). */
export interface INotification {
  id: string;
  kind: 'mention';
  document_id: string;
  document_name: string;
  document_type: DocumentType;
  thread_id: string;
  comment_id: string;
  author: string;
  author_name: string;
  /** The start of the comment: text, never markup. */
  excerpt: string;
  created: string;
  read: boolean;
}

export interface IInbox {
  notifications: INotification[];
  unread: number;
}

export interface IReader {
  username: string;
  display_name: string;
}

export namespace CollabDocsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
    /** How requests are made (default `ServerConnection.makeRequest`); for tests. */
    request?: RequestFunction;
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}
