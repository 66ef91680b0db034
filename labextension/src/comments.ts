/**
 * Comment threads (docs/comments.md): the server's model, anchors made and resolved
 * with Yjs relative positions (base64 of their lib0 encoding), the list's filters, live
 * events (type-100 frames) and who may do what. Pure: no DOM, no JupyterLab.
 */

import * as Y from 'yjs';

import { permissions } from './roles';

export type Anchor =
  | { kind: 'text'; start: string; end: string }
  | { kind: 'cell'; cell_id: string }
  | { kind: 'cell_range'; cell_id: string; start: string; end: string };

export interface IThreadComment {
  id: string;
  thread_id: string;
  author: string;
  /** The author's display name (the server's directory; the username without one). */
  author_name?: string | null;
  body: string;
  mentions: string[];
  created: string;
  edited: string | null;
}

export interface IThreadPosition {
  attached: boolean;
  start: number | null;
  end: number | null;
  cell_index: number | null;
}

export interface IThread {
  id: string;
  document_id: string;
  anchor: Anchor;
  quote: string;
  author: string;
  author_name?: string | null;
  created: string;
  resolved: boolean;
  resolved_by: string | null;
  resolved_by_name?: string | null;
  resolved_at: string | null;
  position: IThreadPosition;
  comments: IThreadComment[];
  /** Present on suggestion threads only (docs/comments.md, "Suggestions"). */
  suggestion?: ISuggestion;
}

export type SuggestionStatus = 'pending' | 'accepted' | 'rejected';

/** A proposed change: `text` in place of `original` (the anchored text when made). */
/** Username -> display name, as the server names the people in these threads. */
export function namesInThreads(
  threads: readonly IThread[]
): Map<string, string> {
  const names = new Map<string, string>();
  const learn = (user: string | null, name?: string | null) => {
    if (user && name) {
      names.set(user, name);
    }
  };
  for (const thread of threads) {
    learn(thread.author, thread.author_name);
    learn(thread.resolved_by, thread.resolved_by_name);
    learn(
      thread.suggestion?.decided_by ?? null,
      thread.suggestion?.decided_by_name
    );
    for (const comment of thread.comments) {
      learn(comment.author, comment.author_name);
    }
  }
  return names;
}

export interface ISuggestion {
  text: string;
  original: string;
  status: SuggestionStatus;
  decided_by: string | null;
  decided_by_name?: string | null;
  decided_at: string | null;
  /** Computed on every read: pending and its anchored text still `original`. */
  applies: boolean;
  /** Why it does not apply, as the server says it. */
  why: string | null;
}

/** Who a comment's mentions told (in the answers to the writes that parse them). */
export interface INotifications {
  notified: string[];
  cannot_read: string[];
  unknown: string[];
  may_share: boolean;
}

export type CommentEventKind =
  'thread.created' | 'thread.updated' | 'thread.deleted';

export interface ICommentEvent {
  event: CommentEventKind;
  thread_id: string;
  thread: IThread | null;
}

export type StatusFilter = 'open' | 'resolved' | 'all';

export interface IThreadFilter {
  status: StatusFilter;
  mine: boolean;
  mentioningMe: boolean;
}

/** The live frame type of comment events on a `?comments=1` room socket. */
export const COMMENT_FRAME = 100;

/** A relative position as the server stores it: its lib0 encoding in base64. */
export function encodePosition(position: Y.RelativePosition): string {
  let binary = '';
  for (const byte of Y.encodeRelativePosition(position)) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/** A stored position, or null when it is not base64 of a relative position. */
export function decodePosition(encoded: string): Y.RelativePosition | null {
  try {
    const binary = atob(encoded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return Y.decodeRelativePosition(bytes);
  } catch {
    return null;
  }
}

/**
 * The anchor of the selection `from`..`to` in `text` (a text document's `source`, or
 * the source of cell `cellId`) and the text it quotes. The start sticks to the right and
 * the end to the left: text typed at either edge stays outside the range.
 */
export function anchorFromSelection(
  text: Y.Text,
  from: number,
  to: number,
  cellId: string | null
): { anchor: Anchor; quote: string } {
  const lo = Math.max(0, Math.min(from, to));
  const hi = Math.min(text.length, Math.max(from, to));
  if (lo >= hi) {
    throw new Error('Select some text to comment on.');
  }
  const start = encodePosition(Y.createRelativePositionFromTypeIndex(text, lo));
  const end = encodePosition(
    Y.createRelativePositionFromTypeIndex(text, hi, -1)
  );
  const quote = text.toString().slice(lo, hi);
  const anchor: Anchor =
    cellId === null
      ? { kind: 'text', start, end }
      : { kind: 'cell_range', cell_id: cellId, start, end };
  return { anchor, quote };
}

/** A whole cell's anchor and quote (its source). */
export function anchorForCell(
  cellId: string,
  source: string
): { anchor: Anchor; quote: string } {
  return { anchor: { kind: 'cell', cell_id: cellId }, quote: source };
}

/** Anchors decoded once: markers resolve every thread on every redraw. */
const decodedAnchors = new WeakMap<
  object,
  { start: Y.RelativePosition | null; end: Y.RelativePosition | null }
>();

/**
 * Where a range anchor is now in `text`: `{from, to}`; null when its text is gone
 * (detached) or it lies in another text; undefined when it is not a range or this
 * document does not hold its items (yet).
 */
export function resolveAnchor(
  anchor: Anchor,
  text: Y.Text
): { from: number; to: number } | null | undefined {
  const doc = text.doc;
  if (anchor.kind === 'cell' || !doc) {
    return undefined;
  }
  const decoded = decodedAnchors.get(anchor) ?? {
    start: decodePosition(anchor.start),
    end: decodePosition(anchor.end)
  };
  decodedAnchors.set(anchor, decoded);
  const { start, end } = decoded;
  if (!start || !end) {
    return undefined;
  }
  let from: Y.AbsolutePosition | null = null;
  let to: Y.AbsolutePosition | null = null;
  try {
    from = Y.createAbsolutePositionFromRelativePosition(start, doc);
    to = Y.createAbsolutePositionFromRelativePosition(end, doc);
  } catch {
    return undefined;
  }
  if (!from || !to) {
    return undefined;
  }
  if (from.type !== text || to.type !== text) {
    return null;
  }
  return from.index < to.index ? { from: from.index, to: to.index } : null;
}

/** The cell a thread belongs to (a whole cell or a range of its source), or null. */
export function threadCell(thread: IThread): string | null {
  return thread.anchor.kind === 'text' ? null : thread.anchor.cell_id;
}

export function filterThreads(
  threads: readonly IThread[],
  filter: IThreadFilter,
  me: string | null
): IThread[] {
  return threads.filter(thread => {
    if (filter.status === 'open' && thread.resolved) {
      return false;
    }
    if (filter.status === 'resolved' && !thread.resolved) {
      return false;
    }
    if (
      filter.mine &&
      thread.author !== me &&
      !thread.comments.some(c => c.author === me)
    ) {
      return false;
    }
    if (
      filter.mentioningMe &&
      (me === null || !thread.comments.some(c => c.mentions.includes(me)))
    ) {
      return false;
    }
    return true;
  });
}

/** A live event applied to a list: it replaces the whole thread, or removes it. */
export function applyCommentEvent(
  threads: readonly IThread[],
  event: ICommentEvent
): IThread[] {
  const index = threads.findIndex(thread => thread.id === event.thread_id);
  if (event.event === 'thread.deleted' || !event.thread) {
    return index < 0 ? threads.slice() : threads.filter((_, i) => i !== index);
  }
  if (index < 0) {
    return [...threads, event.thread];
  }
  const next = threads.slice();
  next[index] = event.thread;
  return next;
}

const EVENTS: readonly string[] = [
  'thread.created',
  'thread.updated',
  'thread.deleted'
];

/** A type-100 frame's JSON, or null when it is not a comment event this knows. */
export function decodeCommentEvent(json: string): ICommentEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const record = value as Record<string, unknown>;
  const { type, event, thread_id: threadId, thread } = record;
  if (
    type !== 'comments' ||
    typeof event !== 'string' ||
    !EVENTS.includes(event) ||
    typeof threadId !== 'string'
  ) {
    return null;
  }
  const isThread =
    typeof thread === 'object' &&
    thread !== null &&
    (thread as { id?: unknown }).id === threadId &&
    Array.isArray((thread as { comments?: unknown }).comments);
  return {
    event: event as CommentEventKind,
    thread_id: threadId,
    thread: isThread ? (thread as IThread) : null
  };
}

/** Start threads and reply: commenters, editors and owners. */
export function canComment(role: string | null): boolean {
  return permissions(role).comment;
}

/** Resolve / reopen: editors and owners, and the thread's author while commenter. */
export function canResolve(
  thread: IThread,
  role: string | null,
  me: string | null
): boolean {
  if (permissions(role).write) {
    return true;
  }
  return canComment(role) && thread.author === me;
}

/** Edit a comment: only its author, while they may comment. */
export function canEditComment(
  comment: IThreadComment,
  role: string | null,
  me: string | null
): boolean {
  return canComment(role) && comment.author === me;
}

/** Delete a comment: its author (while they may comment), or an owner. */
export function canDeleteComment(
  comment: IThreadComment,
  role: string | null,
  me: string | null
): boolean {
  if (role === 'owner') {
    return true;
  }
  return canEditComment(comment, role, me);
}

/** A short, one-line form of a quote for lists. */
export function shortQuote(quote: string, max = 120): string {
  const line = quote.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Accept: editors and owners, while the suggestion is pending and still applies. */
export function canAcceptSuggestion(
  thread: IThread,
  role: string | null
): boolean {
  const suggestion = thread.suggestion;
  return (
    !!suggestion &&
    suggestion.status === 'pending' &&
    suggestion.applies &&
    permissions(role).write
  );
}

/** Reject: editors and owners, while the suggestion is pending. */
export function canRejectSuggestion(
  thread: IThread,
  role: string | null
): boolean {
  return thread.suggestion?.status === 'pending' && permissions(role).write;
}

/** Withdraw (a reject by the suggester): the thread's author, while pending. */
export function canWithdrawSuggestion(
  thread: IThread,
  role: string | null,
  me: string | null
): boolean {
  return (
    thread.suggestion?.status === 'pending' &&
    me !== null &&
    thread.author === me &&
    canComment(role)
  );
}

/** A suggestion's status in words; a suggester's own reject is "withdrawn". */
export function suggestionStatus(
  suggestion: ISuggestion,
  nameOf: (username: string) => string = name => name,
  suggester: string | null = null
): string {
  if (suggestion.status === 'pending') {
    return suggestion.applies
      ? 'pending'
      : `pending: does not apply (${suggestion.why ?? 'its text changed'})`;
  }
  const by = suggestion.decided_by;
  if (suggestion.status === 'rejected' && by !== null && by === suggester) {
    return 'withdrawn';
  }
  return by ? `${suggestion.status} by ${nameOf(by)}` : suggestion.status;
}

/** The `@word` being typed just before `caret`, or null when there is none. */
export function mentionAt(
  text: string,
  caret: number
): { from: number; query: string } | null {
  const match = /(^|[^\w@.])@([\w.-]*)$/.exec(text.slice(0, caret));
  if (!match) {
    return null;
  }
  return { from: caret - match[2].length - 1, query: match[2] };
}

/** The text with the `@word` before `caret` replaced by `@username `. */
export function completeMention(
  text: string,
  caret: number,
  username: string
): { text: string; caret: number } {
  const at = mentionAt(text, caret);
  if (!at) {
    return { text, caret };
  }
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return {
    text: text.slice(0, at.from) + inserted + rest,
    caret: at.from + inserted.length
  };
}

function names(usernames: readonly string[]): string {
  const tagged = usernames.map(name => `@${name}`);
  return tagged.length > 1
    ? `${tagged.slice(0, -1).join(', ')} and ${tagged[tagged.length - 1]}`
    : tagged[0];
}

/** What to tell the commenter about mentions nobody was told of; null when none. */
export function notificationNotice(
  notifications: INotifications | undefined
): string | null {
  if (!notifications) {
    return null;
  }
  const parts: string[] = [];
  if (notifications.cannot_read.length > 0) {
    parts.push(
      `${names(notifications.cannot_read)} cannot read this document.`
    );
  }
  if (notifications.unknown.length > 0) {
    parts.push(`No one is called ${names(notifications.unknown)}.`);
  }
  return parts.length > 0 ? parts.join(' ') : null;
}

/**
 * A pending suggestion checked against the text its anchor holds here now (`current`:
 * null when it is gone, undefined when not known here): the server computes `applies`
 * only when it answers, while edits arrive live.
 */
export function currentSuggestion(
  suggestion: ISuggestion,
  current: string | null | undefined
): ISuggestion {
  if (suggestion.status !== 'pending' || current === undefined) {
    return suggestion;
  }
  if (current === null) {
    return {
      ...suggestion,
      applies: false,
      why: 'the text it replaces is gone'
    };
  }
  if (current !== suggestion.original) {
    return {
      ...suggestion,
      applies: false,
      why: 'the text it replaces changed since the suggestion was made'
    };
  }
  return { ...suggestion, applies: true, why: null };
}
