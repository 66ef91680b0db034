/**
 * Comments in JupyterLab (docs/jupyterlab.md, "Comments"): the side panel following the
 * current shared document, highlights of commented ranges in its editors, a badge on
 * commented cells, and the commands (with context menu items) that start a thread on
 * the selection or a cell, and open a thread (`collab-docs:open-thread`, for the inbox).
 */

import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import type { IDocumentWidget } from '@jupyterlab/docregistry';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';
import type * as Y from 'yjs';

import {
  anchorForCell,
  anchorFromSelection,
  canComment,
  IThread,
  namesInThreads,
  resolveAnchor,
  threadCell
} from './comments';
import { CommentsApi } from './commentsapi';
import { commentMarkers } from './commentsmarkers';
import { CommentsPanel, IDraft } from './commentspanel';
import { CommentsStores } from './commentsstore';
import type { DocumentConnection } from './connection';
import { documentPath, isDrivePath, parsePath } from './paths';
import { showShareDialog } from './sharedialog';
import { ICollabDocs } from './tokens';

const PLUGIN = 'jupyter-collab-docs';

export const COMMENT_COMMANDS = {
  add: 'collab-docs:add-comment',
  cell: 'collab-docs:comment-cell',
  suggest: 'collab-docs:suggest-change',
  suggestCell: 'collab-docs:suggest-cell-change',
  panel: 'collab-docs:open-comments',
  openThread: 'collab-docs:open-thread'
};

const commentIcon = new LabIcon({
  name: `${PLUGIN}:comment`,
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm2 5v2h12V8zm0 4v2h8v-2z"/></svg>'
});

const BADGE_CLASS = 'jp-CollabDocs-commentBadge';

/** The CodeMirror view of a JupyterLab editor (a `CodeMirrorEditor`). */
function viewOf(editor: unknown): any {
  return (editor as any)?.editor ?? null;
}

/** Wait for a condition checked every 100 ms, up to `ms`. */
async function until<T>(
  check: () => T | null | undefined,
  ms = 20000
): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      return null;
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

export const commentsPlugin: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN}:comments`,
  description: 'Comment threads on shared notebooks and text documents.',
  autoStart: true,
  requires: [ICollabDocs, IEditorExtensionRegistry],
  optional: [INotebookTracker, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    collab: ICollabDocs,
    registry: IEditorExtensionRegistry,
    notebooks: INotebookTracker | null,
    labShell: ILabShell | null
  ): void => {
    const stores = new CommentsStores(new CommentsApi(collab.client));
    const redraw = new Signal<unknown, void>(stores);
    stores.changed.connect(() => redraw.emit());
    // Display names: who is in the room (awareness), else as the threads name them.
    const names = new Map<string, string>();

    const connOfWidget = (widget: Widget | null): DocumentConnection | null => {
      const context = (widget as IDocumentWidget | null)?.context;
      if (!context || !isDrivePath(context.path)) {
        return null;
      }
      return collab.drive.connectionFor(context.model.sharedModel) ?? null;
    };
    const currentDoc = (): IDocumentWidget | null => {
      const widget = (labShell?.currentWidget ??
        app.shell.currentWidget) as IDocumentWidget | null;
      return connOfWidget(widget) ? widget : null;
    };

    const panel = new CommentsPanel({
      me: () => collab.me()?.username ?? null,
      nameOf: (username: string): string => {
        const me = collab.me();
        if (me && me.username === username) {
          return me.display_name || username;
        }
        const awareness = panel.store?.conn.sharedModel.awareness;
        awareness?.getStates().forEach(state => {
          const user = state?.user;
          if (
            user &&
            typeof user.name === 'string' &&
            typeof user.display_name === 'string'
          ) {
            names.set(user.name, user.display_name);
          }
        });
        return (
          names.get(username) ||
          namesInThreads(panel.store?.threads ?? []).get(username) ||
          username
        );
      },
      attached: (store, thread) => attachedHere(store.conn, thread),
      anchoredText: (store, thread) => anchoredText(store.conn, thread),
      reveal: (store, thread) => reveal(store.conn, thread),
      addComment: () => void app.commands.execute(COMMENT_COMMANDS.add),
      share: store => {
        void collab.client
          .getDocument(store.docId)
          .then(doc => showShareDialog(collab.client, doc))
          .catch(reason =>
            Notification.error(`Cannot share: ${(reason as Error).message}`, {
              autoClose: 5000
            })
          );
      }
    });
    panel.title.icon = commentIcon;
    panel.onActiveChanged = () => redraw.emit();
    app.shell.add(panel, 'right', { rank: 900 });

    const follow = (): void => {
      const widget = currentDoc();
      const conn = connOfWidget(widget);
      if (widget && conn) {
        panel.setStore(stores.storeFor(conn), widget.title.label);
      } else if (panel.store && panel.store.isDisposed) {
        panel.setStore(null, '');
      }
    };
    labShell?.currentChanged.connect(follow);
    collab.drive.connectionAdded.connect(() => requestAnimationFrame(follow));
    stores.changed.connect(() => follow());

    /** The cell shared model of a notebook with the given id. */
    const cellModel = (conn: DocumentConnection, cellId: string): any =>
      ((conn.sharedModel as any).cells ?? []).find(
        (cell: any) => cell.getId?.() === cellId
      ) ?? null;

    const attachedHere = (
      conn: DocumentConnection,
      thread: IThread
    ): boolean | undefined => {
      const anchor = thread.anchor;
      if (anchor.kind === 'cell') {
        return cellModel(conn, anchor.cell_id) !== null;
      }
      let text: Y.Text | undefined;
      if (anchor.kind === 'text') {
        text = (conn.sharedModel as any).ysource;
      } else {
        const cell = cellModel(conn, anchor.cell_id);
        if (!cell) {
          return false;
        }
        text = cell.ysource;
      }
      if (!text) {
        return undefined;
      }
      const range = resolveAnchor(anchor, text);
      return range === undefined ? undefined : range !== null;
    };

    /** The text a thread's anchor holds now (null: gone; undefined: not known here). */
    const anchoredText = (
      conn: DocumentConnection,
      thread: IThread
    ): string | null | undefined => {
      const anchor = thread.anchor;
      if (anchor.kind === 'cell') {
        return cellModel(conn, anchor.cell_id)?.getSource() ?? null;
      }
      const text: Y.Text | undefined =
        anchor.kind === 'text'
          ? (conn.sharedModel as any).ysource
          : cellModel(conn, anchor.cell_id)?.ysource;
      if (!text) {
        return anchor.kind === 'text' ? undefined : null;
      }
      const range = resolveAnchor(anchor, text);
      return range ? text.toString().slice(range.from, range.to) : range;
    };

    /** The document widgets showing a connection. */
    const widgetsOf = (conn: DocumentConnection): IDocumentWidget[] => {
      const found: IDocumentWidget[] = [];
      for (const widget of Array.from(app.shell.widgets('main'))) {
        if (connOfWidget(widget) === conn) {
          found.push(widget as IDocumentWidget);
        }
      }
      return found;
    };

    const reveal = (conn: DocumentConnection, thread: IThread): void => {
      const widget = widgetsOf(conn)[0];
      if (!widget) {
        return;
      }
      app.shell.activateById(widget.id);
      const content = widget.content as any;
      const cellId = threadCell(thread);
      let editor: any = null;
      let text: Y.Text | null = null;
      if (
        cellId !== null &&
        content instanceof Object &&
        'widgets' in content
      ) {
        const index = content.widgets.findIndex(
          (cell: any) => cell.model.sharedModel.getId() === cellId
        );
        if (index < 0) {
          return;
        }
        const cell = content.widgets[index];
        content.activeCellIndex = index;
        void content.scrollToItem?.(index);
        editor = cell.editor;
        text = cell.model.sharedModel.ysource;
      } else if (content?.editor) {
        editor = content.editor;
        text = (conn.sharedModel as any).ysource;
      }
      const view = viewOf(editor);
      if (!view || !text || thread.anchor.kind === 'cell') {
        return;
      }
      const range = resolveAnchor(thread.anchor, text);
      if (range) {
        view.dispatch({
          selection: { anchor: range.from, head: range.to },
          scrollIntoView: true
        });
      }
    };

    const openThread = (conn: DocumentConnection, threadId: string): void => {
      const store = stores.storeFor(conn);
      const widget = widgetsOf(conn)[0];
      panel.setStore(store, widget?.title.label ?? conn.model?.name ?? conn.id);
      app.shell.activateById(panel.id);
      panel.focusThread(threadId);
    };

    // Highlights in every editor of a shared document (cells and text editors).
    registry.addExtension({
      name: `${PLUGIN}:comment-markers`,
      factory: options => {
        const shared = options.model.sharedModel as any;
        const ytext: Y.Text | undefined = shared?.ysource;
        const docModel = shared?.notebook ?? shared;
        const conn = collab.drive.connectionFor(docModel);
        if (!ytext || !conn) {
          return null;
        }
        const store = stores.storeFor(conn);
        return EditorExtensionRegistry.createImmutableExtension(
          commentMarkers(ytext, {
            threads: () => store.threads,
            active: () => panel.activeThread,
            changed: redraw,
            open: id => openThread(conn, id)
          })
        );
      }
    });

    // A badge on each commented cell: how many open threads, a click opens the first.
    const drawBadges = (nbPanel: NotebookPanel): void => {
      const conn = connOfWidget(nbPanel);
      if (!conn || nbPanel.isDisposed) {
        return;
      }
      const store = stores.storeFor(conn);
      for (const cell of nbPanel.content.widgets) {
        const cellId = cell.model.sharedModel.getId();
        const open = store.threads.filter(
          t => !t.resolved && threadCell(t) === cellId
        );
        let badge = cell.node.querySelector<HTMLButtonElement>(
          `:scope > .${BADGE_CLASS}`
        );
        if (open.length === 0) {
          badge?.remove();
          continue;
        }
        if (!badge) {
          badge = document.createElement('button');
          badge.className = BADGE_CLASS;
          badge.addEventListener('click', event => {
            event.stopPropagation();
            const id = (event.currentTarget as HTMLElement).dataset.threadId;
            if (id) {
              openThread(conn, id);
            }
          });
          cell.node.appendChild(badge);
        }
        badge.dataset.threadId = open[0].id;
        badge.textContent = '';
        badge.append(
          commentIcon.element({ tag: 'span', height: '10px', width: '10px' }),
          ` ${open.length}`
        );
        badge.title = `${open.length} open comment thread${open.length > 1 ? 's' : ''}`;
      }
    };
    if (notebooks) {
      const drawAll = (): void => {
        notebooks.forEach(nbPanel => drawBadges(nbPanel));
      };
      stores.changed.connect(drawAll);
      notebooks.widgetAdded.connect((_, nbPanel) => {
        const later = (): void => {
          requestAnimationFrame(() => drawBadges(nbPanel));
        };
        nbPanel.content.model?.cells.changed.connect(later);
        nbPanel.content.modelChanged.connect(later);
        void nbPanel.context.ready.then(later);
      });
    }

    const mayComment = (): boolean => {
      const conn = connOfWidget(currentDoc());
      return conn !== null && canComment(conn.role);
    };

    /** The anchor of what is selected in the current document (or its active cell). */
    const selectionDraft = (wholeCell: boolean): IDraft | null => {
      const widget = currentDoc();
      if (!widget) {
        return null;
      }
      const content = widget.content as any;
      if (content && 'activeCell' in content) {
        const cell = content.activeCell;
        if (!cell) {
          return null;
        }
        const shared = cell.model.sharedModel;
        const cellId: string = shared.getId();
        const selection = viewOf(cell.editor)?.state.selection.main;
        if (wholeCell || !selection || selection.empty) {
          return anchorForCell(cellId, shared.getSource());
        }
        return anchorFromSelection(
          shared.ysource,
          selection.from,
          selection.to,
          cellId
        );
      }
      const selection = viewOf(content?.editor)?.state.selection.main;
      const ytext = (widget.context.model.sharedModel as any).ysource;
      if (!selection || selection.empty || !ytext) {
        Notification.warning('Select some text to comment on.', {
          autoClose: 4000
        });
        return null;
      }
      return anchorFromSelection(ytext, selection.from, selection.to, null);
    };

    const startDraft = (wholeCell: boolean, suggest = false): void => {
      follow();
      const draft = selectionDraft(wholeCell);
      if (!draft) {
        return;
      }
      app.shell.activateById(panel.id);
      panel.startDraft({ ...draft, suggest });
    };

    app.commands.addCommand(COMMENT_COMMANDS.add, {
      label: 'Add Comment',
      caption: 'Comment on the selected text (or the active cell)',
      icon: commentIcon,
      isEnabled: mayComment,
      execute: () => startDraft(false)
    });
    app.commands.addCommand(COMMENT_COMMANDS.cell, {
      label: 'Comment on Cell',
      caption: 'Comment on the whole active cell',
      icon: commentIcon,
      isEnabled: () =>
        mayComment() && notebooks?.currentWidget === currentDoc(),
      execute: () => startDraft(true)
    });
    // Commenters cannot edit: they suggest. Editors may choose to suggest too.
    app.commands.addCommand(COMMENT_COMMANDS.suggest, {
      label: 'Suggest a Change',
      caption: 'Propose new text for the selection (or the active cell)',
      icon: commentIcon,
      isEnabled: mayComment,
      execute: () => startDraft(false, true)
    });
    app.commands.addCommand(COMMENT_COMMANDS.suggestCell, {
      label: 'Suggest a Change to Cell',
      caption: 'Propose a new source for the whole active cell',
      icon: commentIcon,
      isEnabled: () =>
        mayComment() && notebooks?.currentWidget === currentDoc(),
      execute: () => startDraft(true, true)
    });
    app.commands.addCommand(COMMENT_COMMANDS.panel, {
      label: 'Show Comments',
      icon: commentIcon,
      execute: () => {
        follow();
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(COMMENT_COMMANDS.openThread, {
      label: 'Open Comment Thread',
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: { type: 'string' },
            docId: { type: 'string' },
            threadId: { type: 'string' }
          },
          required: ['threadId']
        }
      },
      execute: async (args: ReadonlyPartialJSONObject) => {
        const threadId = String(args.threadId ?? '');
        let path = typeof args.path === 'string' ? args.path : '';
        const docId =
          typeof args.docId === 'string' ? args.docId : parsePath(path).id;
        if (!docId || !threadId) {
          throw new Error('open-thread needs a threadId and a path or docId');
        }
        if (!path || !parsePath(path).fileName) {
          const doc = await collab.client.getDocument(docId);
          path = documentPath(doc.id, doc.name, doc.type);
        }
        await app.commands.execute('docmanager:open', { path });
        const conn = await until(() =>
          collab.drive.connectionsOf(docId).find(c => widgetsOf(c).length > 0)
        );
        if (!conn) {
          return;
        }
        await conn.synced;
        const store = stores.storeFor(conn);
        const ready = await until(
          () => (store.thread(threadId) ? store : null),
          10000
        );
        openThread(conn, threadId);
        const thread = ready?.thread(threadId);
        if (thread) {
          reveal(conn, thread);
          app.shell.activateById(panel.id);
        }
      }
    });

    const docSelector = '.jp-CollabDocs-document';
    // One selector per item: Lumino's context menu takes no selector lists.
    for (const selector of ['.jp-FileEditor', '.jp-Cell']) {
      app.contextMenu.addItem({
        command: COMMENT_COMMANDS.add,
        selector: `${docSelector} ${selector}`,
        rank: 0
      });
      app.contextMenu.addItem({
        command: COMMENT_COMMANDS.suggest,
        selector: `${docSelector} ${selector}`,
        rank: 0
      });
    }
    app.contextMenu.addItem({
      command: COMMENT_COMMANDS.cell,
      selector: `${docSelector} .jp-Cell`,
      rank: 0
    });
    app.contextMenu.addItem({
      command: COMMENT_COMMANDS.suggestCell,
      selector: `${docSelector} .jp-Cell`,
      rank: 0
    });
  }
};
