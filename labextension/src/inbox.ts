/**
 * The inbox of mentions (docs/comments.md, "Mentions and notifications"): a button in
 * JupyterLab's top bar with the unread count, and a right-sidebar panel listing who
 * mentioned me where. "Open" runs `collab-docs:open-thread` ({docId, threadId}: opens
 * the document and its comments panel at the thread) or, without the comments plugin,
 * opens the document; either way the thread asked for is announced as a
 * `collab-docs:thread` window event and on `document.body.dataset.collabDocsThread`
 * (`DOCID:THREADID`). Everything is set as text, never as markup.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import type { CollabDocsClient, IInbox, INotification } from './api';
import { el, when } from './dom';
import { ICollabDocs } from './tokens';

const OPEN_THREAD = 'collab-docs:open-thread';
export const OPEN_FROM_INBOX = 'jupyter-collab-docs:open-mention';
/** How often the unread count is re-read while the page is visible (ms). */
const POLL_MS = 15000;

/** Tell whoever shows threads which one the reader asked for. */
export function announceThread(docId: string, threadId: string): void {
  document.body.dataset.collabDocsThread = `${docId}:${threadId}`;
  window.dispatchEvent(
    new CustomEvent('collab-docs:thread', { detail: { docId, threadId } })
  );
}

export class InboxPanel extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _open: (note: INotification) => void
  ) {
    super();
    this.id = 'jp-CollabDocs-inbox';
    this.addClass('jp-CollabDocs-inbox');
    this.title.label = 'Inbox';
    this.title.caption = 'Mentions of me';
    this._markAll = el('button', {
      className: 'jp-Button jp-mod-styled jp-mod-reject',
      text: 'Mark all read',
      attrs: { type: 'button' },
      onClick: () => void this.markRead(null)
    });
    this._list = el('ul', {
      className: 'jp-CollabDocs-inboxItems',
      attrs: { 'aria-label': 'Mentions' }
    });
    this._message = el('div', { className: 'jp-CollabDocs-message' });
    // The heading and "Mark all read" share one line (style/inbox.css).
    this.node.append(
      el(
        'div',
        { className: 'jp-CollabDocs-inboxHeader' },
        el('h3', { text: 'Inbox' }),
        this._markAll
      ),
      this._message,
      this._list
    );
    // A label and a badge (style/base.css): the button's name says the count in
    // words, so the badge's bare number is hidden from assistive technology.
    this.button = el(
      'button',
      {
        className: 'jp-CollabDocs-inboxButton jp-Button jp-mod-minimal',
        attrs: { type: 'button' },
        onClick: () => this.buttonClicked()
      },
      el('span', { className: 'jp-CollabDocs-inboxLabel', text: 'Inbox' }),
      this._count
    );
    this._render();
  }

  /** The top-bar button (a Widget wraps it for the shell). */
  readonly button: HTMLButtonElement;
  /** Activates the panel (set by the plugin). */
  buttonClicked: () => void = () => undefined;

  get unread(): number {
    return this._inbox.unread;
  }

  async refresh(): Promise<void> {
    try {
      const fresh = await this._client.inbox();
      this._message.textContent = '';
      if (JSON.stringify(fresh) !== JSON.stringify(this._inbox)) {
        this._inbox = fresh;
        this._render();
      }
    } catch (error) {
      this._message.textContent = (error as Error).message;
    }
  }

  async markRead(id: string | null): Promise<void> {
    try {
      const { unread } = await this._client.markRead(id);
      this._inbox = {
        unread,
        notifications: this._inbox.notifications.map(n =>
          id === null || n.id === id ? { ...n, read: true } : n
        )
      };
      this._render();
    } catch (error) {
      this._message.textContent = (error as Error).message;
    }
  }

  /** One row (style/inbox.css): who and where, the excerpt, then when and "Open"
   * (the sidebar is narrow). Unread rows are marked by their class, and in words
   * for assistive technology. */
  private _item(note: INotification): HTMLElement {
    const item = el(
      'li',
      {
        className: note.read
          ? 'jp-CollabDocs-inboxItem'
          : 'jp-CollabDocs-inboxItem jp-mod-unread'
      },
      el(
        'div',
        { className: 'jp-CollabDocs-inboxWhat' },
        note.read
          ? null
          : el('span', {
              className: 'jp-CollabDocs-inboxUnreadLabel',
              text: 'Unread: '
            }),
        el('strong', {
          className: 'jp-CollabDocs-inboxWho',
          text: note.author_name || note.author
        }),
        ' mentioned you in ',
        el('em', {
          className: 'jp-CollabDocs-inboxDoc',
          text: note.document_name
        })
      ),
      el('time', {
        className: 'jp-CollabDocs-inboxWhen',
        text: when(note.created),
        attrs: { datetime: note.created }
      }),
      el('p', { className: 'jp-CollabDocs-inboxExcerpt', text: note.excerpt }),
      el('button', {
        className: 'jp-CollabDocs-inboxOpen jp-Button jp-mod-styled',
        text: 'Open',
        attrs: { type: 'button', 'aria-label': `Open ${note.document_name}` },
        onClick: () => {
          void this.markRead(note.id);
          this._open(note);
        }
      })
    );
    item.dataset.id = note.id;
    return item;
  }

  private _render(): void {
    const { unread, notifications } = this._inbox;
    this._count.textContent = String(unread);
    this._count.hidden = unread === 0;
    const name = `Inbox, ${unread} unread`;
    this.button.setAttribute('aria-label', name);
    this.button.title = name;
    this._markAll.hidden = unread === 0;
    this._list.textContent = '';
    if (notifications.length === 0) {
      this._list.append(
        el('li', {
          className: 'jp-CollabDocs-inboxEmpty',
          text: 'Nobody has mentioned you yet.'
        })
      );
    }
    for (const note of notifications) {
      this._list.append(this._item(note));
    }
  }

  private _inbox: IInbox = { notifications: [], unread: 0 };
  private _count = el('span', {
    className: 'jp-CollabDocs-inboxCount',
    attrs: { 'aria-hidden': 'true' }
  });
  private _list: HTMLUListElement;
  private _markAll: HTMLButtonElement;
  private _message: HTMLDivElement;
}

/** The inbox: top-bar button, right-sidebar panel, and the command that opens a mention. */
export const inboxPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab-docs:inbox',
  description: 'The inbox of mentions in comments.',
  autoStart: true,
  requires: [ICollabDocs],
  activate: (app: JupyterFrontEnd, collab: ICollabDocs): void => {
    app.commands.addCommand(OPEN_FROM_INBOX, {
      label: 'Open Mention',
      execute: async args => {
        const docId = String(args.docId ?? '');
        const threadId = String(args.threadId ?? '');
        announceThread(docId, threadId);
        if (app.commands.hasCommand(OPEN_THREAD)) {
          await app.commands.execute(OPEN_THREAD, { docId, threadId });
        } else {
          collab.open(await collab.client.getDocument(docId));
        }
      }
    });
    const panel = new InboxPanel(collab.client, note => {
      void app.commands.execute(OPEN_FROM_INBOX, {
        docId: note.document_id,
        threadId: note.thread_id
      });
    });
    app.shell.add(panel, 'right', { rank: 900 });
    panel.buttonClicked = () => {
      app.shell.activateById(panel.id);
      void panel.refresh();
    };
    const top = new Widget({ node: panel.button });
    top.id = 'jp-CollabDocs-inboxButton';
    app.shell.add(top, 'top', { rank: 900 });
    void collab.ready.then(() => panel.refresh());
    window.setInterval(() => {
      if (document.visibilityState === 'visible') {
        void panel.refresh();
      }
    }, POLL_MS);
  }
};
