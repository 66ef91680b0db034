/** A document's live room: a Y.Doc synced over y-websocket, with the page's states. */

import * as decoding from "lib0/decoding";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

import type { Me } from "./api";
import { closeAction, type ConnectionState, shouldReconnect } from "./connection";
import { browserStore, PendingEdits, pendingKey } from "./pending";
import { type Auth, roomParams } from "./session";

export interface RoomOptions {
  roomsUrl: string;
  docId: string;
  auth: Auth;
  link: string | null;
  readOnly: boolean;
  me: Me;
  /** 4403: access changed. The room is stopped; the page re-reads the role and reopens. */
  onAccessChanged: () => void;
  /** Comment events (docs/comments.md, "Live"): asks for them with `?comments=1`. */
  onCommentEvent?: (json: string) => void;
}

/** The frame type of comment events (a varstring of JSON). */
const COMMENT_FRAME = 100;

/** How long a live, flushed socket must stay up before edits count as sent. */
const SENT_SETTLE_MS = 1000;

export class Room {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  private state: ConnectionState = { kind: "connecting" };
  private listeners = new Set<(state: ConnectionState) => void>();
  private everConnected = false;
  private readOnly: boolean;
  private destroyed = false;
  /** Local edits the server may not have yet, kept in IndexedDB until sent. */
  private readonly pending: PendingEdits;
  private sentCheck: ReturnType<typeof setTimeout> | null = null;

  constructor(options: RoomOptions) {
    this.readOnly = options.readOnly;
    this.provider = new WebsocketProvider(options.roomsUrl, options.docId, this.doc, {
      params: { ...roomParams(options.auth, options.link), ...(options.onCommentEvent ? { comments: "1" } : {}) },
      // Tabs of one browser sync through the server, never around it (roles differ).
      disableBc: true,
      shouldReconnect: (event: CloseEvent) => shouldReconnect(event.code),
    });
    const { onCommentEvent } = options;
    if (onCommentEvent) {
      this.provider.messageHandlers[COMMENT_FRAME] = (_encoder, decoder) => onCommentEvent(decoding.readVarString(decoder));
    }
    const { me } = options;
    // The server overwrites this with the authenticated identity; set it for symmetry.
    this.provider.awareness.setLocalStateField("user", {
      name: me.username,
      display_name: me.display_name,
      initials: me.initials,
      color: me.color,
    });
    this.pending = new PendingEdits(this.doc, browserStore(), pendingKey(options.roomsUrl, me.username, options.docId), this.provider);
    this.doc.on("update", (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider) this.scheduleSentCheck();
    });
    window.addEventListener("beforeunload", this.onBeforeUnload);
    this.provider.on("sync", (synced: boolean) => {
      if (synced) {
        // Edits an earlier page could not send: now that the server's state is here,
        // they apply on top of it and go out like any local edit.
        if (!this.everConnected && !this.readOnly) void this.pending.restore();
        this.scheduleSentCheck();
        this.everConnected = true;
        this.setState({ kind: "connected", readOnly: this.readOnly });
      }
    });
    this.provider.on("status", ({ status }: { status: string }) => {
      if (status === "connecting" && this.state.kind !== "reconnecting") {
        this.setState(this.everConnected ? { kind: "reconnecting", code: null, reason: "The connection was lost." } : { kind: "connecting" });
      }
    });
    this.provider.on("connection-close", (event: CloseEvent | null) => {
      if (this.destroyed || event === null) return;
      const action = closeAction(event.code);
      if (action.action === "retry") {
        this.setState({ kind: "reconnecting", code: event.code, reason: action.reason });
      }
    });
    this.provider.on("closed", ({ code }: { code: number }) => {
      if (this.destroyed) return;
      const action = closeAction(code);
      if (action.action === "reauthorize") {
        this.setState({ kind: "access-changed" });
        options.onAccessChanged();
      } else if (action.action === "stop") {
        this.setState({ kind: action.state });
      }
    });
  }

  get current(): ConnectionState {
    return this.state;
  }

  get awareness() {
    return this.provider.awareness;
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    if (this.state.kind === "connected") this.setState({ kind: "connected", readOnly });
  }

  /** Whether closing the page now would lose edits the server does not have. */
  get hasUnsentEdits(): boolean {
    return this.pending.hasUnsent;
  }

  private onBeforeUnload = (event: BeforeUnloadEvent): void => {
    if (!this.pending.hasUnsent) return;
    // The edits are kept in IndexedDB either way; the browser still asks first.
    event.preventDefault();
    event.returnValue = "";
  };

  /**
   * Edits count as sent once the socket is live and synced and has flushed its buffer,
   * after a short settle (the server's sync reply carries what it lacked).
   */
  private scheduleSentCheck(): void {
    if (this.sentCheck !== null) clearTimeout(this.sentCheck);
    this.sentCheck = setTimeout(() => {
      this.sentCheck = null;
      if (this.destroyed || !this.pending.hasUnsent) return;
      const ws = this.provider.ws;
      if (!this.provider.wsconnected || !this.provider.synced || !ws) return; // the next "sync" checks again
      if (ws.bufferedAmount > 0) this.scheduleSentCheck();
      else this.pending.markSent();
    }, SENT_SETTLE_MS);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  destroy(): void {
    this.destroyed = true;
    this.listeners.clear();
    if (this.sentCheck !== null) clearTimeout(this.sentCheck);
    window.removeEventListener("beforeunload", this.onBeforeUnload);
    // Unsent edits stay in IndexedDB: reopening the document sends them.
    this.pending.destroy();
    this.provider.awareness.setLocalState(null);
    this.provider.destroy();
    this.doc.destroy();
  }
}
