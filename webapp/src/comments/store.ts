/**
 * A document's comment threads on the page: the list (read after every connect, then
 * kept by live events), what the next comment would be anchored to (the last selection
 * in an editor, or a cell), which thread is open, and the writes.
 */

import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import { ApiError, type Me, type Role } from "../api";
import type { CommentsClient } from "./client";
import { type Anchor, anchorFromSelection, applyCommentEvent, type CommentEvent, nameInThreads, resolveAnchor, type Thread } from "./model";

/** How often document edits redraw the panel and badges (detached threads). */
const DOC_REDRAW_MS = 500;

/** What a new thread would be anchored to. */
export type CommentTarget =
  | { kind: "range"; text: Y.Text; cellId: string | null; from: number; to: number }
  | { kind: "cell"; cellId: string };

export class CommentsStore {
  threads: Thread[] = [];
  target: CommentTarget | null = null;
  activeId: string | null = null;
  loaded = false;
  /** Suggest mode: a selection is offered "Suggest a change" (always on for commenters). */
  suggesting: boolean;
  private listeners = new Set<() => void>();
  private threadListeners = new Set<() => void>();
  private openListeners = new Set<(thread: Thread) => void>();
  private docTimer: ReturnType<typeof setTimeout> | null = null;
  /** Each Y.Text's string since the last document update (suggestions compare with it). */
  private texts = new Map<Y.Text, string>();
  /** Events seen by each list read in flight. */
  private refreshing: CommentEvent[][] = [];

  constructor(
    readonly client: CommentsClient,
    readonly doc: Y.Doc,
    readonly me: Me,
    public role: Role,
    private readonly awareness: Awareness | null,
  ) {
    this.suggesting = role === "commenter";
    // Edits detach anchors: the panel and badges look again, at most every DOC_REDRAW_MS
    // while someone types (markers follow their own editor's changes at once).
    doc.on("update", this.onDocUpdate);
  }

  private readonly onDocUpdate = (): void => {
    this.texts.clear();
    if (this.docTimer !== null) return;
    this.docTimer = setTimeout(() => {
      this.docTimer = null;
      for (const listener of [...this.listeners]) listener();
    }, DOC_REDRAW_MS);
  };

  /** Any change: threads, the target, the open thread, or the document (throttled). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes of the threads or the open thread only (what markers show). */
  onThreads(listener: () => void): () => void {
    this.threadListeners.add(listener);
    return () => this.threadListeners.delete(listener);
  }

  /** Called when a thread is opened (a marker or badge clicked). */
  onOpen(listener: (thread: Thread) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  private emit(threads = true): void {
    if (threads) for (const listener of [...this.threadListeners]) listener();
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Reads the list. Events that arrive while it is read are applied again on top of it:
   * the list may have been read before their change (a thread created meanwhile would
   * vanish until its next event); one read after it is corrected by the later events.
   */
  async refresh(): Promise<void> {
    const during: CommentEvent[] = [];
    this.refreshing.push(during);
    try {
      let threads = await this.client.list();
      for (const event of during) threads = applyCommentEvent(threads, event);
      this.threads = threads;
    } finally {
      this.refreshing.splice(this.refreshing.indexOf(during), 1);
    }
    this.loaded = true;
    this.emit();
  }

  apply(event: CommentEvent): void {
    for (const during of this.refreshing) during.push(event);
    this.threads = applyCommentEvent(this.threads, event);
    if (event.event === "thread.deleted" && this.activeId === event.thread_id) this.activeId = null;
    this.emit();
  }

  private replace(thread: Thread): void {
    this.apply({ event: "thread.updated", thread_id: thread.id, thread });
  }

  thread(id: string): Thread | undefined {
    return this.threads.find((thread) => thread.id === id);
  }

  open(id: string): void {
    const thread = this.thread(id);
    if (!thread) return;
    this.activeId = id;
    this.emit();
    for (const listener of [...this.openListeners]) listener(thread);
  }

  setTarget(target: CommentTarget | null): void {
    const same =
      target === this.target ||
      (target?.kind === "range" && this.target?.kind === "range" && target.text === this.target.text && target.from === this.target.from && target.to === this.target.to);
    if (same) return;
    this.target = target;
    this.emit(false);
  }

  /** A selection collapsed in `text`: a range there is no longer the target. */
  clearTargetIn(text: Y.Text): void {
    if (this.target?.kind === "range" && this.target.text === text) this.setTarget(null);
  }

  /** The target as the server takes it, with the text it quotes. */
  targetAnchor(): { anchor: Anchor; quote: string } | null {
    const target = this.target;
    if (!target) return null;
    if (target.kind === "cell") {
      const source = this.cellSource(target.cellId);
      return { anchor: { kind: "cell", cell_id: target.cellId }, quote: source?.toString() ?? "" };
    }
    const length = target.text.length;
    if (target.from >= target.to || target.to > length) return null;
    return anchorFromSelection(target.text, target.from, target.to, target.cellId);
  }

  cellSource(cellId: string): Y.Text | null {
    for (const cell of this.doc.getArray<unknown>("cells").toArray()) {
      if (cell instanceof Y.Map && cell.get("id") === cellId) {
        const source = cell.get("source");
        return source instanceof Y.Text ? source : null;
      }
    }
    return null;
  }

  private cellExists(cellId: string): boolean {
    return this.doc.getArray<unknown>("cells").toArray().some((cell) => cell instanceof Y.Map && cell.get("id") === cellId);
  }

  /** Editors and owners may suggest instead of editing; commenters always do. */
  setSuggesting(on: boolean): void {
    const next = this.role === "commenter" || on;
    if (next === this.suggesting) return;
    this.suggesting = next;
    this.emit(false);
  }

  /**
   * The text a thread's anchor holds now in this page's document (a cell's whole source
   * for a cell thread): null when gone, undefined when the page cannot tell (not synced).
   */
  currentText(thread: Thread): string | null | undefined {
    const anchor = thread.anchor;
    const synced = this.doc.store.clients.size > 0;
    if (anchor.kind === "cell") {
      const source = this.cellSource(anchor.cell_id);
      return source ? this.textOf(source) : synced ? null : undefined;
    }
    const text = anchor.kind === "text" ? this.doc.getText("source") : this.cellSource(anchor.cell_id);
    if (!text) return synced ? null : undefined;
    const where = resolveAnchor(this.doc, anchor, text);
    if (!where) return where;
    return this.textOf(text).slice(where.from, where.to);
  }

  /** `text.toString()`, read once per document update however many threads ask. */
  private textOf(text: Y.Text): string {
    let value = this.texts.get(text);
    if (value === undefined) {
      value = text.toString();
      this.texts.set(text, value);
    }
    return value;
  }

  /** Where a range thread is now in `text`, or null (elsewhere, detached, not synced). */
  rangeIn(thread: Thread, text: Y.Text): { from: number; to: number } | null {
    return resolveAnchor(this.doc, thread.anchor, text) ?? null;
  }

  /** Whether the thread's text (or cell) is gone, as this page's document has it. */
  isDetached(thread: Thread): boolean {
    const anchor = thread.anchor;
    const synced = this.doc.store.clients.size > 0;
    if (anchor.kind === "cell") return synced ? !this.cellExists(anchor.cell_id) : !thread.position.attached;
    const text = anchor.kind === "text" ? this.doc.getText("source") : this.cellSource(anchor.cell_id);
    if (!text) return synced || !thread.position.attached;
    const where = resolveAnchor(this.doc, anchor, text);
    // Positions this document does not hold yet: the server's word.
    if (where === undefined) return !thread.position.attached;
    return where === null;
  }

  /** A username as people know it: the display name of someone present, else as the
   * threads name them, else the username. */
  nameOf(username: string): string {
    if (username === this.me.username) return this.me.display_name || username;
    for (const state of this.awareness?.getStates().values() ?? []) {
      const user = (state as { user?: { name?: unknown; display_name?: unknown } }).user;
      if (user?.name === username && typeof user.display_name === "string" && user.display_name) return user.display_name;
    }
    return nameInThreads(this.threads, username) ?? username;
  }

  /** A thread on the target; with `suggestion`, a suggestion to replace its text by it. */
  async create(body: string, suggestion: string | null = null): Promise<Thread> {
    const made = this.targetAnchor();
    if (!made) throw new Error("Select some text, or a cell, to comment on.");
    const thread = await this.client.create(made.anchor, body, suggestion === null ? null : { text: suggestion });
    this.target = null;
    this.replace(thread);
    this.open(thread.id);
    return thread;
  }

  /** The thread as answered: with `notifications` (who the mentions told). */
  async reply(threadId: string, body: string): Promise<Thread> {
    const thread = await this.client.reply(threadId, body);
    this.replace(thread);
    return thread;
  }

  async edit(threadId: string, commentId: string, body: string): Promise<void> {
    this.replace(await this.client.edit(threadId, commentId, body));
  }

  async removeComment(threadId: string, commentId: string): Promise<void> {
    const thread = await this.client.removeComment(threadId, commentId);
    if (thread) this.replace(thread);
    else this.apply({ event: "thread.deleted", thread_id: threadId, thread: null });
  }

  /**
   * Accepts (or rejects) a suggestion. A 409 (decided meanwhile, or no longer applies)
   * reads the list again, so the thread shows why, and is passed on.
   */
  async decide(threadId: string, accept: boolean): Promise<void> {
    try {
      this.replace(await (accept ? this.client.accept(threadId) : this.client.reject(threadId)));
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409) await this.refresh().catch(() => undefined);
      throw failure;
    }
  }

  async setResolved(threadId: string, resolved: boolean): Promise<void> {
    this.replace(await this.client.setResolved(threadId, resolved));
  }

  destroy(): void {
    this.doc.off("update", this.onDocUpdate);
    if (this.docTimer !== null) clearTimeout(this.docTimer);
    this.listeners.clear();
    this.threadListeners.clear();
    this.openListeners.clear();
  }
}
