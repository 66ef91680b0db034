/**
 * The connection state of an open document, and how room close codes map onto it
 * (docs/protocol.md).
 */

export type ConnectionState =
  | 'connecting'
  | 'connected'
  | 'read-only'
  | 'reconnecting'
  | 'access-changed'
  | 'deleted'
  | 'not-found'
  | 'unauthenticated'
  | 'disposed';

/** Close codes of the room socket. */
export const CLOSE = {
  notAuthenticated: 4401,
  accessChanged: 4403,
  notFound: 4404,
  deleted: 4410,
  tooLarge: 4413,
  rateLimited: 4429,
  loadFailed: 4500
} as const;

/** What to do after the room socket closed with `code`. */
export interface ICloseOutcome {
  state: ConnectionState;
  /** Keep the provider reconnecting (false: stop, a retry cannot succeed). */
  reconnect: boolean;
  /** Fetch the caller's role again once reconnected. */
  refreshRole: boolean;
}

export function closeOutcome(code: number | undefined): ICloseOutcome {
  switch (code) {
    case CLOSE.accessChanged:
      return { state: 'access-changed', reconnect: true, refreshRole: true };
    case CLOSE.deleted:
      return { state: 'deleted', reconnect: false, refreshRole: false };
    case CLOSE.notFound:
      return { state: 'not-found', reconnect: false, refreshRole: false };
    case CLOSE.notAuthenticated:
      return { state: 'unauthenticated', reconnect: false, refreshRole: false };
    default:
      return { state: 'reconnecting', reconnect: true, refreshRole: false };
  }
}

/** The state of a live (synced) connection for a role. */
export function liveState(canWrite: boolean): ConnectionState {
  return canWrite ? 'connected' : 'read-only';
}

/** States after which the document stays closed (no reconnection). */
export function isFinal(state: ConnectionState): boolean {
  return (
    state === 'deleted' ||
    state === 'not-found' ||
    state === 'unauthenticated' ||
    state === 'disposed'
  );
}

/** Whether the editor may accept edits in this state (given the role allows it). */
export function allowsEditing(state: ConnectionState): boolean {
  return state === 'connected' || state === 'reconnecting';
}

/** A short human label for a state. */
export function stateLabel(state: ConnectionState): string {
  switch (state) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'read-only':
      return 'Read-only';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'access-changed':
      return 'Access changed, reconnecting…';
    case 'deleted':
      return 'Deleted';
    case 'not-found':
      return 'Not found';
    case 'unauthenticated':
      return 'Signed out';
    case 'disposed':
      return 'Closed';
  }
}
