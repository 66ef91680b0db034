/** A document's live room: a Y.Doc synced over y-websocket, with the page's states. */

import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

import type { Me } from "./api";
import { closeAction, type ConnectionState, shouldReconnect } from "./connection";
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
}

export class Room {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  private state: ConnectionState = { kind: "connecting" };
  private listeners = new Set<(state: ConnectionState) => void>();
  private everConnected = false;
  private readOnly: boolean;
  private destroyed = false;

  constructor(options: RoomOptions) {
    this.readOnly = options.readOnly;
    this.provider = new WebsocketProvider(options.roomsUrl, options.docId, this.doc, {
      params: roomParams(options.auth, options.link),
      // Tabs of one browser sync through the server, never around it (roles differ).
      disableBc: true,
      shouldReconnect: (event: CloseEvent) => shouldReconnect(event.code),
    });
    const { me } = options;
    // The server overwrites this with the authenticated identity; set it for symmetry.
    this.provider.awareness.setLocalStateField("user", {
      name: me.username,
      display_name: me.display_name,
      initials: me.initials,
      color: me.color,
    });
    this.provider.on("sync", (synced: boolean) => {
      if (synced) {
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

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  destroy(): void {
    this.destroyed = true;
    this.listeners.clear();
    this.provider.awareness.setLocalState(null);
    this.provider.destroy();
    this.doc.destroy();
  }
}
