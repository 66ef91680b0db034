/**
 * What JupyterLab says when its requests to the server fail (a restart, a network
 * cut): a notice that stays out of the way, not JupyterLab's "Server Connection Error"
 * modal, which came back every few seconds during a restart and blocked the editor.
 * Shared documents show their own "Reconnecting…" state and keep every edit meanwhile.
 */

import {
  IConnectionLost,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';

/** The notice, as the user reads it. */
export const CONNECTION_LOST_MESSAGE =
  'The server cannot be reached. JupyterLab keeps trying; shared documents keep your ' +
  'edits and send them when the server is back.';

/** Shows at most one notice at a time, however often requests fail. */
export function connectionLostNotifier(
  notifications: Pick<typeof Notification, 'warning' | 'manager'>,
  hubHome: string | null
): IConnectionLost {
  let shown: string | null = null;
  return async () => {
    if (shown !== null && notifications.manager.has(shown)) {
      return;
    }
    shown = notifications.warning(CONNECTION_LOST_MESSAGE, {
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
  };
}

/** Replaces JupyterLab's connection-lost dialog with a notice. */
export const connectionLost: JupyterFrontEndPlugin<IConnectionLost> = {
  id: 'jupyter-collab-docs:connection-lost',
  description:
    'Says the server is unreachable with a notice instead of a blocking dialog.',
  autoStart: true,
  provides: IConnectionLost,
  activate: (_app: JupyterFrontEnd): IConnectionLost => {
    const hubPrefix = PageConfig.getOption('hubPrefix');
    const hubHome = hubPrefix
      ? PageConfig.getOption('hubHost') + URLExt.join(hubPrefix, 'home')
      : null;
    return connectionLostNotifier(Notification, hubHome);
  }
};
