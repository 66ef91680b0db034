/**
 * What a shared document's widget gets: the connection state, collaborators, Share /
 * History / Activity buttons, editability from the role and the room's state, a banner
 * when it is deleted, and no "unsaved changes" nag (the room stores every change).
 */

import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import {
  CollaboratorAvatars,
  ConnectionStatus,
  DocumentBanner
} from './components';
import type { DocumentConnection } from './connection';
import type { CollabDocsDrive } from './drive';
import {
  NO_KERNEL_CLASS,
  READ_ONLY_CLASS,
  withoutKernel
} from './commandpolicy';
import { isDrivePath } from './paths';
import { permissions } from './roles';
import { ConnectionState } from './states';
import { untrustNotebookModel } from './trust';
import { saveOpenDocument } from './download';

/** Keys a read-only notebook still accepts in command mode. */
const NAVIGATION_KEYS = new Set([
  'ArrowUp',
  'ArrowDown',
  'ArrowLeft',
  'ArrowRight',
  'PageUp',
  'PageDown',
  'Home',
  'End',
  'Escape',
  'Tab',
  'Shift',
  'Control',
  'Alt',
  'Meta'
]);

export interface IDocumentActions {
  share(conn: DocumentConnection): void;
  history(conn: DocumentConnection, widget: Widget): void;
  activity(conn: DocumentConnection, widget: Widget): void;
  me(): string | null;
  /** Whether I may run code; read once `ready` resolved. */
  canRunCode(): boolean;
  /** Resolves once who I am is known (or could not be). */
  readonly ready: Promise<void>;
}

/** Make a document widget read-only or editable. */
export function setEditable(widget: IDocumentWidget, editable: boolean): void {
  const content = widget.content as any;
  const readOnly = !editable;
  widget.node.classList.toggle(READ_ONLY_CLASS, readOnly);
  if (content && content.widgets && content.model && 'cells' in content.model) {
    // A notebook: every cell, and the model (new cells follow, see below).
    content.model.readOnly = readOnly;
    for (const cell of content.widgets) {
      cell.readOnly = readOnly;
    }
  } else if (content && content.editor) {
    // A text editor.
    content.editor.setOption('readOnly', readOnly);
    if (content.model && 'readOnly' in content.model) {
      content.model.readOnly = readOnly;
    }
  }
}

export class SharedDocumentExtension
  implements DocumentRegistry.WidgetExtension
{
  constructor(
    private _drive: CollabDocsDrive,
    private _actions: IDocumentActions
  ) {}

  createNew(
    widget: IDocumentWidget,
    context: DocumentRegistry.IContext<DocumentRegistry.IModel>
  ): IDisposable {
    if (!isDrivePath(context.path)) {
      return new DisposableDelegate(() => undefined);
    }
    const notebookModel = (widget.content as any)?.model;
    if (notebookModel && 'cells' in notebookModel) {
      // Outputs written by others never run here (see trust.ts).
      untrustNotebookModel(notebookModel);
      // Before the document is populated (the drive waits for `ready` too): a user
      // who may run no code gets no kernel, and no dialog asking for one.
      void this._actions.ready.then(() => {
        if (!this._actions.canRunCode() && !context.isDisposed) {
          withoutKernel(context.sessionContext);
          widget.addClass(NO_KERNEL_CLASS);
        }
      });
    }
    const conn = this._drive.connectionFor(context.model.sharedModel);
    if (!conn) {
      return new DisposableDelegate(() => undefined);
    }
    widget.addClass('jp-CollabDocs-document');
    const status = new ConnectionStatus(conn);
    const avatars = new CollaboratorAvatars(
      conn,
      () => this._actions.me(),
      widget.content
    );
    const share = new ToolbarButton({
      label: 'Share',
      className: 'jp-CollabDocs-shareButton',
      tooltip: 'Share this document',
      onClick: () => this._actions.share(conn)
    });
    const history = new ToolbarButton({
      label: 'History',
      className: 'jp-CollabDocs-historyButton',
      tooltip: 'Versions of this document',
      onClick: () => this._actions.history(conn, widget)
    });
    const activity = new ToolbarButton({
      label: 'Activity',
      className: 'jp-CollabDocs-activityButton',
      tooltip: 'What happened to this document (owners)',
      onClick: () => this._actions.activity(conn, widget)
    });
    widget.toolbar.addItem('collab-docs-status', status);
    widget.toolbar.addItem('collab-docs-avatars', avatars);
    widget.toolbar.addItem('collab-docs-share', share);
    widget.toolbar.addItem('collab-docs-history', history);
    widget.toolbar.addItem('collab-docs-activity', activity);
    activity.hide();
    // Deleted while open: the server gives it no more; save what this page holds.
    const download = new ToolbarButton({
      label: 'Download',
      className: 'jp-CollabDocs-downloadButton',
      tooltip: 'Save what this page holds of the deleted document',
      onClick: () => saveOpenDocument(context)
    });
    widget.toolbar.addItem('collab-docs-download', download);
    download.hide();

    const banner = new DocumentBanner();
    const header = (widget as any).contentHeader;
    if (header && typeof header.addWidget === 'function') {
      header.addWidget(banner);
    }

    const apply = (): void => {
      if (widget.isDisposed) {
        return;
      }
      const state: ConnectionState = conn.state;
      const role = conn.role;
      const perms = permissions(role);
      setEditable(widget, conn.canEdit);
      activity.setHidden(!perms.activity);
      history.setHidden(!perms.read);
      share.setHidden(!perms.read || state === 'deleted');
      download.setHidden(state !== 'deleted');
      if (state === 'deleted') {
        banner.show_(
          'This document was deleted. It can no longer be edited.',
          'deleted'
        );
      } else if (state === 'not-found') {
        banner.show_(
          'This document is not available to you any more (not found).',
          'not-found'
        );
      } else if (state === 'unauthenticated') {
        banner.show_('You are signed out: reload the page.', 'unauthenticated');
      } else {
        // Read-only says so once, in the status (its tooltip tells why).
        banner.hide();
      }
    };
    conn.stateChanged.connect(apply);
    conn.modelChanged.connect(apply);
    apply();

    // A notebook's new cells get the current editability.
    const notebook = (widget.content as any)?.model;
    const onCells = (): void => {
      requestAnimationFrame(apply);
    };
    if (notebook?.cells?.changed) {
      notebook.cells.changed.connect(onCells);
    }

    // Command-mode keys would change a read-only notebook locally: swallow them.
    const onKey = (event: KeyboardEvent): void => {
      if (conn.canEdit || NAVIGATION_KEYS.has(event.key)) {
        return;
      }
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') {
        return;
      }
      const target = event.target as HTMLElement | null;
      if (target && target.closest('.jp-Toolbar, .jp-Dialog')) {
        return;
      }
      event.stopPropagation();
      event.preventDefault();
    };
    widget.content.node.addEventListener('keydown', onKey, true);

    // The room stores every change: never leave the document "dirty".
    let timer = 0;
    const onState = (_: unknown, change: { name: string }): void => {
      if (change.name !== 'dirty' || !context.model.dirty || timer) {
        return;
      }
      timer = window.setTimeout(() => {
        timer = 0;
        if (!context.isDisposed && context.model.dirty) {
          context.model.dirty = false;
        }
      }, 500);
    };
    context.model.stateChanged.connect(onState);

    return new DisposableDelegate(() => {
      conn.stateChanged.disconnect(apply);
      conn.modelChanged.disconnect(apply);
      context.model.stateChanged.disconnect(onState);
      if (notebook?.cells?.changed) {
        notebook.cells.changed.disconnect(onCells);
      }
      widget.content.node.removeEventListener('keydown', onKey, true);
      window.clearTimeout(timer);
      status.dispose();
      avatars.dispose();
      banner.dispose();
    });
  }
}
