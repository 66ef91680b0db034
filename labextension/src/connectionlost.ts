/**
 * What JupyterLab says when the server cannot be reached (a restart, a network cut): a
 * notice that stays out of the way, not JupyterLab's "Server Connection Error" modal,
 * which came back every few seconds during a restart and blocked the editor. Shared
 * documents show their own "Reconnecting…" state and keep every edit meanwhile.
 *
 * Two things show the notice:
 * - JupyterLab's own `IConnectionLost` calls, which come only from its session and
 *   terminal polls. Those back off (10 s, then up to 3 times longer per failure, to
 *   5 min) and, for a collab-docs user confined by the standalone server, fail with
 *   403 from the page's start, so minutes may pass before one meets the dead server.
 * - Our own watch: when a shared document's room socket drops, it asks the server's
 *   liveness probe (`api/collab-docs/live`) at once and every few seconds until the
 *   sockets are back; a failed request shows the notice, an answer takes it away.
 */

import {
  IConnectionLost,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';

import type { ConnectionState } from './states';
import { ICollabDocs } from './tokens';

/** The notice, as the user reads it. */
export const CONNECTION_LOST_MESSAGE =
  'The server cannot be reached. JupyterLab keeps trying; shared documents keep your ' +
  'edits and send them when the server is back.';

/** How often the watch asks the server while a room socket is down. */
export const PROBE_INTERVAL_MS = 3000;

/** How long a probe may wait for an answer (a cut network drops, not refuses). */
export const PROBE_TIMEOUT_MS = 10000;

type Notifications = Pick<
  typeof Notification,
  'warning' | 'dismiss' | 'manager'
>;

/** JupyterLab's command that opens its notification centre (the bell). */
export const SHOW_NOTIFICATIONS = 'apputils:display-notifications';

/**
 * The one connection-lost notice: shown at most once at a time. `reveal` opens where it
 * is read before it is added: JupyterLab loads its toasts' code from the server on the
 * first toast, so with the server gone a toast may never show; the notification
 * centre needs nothing from the server (and shows no toast on top while open).
 */
export class ConnectionLostNotice {
  constructor(
    notifications: Notifications,
    hubHome: string | null,
    reveal: () => void = () => undefined
  ) {
    this._notifications = notifications;
    this._hubHome = hubHome;
    this._reveal = reveal;
  }

  /** Whether the notice is up now (the user may have dismissed it). */
  get isShown(): boolean {
    return this._id !== null && this._notifications.manager.has(this._id);
  }

  show(): void {
    if (this.isShown) {
      return;
    }
    const hubHome = this._hubHome;
    this._reveal();
    this._id = this._notifications.warning(CONNECTION_LOST_MESSAGE, {
      autoClose: false,
      actions: hubHome
        ? [
            {
              label: 'Hub control panel',
              callback: () => window.open(hubHome, '_blank')
            }
          ]
        : []
    });
  }

  /** The server answers again: the notice no longer holds. */
  hide(): void {
    if (this.isShown) {
      this._notifications.dismiss(this._id!);
    }
    this._id = null;
  }

  private _notifications: Notifications;
  private _hubHome: string | null;
  private _reveal: () => void;
  private _id: string | null = null;
}

/** JupyterLab's handler for its failed requests: shows the notice. */
export function connectionLostNotifier(
  notice: ConnectionLostNotice
): IConnectionLost {
  return async () => notice.show();
}

/** What the watch needs of a shared document's connection (connection.ts). */
export interface IWatchedConnection {
  readonly state: ConnectionState;
  readonly stateChanged: ISignal<any, ConnectionState>;
  readonly isDisposed: boolean;
}

/**
 * Asks the server whether it is there while a room socket is reconnecting, and says
 * what it found: `onLost` once when a probe fails, `onBack` once when the server
 * answers again or every socket is back.
 */
export class ServerWatch implements IDisposable {
  constructor(options: ServerWatch.IOptions) {
    this._probe = options.probe;
    this._onLost = options.onLost;
    this._onBack = options.onBack;
    this._interval = options.interval ?? PROBE_INTERVAL_MS;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Whether the last probe failed (and no answer or reconnection came since). */
  get isLost(): boolean {
    return this._lost;
  }

  /** Watch a connection's state from now on. */
  track(connection: IWatchedConnection): void {
    this._connections.add(connection);
    connection.stateChanged.connect(this._onState, this);
    if (connection.state === 'reconnecting') {
      this._start();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const connection of this._connections) {
      connection.stateChanged.disconnect(this._onState, this);
    }
    this._connections.clear();
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _onState(
    connection: IWatchedConnection,
    state: ConnectionState
  ): void {
    if (state === 'disposed') {
      connection.stateChanged.disconnect(this._onState, this);
      this._connections.delete(connection);
    }
    if (state === 'reconnecting') {
      this._start();
    }
  }

  private _anyReconnecting(): boolean {
    for (const connection of this._connections) {
      if (connection.isDisposed) {
        this._connections.delete(connection);
      } else if (connection.state === 'reconnecting') {
        return true;
      }
    }
    return false;
  }

  /** Probe now, unless a probe is running or already scheduled. */
  private _start(): void {
    if (this._isDisposed || this._probing || this._timer !== null) {
      return;
    }
    void this._check();
  }

  private async _check(): Promise<void> {
    this._timer = null;
    if (this._isDisposed) {
      return;
    }
    // Once no socket reconnects (back, or its document closed), a last probe says
    // whether the server is back; then JupyterLab's own polls take over.
    const watching = this._anyReconnecting();
    if (!watching && !this._lost) {
      return;
    }
    this._probing = true;
    let reachable: boolean;
    try {
      reachable = await this._probe();
    } catch {
      reachable = false;
    } finally {
      this._probing = false;
    }
    if (this._isDisposed) {
      return;
    }
    this._setLost(!reachable);
    if (watching) {
      this._timer = setTimeout(() => void this._check(), this._interval);
    }
  }

  private _setLost(lost: boolean): void {
    if (lost === this._lost) {
      return;
    }
    this._lost = lost;
    if (lost) {
      this._onLost();
    } else {
      this._onBack();
    }
  }

  private _probe: () => Promise<boolean>;
  private _onLost: () => void;
  private _onBack: () => void;
  private _interval: number;
  private _connections = new Set<IWatchedConnection>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _probing = false;
  private _lost = false;
  private _isDisposed = false;
}

export namespace ServerWatch {
  export interface IOptions {
    /** Resolves true when the server answered, false when it cannot be reached. */
    probe: () => Promise<boolean>;
    onLost: () => void;
    onBack: () => void;
    /** Between probes while a socket is reconnecting (ms). */
    interval?: number;
  }
}

/**
 * Whether an answer means the server is there: any answer does, except a gateway's
 * (a proxy or JupyterHub answering for a server that is gone, as JupyterLab reads them).
 */
export function serverAnswered(status: number): boolean {
  return ![424, 502, 503, 504].includes(status);
}

/** Asks the server's liveness probe; false on a network error or a timeout. */
export async function probeLive(
  settings: ServerConnection.ISettings,
  timeout = PROBE_TIMEOUT_MS
): Promise<boolean> {
  const url = URLExt.join(settings.baseUrl, 'api/collab-docs/live');
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  try {
    const response = await ServerConnection.makeRequest(
      url,
      { cache: 'no-store', signal: abort.signal },
      settings
    );
    return serverAnswered(response.status);
  } catch {
    return false; // makeRequest throws only when no answer came (NetworkError)
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Replaces JupyterLab's connection-lost dialog with a notice, and shows it as soon as
 * a shared document's socket finds the server gone.
 */
export const connectionLost: JupyterFrontEndPlugin<IConnectionLost> = {
  id: 'jupyter-collab-docs:connection-lost',
  description:
    'Says the server is unreachable with a notice instead of a blocking dialog.',
  autoStart: true,
  provides: IConnectionLost,
  optional: [ICollabDocs],
  activate: (
    app: JupyterFrontEnd,
    collab: ICollabDocs | null
  ): IConnectionLost => {
    const hubPrefix = PageConfig.getOption('hubPrefix');
    const hubHome = hubPrefix
      ? PageConfig.getOption('hubHost') + URLExt.join(hubPrefix, 'home')
      : null;
    const notice = new ConnectionLostNotice(Notification, hubHome, () => {
      // The centre is in the page only while open (a popup above the bell).
      const open = document.querySelector('.jp-Notification-Center') !== null;
      if (!open && app.commands.hasCommand(SHOW_NOTIFICATIONS)) {
        void app.commands.execute(SHOW_NOTIFICATIONS);
      }
    });
    if (collab) {
      const settings = collab.client.serverSettings;
      const watch = new ServerWatch({
        probe: () => probeLive(settings),
        onLost: () => notice.show(),
        onBack: () => notice.hide()
      });
      collab.drive.connectionAdded.connect((_, connection) =>
        watch.track(connection)
      );
    }
    return connectionLostNotifier(notice);
  }
};
