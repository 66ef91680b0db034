/**
 * jupyter-collab-docs for JupyterLab: shared notebooks and text documents, stored in
 * a database and edited live in JupyterLab's own editors.
 */

import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker } from '@jupyterlab/notebook';
import {
  historyIcon,
  LabIcon,
  listIcon,
  usersIcon
} from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import type { Awareness } from 'y-protocols/awareness';

import { ActivityPanel } from './activity';
import { commentsPlugin } from './commentsplugin';
import { CollabDocsClient, IDocumentModel, IMe, canRunCode } from './api';
import type { DocumentConnection } from './connection';
import { remoteCursors } from './cursors';
import { SharedDocumentExtension } from './docwidget';
import { CollabDocsDrive } from './drive';
import { HistoryPanel } from './history';
import { inboxPlugin } from './inbox';
import { installCommandPolicy } from './commandpolicy';
import { connectionLost } from './connectionlost';
import { SharedDocumentsPanel } from './panel';
import { documentPath } from './paths';
import { showShareDialog } from './sharedialog';
import { ICollabDocs } from './tokens';

export { ICollabDocs } from './tokens';

const PLUGIN = 'jupyter-collab-docs';

/** The REST client, the `CollabDocs` drive and who I am. */
const core: JupyterFrontEndPlugin<ICollabDocs> = {
  id: `${PLUGIN}:core`,
  description: 'The CollabDocs contents drive for shared documents.',
  autoStart: true,
  provides: ICollabDocs,
  optional: [IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager | null
  ): ICollabDocs => {
    const client = new CollabDocsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    let me: IMe | null = null;
    const ready = client
      .me()
      .then(value => {
        me = value;
      })
      .catch(error => console.warn('jupyter-collab-docs: who am I?', error));
    const drive = new CollabDocsDrive({ client, ready });
    app.serviceManager.contents.addDrive(drive);
    drive.watchNames(); // renames made elsewhere reach the open tabs
    drive.connectionAdded.connect((_, conn) => {
      void ready.then(() => {
        if (me) {
          // The server writes this field itself; set it so my own state is right too.
          conn.sharedModel.awareness.setLocalStateField('user', {
            name: me.username,
            display_name: me.display_name,
            initials: me.initials,
            color: me.color
          });
        }
      });
    });
    const service: ICollabDocs = {
      client,
      drive,
      ready,
      me: () => me,
      open: (doc: IDocumentModel) => {
        const path = documentPath(doc.id, doc.name, doc.type);
        if (docManager) {
          docManager.openOrReveal(path);
        } else {
          void app.commands.execute('docmanager:open', { path });
        }
      },
      share: (doc: IDocumentModel) => {
        void showShareDialog(client, doc, () => {
          // A share change may change my own role (4403 on my sockets).
          for (const conn of drive.connectionsOf(doc.id)) {
            void conn.refreshRole();
          }
        });
      }
    };
    return service;
  }
};

/** Collaborators' cursors and selections in the editors of shared documents. */
const cursors: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN}:cursors`,
  description: "Shows collaborators' cursors in shared documents.",
  autoStart: true,
  requires: [ICollabDocs, IEditorExtensionRegistry],
  activate: (
    app: JupyterFrontEnd,
    collab: ICollabDocs,
    registry: IEditorExtensionRegistry
  ): void => {
    registry.addExtension({
      name: `${PLUGIN}:remote-cursors`,
      factory: options => {
        const shared = options.model.sharedModel as any;
        const awareness: Awareness | null = shared?.awareness ?? null;
        const ytext = shared?.ysource;
        if (
          !awareness ||
          !ytext ||
          !collab.drive.isCollabAwareness(awareness)
        ) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension(
          remoteCursors({ ytext, awareness })
        );
      }
    });
  }
};

/** Connection state, collaborators, share / history / activity on open documents. */
const documents: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN}:documents`,
  description:
    'Toolbar, read-only mode and connection state of shared documents.',
  autoStart: true,
  requires: [ICollabDocs],
  optional: [INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    collab: ICollabDocs,
    notebooks: INotebookTracker | null
  ): void => {
    const { client } = collab;
    const mayRunCode = (): boolean => canRunCode(collab.me());
    if (notebooks) {
      installCommandPolicy({
        commands: app.commands,
        tracker: notebooks,
        canRunCode: mayRunCode,
        started: app.started
      });
    }
    const docOf = (conn: DocumentConnection): IDocumentModel | null =>
      conn.model;
    // History and Activity open in the right sidebar, not beside the document: a
    // split would narrow the document until its toolbar (status, collaborators, Share)
    // went into the overflow menu. One panel of each kind: the newest replaces it.
    const place = (panel: Widget, ref: Widget, icon: LabIcon): void => {
      panel.title.icon = icon;
      panel.title.caption = `${panel.title.label}: ${ref.title.label}`;
      for (const existing of Array.from(app.shell.widgets('right'))) {
        if (existing.constructor === panel.constructor && existing !== panel) {
          existing.dispose();
        }
      }
      app.shell.add(panel, 'right', { rank: 1000 });
      app.shell.activateById(panel.id);
    };
    const extension = new SharedDocumentExtension(collab.drive, {
      me: () => collab.me()?.username ?? null,
      canRunCode: mayRunCode,
      ready: collab.ready,
      share: conn => {
        const doc = docOf(conn);
        if (doc) {
          collab.share(doc);
        }
      },
      history: (conn, widget) => {
        place(
          new HistoryPanel(client, () => docOf(conn), conn.id),
          widget,
          historyIcon
        );
      },
      activity: (conn, widget) => {
        place(
          new ActivityPanel(client, conn.id, conn.model?.name ?? conn.id),
          widget,
          listIcon
        );
      }
    });
    app.docRegistry.addWidgetExtension('Notebook', extension);
    app.docRegistry.addWidgetExtension('Editor', extension);
  }
};

/** The "Shared documents" sidebar. */
const panel: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN}:panel`,
  description: 'The Shared documents sidebar.',
  autoStart: true,
  requires: [ICollabDocs],
  optional: [ILabShell],
  activate: (
    app: JupyterFrontEnd,
    collab: ICollabDocs,
    labShell: ILabShell | null
  ): void => {
    const sidebar = new SharedDocumentsPanel(collab.client, {
      me: () => collab.me()?.username ?? null,
      open: doc => collab.open(doc),
      share: doc => collab.share(doc),
      refreshed: (before, after) => {
        for (const doc of after) {
          const old = before.get(doc.id);
          if (old && old.name !== doc.name) {
            collab.drive.notifyRenamed(old, doc);
          }
        }
      }
    });
    sidebar.title.icon = usersIcon;
    app.shell.add(sidebar, 'left', { rank: 150 });
    app.commands.addCommand(`${PLUGIN}:open-panel`, {
      label: 'Shared Documents',
      execute: () => app.shell.activateById(sidebar.id)
    });
    void collab.ready.then(() => sidebar.refresh());
  }
};

export default [
  core,
  cursors,
  documents,
  panel,
  connectionLost,
  commentsPlugin,
  inboxPlugin
];
