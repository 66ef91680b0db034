/**
 * Comment threads on the page (docs/comments.md): the server's model, anchors made and
 * resolved with Yjs relative positions, the list's filters and live events.
 */

import * as Y from "yjs";

import type { Role } from "../api";
import type { MentionNotifications } from "./mentions";

export type Anchor =
  | { kind: "text"; start: string; end: string }
  | { kind: "cell"; cell_id: string }
  | { kind: "cell_range"; cell_id: string; start: string; end: string };

export interface ThreadComment {
  id: string;
  thread_id: string;
  author: string;
  /** The author's display name from the server's directory (the username without one). */
  author_name?: string | null;
  body: string;
  mentions: string[];
  created: string;
  edited: string | null;
}

/** A thread's proposed change (docs/comments.md, "Suggestions"). */
export interface Suggestion {
  text: string;
  original: string;
  status: "pending" | "accepted" | "rejected";
  decided_by: string | null;
  decided_by_name?: string | null;
  decided_at: string | null;
  /** Computed by the server on every read against the live document. */
  applies: boolean;
  why: string | null;
}

export interface Thread {
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
  position: { attached: boolean; start: number | null; end: number | null; cell_index: number | null };
  comments: ThreadComment[];
  /** Only on threads that carry a suggestion. */
  suggestion?: Suggestion | null;
  /** Only in the answers to the writes that parse mentions (docs/comments.md). */
  notifications?: MentionNotifications;
}

export type CommentEventKind = "thread.created" | "thread.updated" | "thread.deleted";

export interface CommentEvent {
  event: CommentEventKind;
  thread_id: string;
  thread: Thread | null;
}

export interface ThreadFilter {
  status: "open" | "resolved" | "all";
  mine: boolean;
  mentioningMe: boolean;
}

/** A relative position as docs/comments.md stores it: its lib0 encoding in base64. */
export function encodePosition(position: Y.RelativePosition): string {
  let binary = "";
  for (const byte of Y.encodeRelativePosition(position)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function decodePosition(encoded: string): Y.RelativePosition | null {
  try {
    const binary = atob(encoded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return Y.decodeRelativePosition(bytes);
  } catch {
    return null;
  }
}

/**
 * The anchor of a selection `from`..`to` in `text` (a text document's `source`, or the
 * source of the cell `cellId`): the start sticks to the right, the end to the left, so
 * text typed at either edge stays outside the range.
 */
export function anchorFromSelection(text: Y.Text, from: number, to: number, cellId: string | null): { anchor: Anchor; quote: string } {
  const start = encodePosition(Y.createRelativePositionFromTypeIndex(text, from));
  const end = encodePosition(Y.createRelativePositionFromTypeIndex(text, to, -1));
  const quote = text.toString().slice(from, to);
  const anchor: Anchor = cellId === null ? { kind: "text", start, end } : { kind: "cell_range", cell_id: cellId, start, end };
  return { anchor, quote };
}

/**
 * Where a range anchor is now in `text`: `{from, to}`; null when its text is gone (the
 * thread is detached) or it lies in another text; undefined when this document does
 * not hold its items yet (not synced) or it is not a range.
 */
export function resolveAnchor(doc: Y.Doc, anchor: Anchor, text: Y.Text): { from: number; to: number } | null | undefined {
  if (anchor.kind === "cell") return undefined;
  const start = decodePosition(anchor.start);
  const end = decodePosition(anchor.end);
  if (!start || !end) return undefined;
  const from = Y.createAbsolutePositionFromRelativePosition(start, doc);
  const to = Y.createAbsolutePositionFromRelativePosition(end, doc);
  if (!from || !to) return undefined;
  if (from.type !== text || to.type !== text) return null;
  return from.index < to.index ? { from: from.index, to: to.index } : null;
}

/** The cell a thread belongs to (a whole cell or a range of its source), or null. */
export function threadCell(thread: Thread): string | null {
  return thread.anchor.kind === "text" ? null : thread.anchor.cell_id;
}

export function filterThreads(threads: readonly Thread[], filter: ThreadFilter, me: string): Thread[] {
  return threads.filter((thread) => {
    if (filter.status === "open" && thread.resolved) return false;
    if (filter.status === "resolved" && !thread.resolved) return false;
    if (filter.mine && thread.author !== me && !thread.comments.some((c) => c.author === me)) return false;
    if (filter.mentioningMe && !thread.comments.some((c) => c.mentions.includes(me))) return false;
    return true;
  });
}

/** A live event applied to the list: it replaces the whole thread (docs/comments.md). */
export function applyCommentEvent(threads: readonly Thread[], event: CommentEvent): Thread[] {
  const rest = threads.filter((thread) => thread.id !== event.thread_id);
  if (event.event === "thread.deleted" || !event.thread) return rest;
  const index = threads.findIndex((thread) => thread.id === event.thread_id);
  if (index < 0) return [...rest, event.thread];
  const next = threads.slice();
  next[index] = event.thread;
  return next;
}

const EVENTS: readonly string[] = ["thread.created", "thread.updated", "thread.deleted"];

/** A type-100 frame's JSON, or null when it is not a comment event this page knows. */
export function decodeCommentEvent(json: string): CommentEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { type, event, thread_id: threadId, thread } = value as Record<string, unknown>;
  if (type !== "comments" || typeof event !== "string" || !EVENTS.includes(event) || typeof threadId !== "string") return null;
  const isThread = typeof thread === "object" && thread !== null && (thread as { id?: unknown }).id === threadId;
  return { event: event as CommentEventKind, thread_id: threadId, thread: isThread ? (thread as Thread) : null };
}

export function canComment(role: Role): boolean {
  return role !== "viewer";
}

/** Resolve / reopen: the thread's author (who may comment), editors and owners. */
export function canResolve(thread: Thread, role: Role, me: string): boolean {
  if (role === "editor" || role === "owner") return true;
  return role === "commenter" && thread.author === me;
}

/** Delete a comment: its author (who may comment), or an owner. */
export function canDelete(comment: ThreadComment, role: Role, me: string): boolean {
  if (role === "owner") return true;
  return canComment(role) && comment.author === me;
}

/** A username's display name as the threads' data gives it, if any does. */
export function nameInThreads(threads: readonly Thread[], username: string): string | null {
  for (const thread of threads) {
    if (thread.author === username && thread.author_name) return thread.author_name;
    if (thread.resolved_by === username && thread.resolved_by_name) return thread.resolved_by_name;
    const decider = thread.suggestion;
    if (decider?.decided_by === username && decider.decided_by_name) return decider.decided_by_name;
    for (const comment of thread.comments) {
      if (comment.author === username && comment.author_name) return comment.author_name;
    }
  }
  return null;
}
