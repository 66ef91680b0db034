/** The REST client of `{base}api/collab-docs/` (docs/openapi.yaml). */

import { type Auth, authHeaders } from "./session";

export type Role = "viewer" | "commenter" | "editor" | "owner";
export type DocType = "notebook" | "file";

export const ROLES: readonly Role[] = ["viewer", "commenter", "editor", "owner"];

export interface Me {
  username: string;
  name: string;
  display_name: string;
  initials: string;
  color: string;
  is_admin: boolean;
  groups?: string[];
}

export interface DocumentModel {
  id: string;
  name: string;
  type: DocType;
  role: Role;
  owner: string;
  created: string;
  modified: string;
}

/** A document of the caller's trash (`GET trash`). */
export interface TrashedDocument extends DocumentModel {
  trashed: string;
  /** When the server purges it, unless restored first. */
  purge_after: string;
}

export interface Share {
  principal: string;
  role: Role;
  /** Only in the answer that creates a share link: shown once. */
  token?: string;
}

export interface Version {
  id: string;
  label: string;
  created: string;
  created_by: string;
  auto: boolean;
}

/** A line diff (docs/openapi.yaml `LineHunks`). */
export interface LineHunks {
  hunks: {
    old_start: number;
    old_lines: number;
    new_start: number;
    new_lines: number;
    lines: { kind: "context" | "added" | "removed"; text: string }[];
  }[];
  added: number;
  removed: number;
  truncated: boolean;
}

export interface KeyChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface CellChange {
  status: "added" | "removed" | "changed" | "moved";
  id: string | null;
  cell_type: string;
  old_index: number | null;
  new_index: number | null;
  moved: boolean;
  source: LineHunks;
  outputs: { change: string; index: number; output_type: string; mime_types: string[]; name?: string }[];
  metadata: KeyChanges | null;
  cell_type_change: { from: string; to: string } | null;
  /** Usernames of who touched the cell in between (empty when not worked out). */
  by?: string[];
}

/** What changed between two versions, or a version and now (`to: "current"`), and who. */
export interface VersionComparison {
  from: string;
  to: string;
  authors: { username: string; display_name: string; updates: number; bytes: number }[];
  changes:
    | ({ type: "file" } & LineHunks)
    | { type: "notebook"; cells: CellChange[]; summary: Record<string, number>; metadata: KeyChanges | null; truncated: boolean };
}

/** A failed request: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

/** One event of a document's activity feed: `summary` is plain text (show it as text). */
export interface ActivityEvent {
  event_id: string;
  kind: string;
  category: string;
  summary: string;
  timestamp: string;
  actor: string | null;
  actor_name: string | null;
  [field: string]: unknown;
}

export interface ActivityPage {
  events: ActivityEvent[];
  /** A filtered feed left older events unread. */
  truncated: boolean;
}

/** The feed's filters (docs/openapi.yaml): every one optional. */
export interface ActivityQuery {
  limit?: number;
  actor?: string;
  kind?: string;
  since?: string;
  until?: string;
}

export function activitySearch(query: ActivityQuery): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  return params.toString();
}

/** A user or group offered by the share dialogs' completion. */
export interface PrincipalSuggestion {
  principal: string;
  display_name: string;
}

export interface PrincipalCompletion {
  principals: PrincipalSuggestion[];
  /** false: the server has no list of users (JupyterHub): any well-formed name is accepted. */
  directory: boolean;
}

/** The answer of `GET principals`, keeping only well-formed entries. */
export function principalCompletion(answer: unknown): PrincipalCompletion {
  const body = (answer && typeof answer === "object" ? answer : {}) as Record<string, unknown>;
  const list = Array.isArray(body.principals) ? body.principals : [];
  const principals = list
    .filter((item): item is Record<string, unknown> => !!item && typeof item === "object")
    .filter((item) => typeof item.principal === "string" && /^(user|group):./.test(item.principal))
    .map((item) => ({
      principal: item.principal as string,
      display_name: typeof item.display_name === "string" ? item.display_name : "",
    }));
  return { principals, directory: body.directory !== false };
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  baseUrl: string;
  auth: Auth;
  fetch?: FetchLike;
  /** document.cookie, read at each request (the _xsrf cookie may change). */
  cookies?: () => string;
  /** Called on every 401: the sign-in is no longer valid. */
  onUnauthenticated?: (error: ApiError) => void;
}

const FALLBACK_MESSAGES: Record<number, string> = {
  0: "The server could not be reached.",
  401: "Not signed in.",
  403: "You do not have permission to do that.",
  404: "Not found, or you do not have access.",
  409: "Conflict.",
  413: "Too large.",
  429: "Too many requests: try again in a moment.",
  503: "The server is temporarily unavailable.",
};

/** The `{"message"}` of an error answer, or a sensible text. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let message = "";
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as unknown;
      if (body && typeof body === "object" && "message" in body) {
        message = String((body as { message: unknown }).message ?? "");
      }
    } catch {
      // Not JSON (a proxy's HTML page, for instance): keep the status text.
    }
  } catch {
    // unreadable body
  }
  if (!message) {
    message =
      FALLBACK_MESSAGES[response.status] ??
      `${response.status} ${response.statusText || "error"}`.trim();
  }
  return new ApiError(response.status, message);
}

/** A principal as a URL path segment (the colon may stay as is). */
export function principalPath(principal: string): string {
  return encodeURIComponent(principal).replace(/%3A/gi, ":");
}

export class ApiClient {
  readonly baseUrl: string;
  auth: Auth;
  private readonly fetchImpl: FetchLike;
  private readonly cookies: () => string;
  private readonly onUnauthenticated: ((error: ApiError) => void) | undefined;

  constructor(options: ApiOptions) {
    this.baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : options.baseUrl + "/";
    this.auth = options.auth;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.cookies = options.cookies ?? (() => (typeof document === "undefined" ? "" : document.cookie));
    this.onUnauthenticated = options.onUnauthenticated;
  }

  url(path: string): string {
    return `${this.baseUrl}api/collab-docs/${path}`;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { link?: string | null; quiet401?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...authHeaders(this.auth, this.cookies()),
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (options.link) headers["X-Collab-Docs-Link"] = options.link;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, FALLBACK_MESSAGES[0]!);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (error.status === 401 && !options.quiet401) this.onUnauthenticated?.(error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, "The server sent an answer that is not JSON.");
    }
  }

  /** Who am I? `quiet`: a 401 is an answer here (sign-in probe), not a lost session. */
  me(quiet = false): Promise<Me> {
    return this.request<Me>("GET", "me", undefined, { quiet401: quiet });
  }

  async listDocuments(): Promise<DocumentModel[]> {
    const answer = await this.request<{ documents: DocumentModel[] }>("GET", "documents");
    return answer.documents;
  }

  createDocument(name: string, type: DocType, content?: unknown): Promise<DocumentModel> {
    const body: Record<string, unknown> = { name, type };
    if (content !== undefined) body.content = content;
    return this.request<DocumentModel>("POST", "documents", body);
  }

  getDocument(id: string, link?: string | null): Promise<DocumentModel> {
    return this.request<DocumentModel>("GET", `documents/${encodeURIComponent(id)}`, undefined, {
      link,
    });
  }

  renameDocument(id: string, name: string, link?: string | null): Promise<DocumentModel> {
    return this.request<DocumentModel>("PATCH", `documents/${encodeURIComponent(id)}`, { name }, { link });
  }

  deleteDocument(id: string): Promise<void> {
    return this.request<void>("DELETE", `documents/${encodeURIComponent(id)}`);
  }

  async listTrash(): Promise<TrashedDocument[]> {
    const answer = await this.request<{ documents: TrashedDocument[] }>("GET", "trash");
    return answer.documents;
  }

  restoreDocument(id: string): Promise<DocumentModel> {
    return this.request<DocumentModel>("POST", `trash/${encodeURIComponent(id)}/restore`);
  }

  /** Delete a document of the trash for good. */
  purgeDocument(id: string): Promise<void> {
    return this.request<void>("DELETE", `trash/${encodeURIComponent(id)}`);
  }

  /** The document as the file to save (`content?format=file`). */
  async contentFile(id: string, link?: string | null): Promise<Blob> {
    const headers: Record<string, string> = { ...authHeaders(this.auth, this.cookies()) };
    if (link) headers["X-Collab-Docs-Link"] = link;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(`documents/${encodeURIComponent(id)}/content?format=file`), {
        headers,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, FALLBACK_MESSAGES[0]!);
    }
    if (!response.ok) throw await errorFrom(response);
    return response.blob();
  }

  async shares(id: string, link?: string | null): Promise<Share[]> {
    const answer = await this.request<{ shares: Share[] }>(
      "GET",
      `documents/${encodeURIComponent(id)}/shares`,
      undefined,
      { link },
    );
    return answer.shares;
  }

  /** Users and groups whose name starts with `prefix` (the share dialog's completion). */
  async completePrincipals(prefix: string): Promise<PrincipalCompletion> {
    return principalCompletion(await this.request<unknown>("GET", `principals?q=${encodeURIComponent(prefix)}`));
  }

  setShare(id: string, principal: string, role: Role, link?: string | null): Promise<Share> {
    return this.request<Share>(
      "PUT",
      `documents/${encodeURIComponent(id)}/shares/${principalPath(principal)}`,
      { role },
      { link },
    );
  }

  async listVersions(id: string, link?: string | null): Promise<Version[]> {
    const answer = await this.request<{ versions: Version[] }>("GET", `documents/${encodeURIComponent(id)}/versions`, undefined, { link });
    return answer.versions;
  }

  createVersion(id: string, label: string, link?: string | null): Promise<Version> {
    return this.request<Version>("POST", `documents/${encodeURIComponent(id)}/versions`, { label }, { link });
  }

  restoreVersion(id: string, versionId: string, link?: string | null): Promise<DocumentModel> {
    const path = `documents/${encodeURIComponent(id)}/versions/${encodeURIComponent(versionId)}/restore`;
    return this.request<DocumentModel>("POST", path, undefined, { link });
  }

  /** `to`: a newer version's id, or `current` for the document as it is now. */
  compareVersions(id: string, from: string, to: string, link?: string | null): Promise<VersionComparison> {
    const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    return this.request<VersionComparison>("GET", `documents/${encodeURIComponent(id)}/versions/compare?${query}`, undefined, { link });
  }

  removeShare(id: string, principal: string, link?: string | null): Promise<void> {
    return this.request<void>(
      "DELETE",
      `documents/${encodeURIComponent(id)}/shares/${principalPath(principal)}`,
      undefined,
      { link },
    );
  }

  /** The document's activity feed, newest first, filtered (owners and administrators). */
  activity(id: string, query: ActivityQuery = {}, link?: string | null): Promise<ActivityPage> {
    return this.request<ActivityPage>(
      "GET",
      `documents/${encodeURIComponent(id)}/activity?${activitySearch(query)}`,
      undefined,
      { link },
    );
  }

  /** The caller's inbox of mentions, newest first, with the unread count. */
  inbox(): Promise<Inbox> {
    return this.request<Inbox>("GET", "inbox");
  }

  /** Mark one notification read (`null`: all of them); the unread count after. */
  markRead(id: string | null): Promise<{ unread: number }> {
    const path = id === null ? "inbox/read" : `inbox/${encodeURIComponent(id)}/read`;
    return this.request<{ unread: number }>("POST", path);
  }

  /** People who can read a document, for @-completion (commenters and up). */
  async readers(id: string, query: string, link?: string | null): Promise<Reader[]> {
    const q = encodeURIComponent(query);
    const answer = await this.request<{ readers: Reader[] }>(
      "GET",
      `documents/${encodeURIComponent(id)}/readers?q=${q}`,
      undefined,
      { link },
    );
    return answer.readers;
  }
}

/** One mention in the caller's inbox (docs/openapi.yaml `Notification`). */
export interface InboxNotification {
  id: string;
  kind: "mention";
  document_id: string;
  document_name: string;
  document_type: DocType;
  thread_id: string;
  comment_id: string;
  author: string;
  author_name: string;
  /** The start of the comment: text, never markup. */
  excerpt: string;
  created: string;
  read: boolean;
}

export interface Inbox {
  notifications: InboxNotification[];
  unread: number;
}

export interface Reader {
  username: string;
  display_name: string;
}

/** What a role may do, as in docs/sharing.md. */
export function canWrite(role: Role | null | undefined): boolean {
  return role === "editor" || role === "owner";
}

export function canShare(role: Role | null | undefined): boolean {
  return canWrite(role);
}

/** The roles a caller with `role` may grant to `principal` (links never get owner). */
export function grantableRoles(role: Role | null | undefined, principal: string): Role[] {
  if (role === "owner") return principal === "link" ? ["viewer", "commenter", "editor"] : [...ROLES];
  if (role === "editor") return ["viewer", "commenter", "editor"];
  return [];
}
