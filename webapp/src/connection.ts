/**
 * The room connection's state, as the page shows it, and what each WebSocket close code
 * means (docs/protocol.md, "Close codes").
 */

export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "connected"; readOnly: boolean }
  | { kind: "reconnecting"; code: number | null; reason: string }
  | { kind: "access-changed" }
  | { kind: "deleted" }
  | { kind: "not-found" }
  | { kind: "signed-out" }
  | { kind: "closed" };

/** What to do after the server closed the socket with `code`. */
export type CloseAction =
  /** A transient failure: let the client reconnect with backoff. */
  | { action: "retry"; reason: string }
  /** 4403: access changed: re-read the role, then reconnect. */
  | { action: "reauthorize" }
  /** Retrying cannot help. */
  | { action: "stop"; state: "deleted" | "not-found" | "signed-out" };

export const CLOSE = {
  NOT_AUTHENTICATED: 4401,
  ACCESS_CHANGED: 4403,
  NOT_FOUND: 4404,
  DELETED: 4410,
  TOO_LARGE: 4413,
  RATE_LIMITED: 4429,
  LOAD_FAILED: 4500,
} as const;

export function closeAction(code: number | null | undefined): CloseAction {
  switch (code) {
    case CLOSE.NOT_AUTHENTICATED:
      return { action: "stop", state: "signed-out" };
    case CLOSE.ACCESS_CHANGED:
      return { action: "reauthorize" };
    case CLOSE.NOT_FOUND:
      return { action: "stop", state: "not-found" };
    case CLOSE.DELETED:
      return { action: "stop", state: "deleted" };
    case CLOSE.TOO_LARGE:
      return { action: "retry", reason: "A change was too large for the server." };
    case CLOSE.RATE_LIMITED:
      return { action: "retry", reason: "The server is busy saving changes." };
    case CLOSE.LOAD_FAILED:
      return { action: "retry", reason: "The server could not load the document." };
    case 1001:
      return { action: "retry", reason: "The server is restarting." };
    case 1002:
    case 1003:
      return { action: "retry", reason: "The server refused a message." };
    default:
      return { action: "retry", reason: "The connection was lost." };
  }
}

/** Should the y-websocket client reconnect by itself after this close? */
export function shouldReconnect(code: number): boolean {
  return closeAction(code).action === "retry";
}

/** A short label and a longer explanation for the status indicator. */
export function describeState(state: ConnectionState): { label: string; detail: string; tone: "ok" | "busy" | "warn" | "error" } {
  switch (state.kind) {
    case "connecting":
      return { label: "Connecting…", detail: "Opening the document.", tone: "busy" };
    case "connected":
      return state.readOnly
        ? { label: "Read-only", detail: "Connected. You can read this document live but not edit it.", tone: "warn" }
        : { label: "Connected", detail: "Live: changes are saved and shared as you type.", tone: "ok" };
    case "reconnecting":
      return {
        label: "Reconnecting…",
        detail: `${state.reason} Your changes are kept and sent when the connection is back.`,
        tone: "busy",
      };
    case "access-changed":
      return { label: "Access changed", detail: "Your access to this document changed; reconnecting with your new role.", tone: "busy" };
    case "deleted":
      return { label: "Deleted", detail: "This document was deleted.", tone: "error" };
    case "not-found":
      return { label: "Not available", detail: "This document does not exist, or you no longer have access to it.", tone: "error" };
    case "signed-out":
      return { label: "Signed out", detail: "Your sign-in is no longer valid: sign in again.", tone: "error" };
    case "closed":
      return { label: "Closed", detail: "Disconnected.", tone: "warn" };
  }
}
