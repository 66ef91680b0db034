/**
 * The "Shared documents" sidebar: the documents I own and those shared with me (with
 * my role), a search box, and create / open / rename / delete / share; and the trash of
 * my deleted documents (restore, delete forever). It refreshes itself every few
 * seconds while visible, and at once after my own actions.
 */

import {
  Dialog,
  InputDialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CollabDocsClient, IDocumentModel, ITrashedDocument } from './api';
import { el, when } from './dom';
import { newNotebookContent } from './drive';
import { DocumentType, fileNameFor } from './paths';
import { permissions } from './roles';

export interface IPanelActions {
  open(doc: IDocumentModel): void;
  share(doc: IDocumentModel): void;
  /** Called after each refresh with the documents before and after. */
  refreshed(before: Map<string, IDocumentModel>, after: IDocumentModel[]): void;
  me(): string | null;
}

/** Documents I own first (by owner), then those shared with me. */
export function splitDocuments(
  docs: IDocumentModel[],
  me: string | null,
  filter = ''
): { mine: IDocumentModel[]; shared: IDocumentModel[] } {
  const needle = filter.trim().toLowerCase();
  const matching = docs
    .filter(d => !needle || d.name.toLowerCase().includes(needle))
    .sort((a, b) => (b.modified ?? '').localeCompare(a.modified ?? ''));
  return {
    mine: matching.filter(d => d.owner === me),
    shared: matching.filter(d => d.owner !== me)
  };
}

export class SharedDocumentsPanel extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _actions: IPanelActions,
    options: { interval?: number } = {}
  ) {
    super();
    this.id = 'jp-CollabDocs-panel';
    this.addClass('jp-CollabDocs-panel');
    this.title.caption = 'Shared documents';
    this._interval = options.interval ?? 3000;

    this._search = el('input', {
      className: 'jp-mod-styled jp-CollabDocs-search',
      attrs: { type: 'search', placeholder: 'Search by name' }
    }) as HTMLInputElement;
    this._search.addEventListener('input', () => this._render());
    const newNotebook = el('button', {
      className:
        'jp-Button jp-mod-styled jp-mod-accept jp-CollabDocs-newNotebook',
      text: 'New notebook',
      onClick: () => void this.create('notebook')
    });
    const newFile = el('button', {
      className: 'jp-Button jp-mod-styled jp-CollabDocs-newFile',
      text: 'New text',
      onClick: () => void this.create('file')
    });
    const refresh = el('button', {
      className: 'jp-Button jp-mod-styled jp-CollabDocs-refresh',
      text: '↻',
      title: 'Refresh',
      onClick: () => void this.refresh()
    });
    this._mine = el('ul', {
      className: 'jp-CollabDocs-list jp-CollabDocs-mine'
    });
    this._shared = el('ul', {
      className: 'jp-CollabDocs-list jp-CollabDocs-sharedWithMe'
    });
    this._status = el('div', { className: 'jp-CollabDocs-message' });
    this._trashList = el('ul', {
      className: 'jp-CollabDocs-list jp-CollabDocs-trash'
    });
    this._trashTitle = el('summary', {
      className: 'jp-CollabDocs-trashTitle',
      text: 'Trash'
    });
    this.node.append(
      el('h2', {
        className: 'jp-CollabDocs-panelTitle',
        text: 'Shared documents'
      }),
      el(
        'div',
        { className: 'jp-CollabDocs-toolbar' },
        newNotebook,
        newFile,
        refresh
      ),
      this._search,
      this._status,
      el('h3', { text: 'My documents' }),
      this._mine,
      el('h3', { text: 'Shared with me' }),
      this._shared,
      el(
        'details',
        { className: 'jp-CollabDocs-trashSection' },
        this._trashTitle,
        this._trashList
      )
    );
  }

  get documents(): IDocumentModel[] {
    return [...this._docs.values()];
  }

  /** Fetch the list now. */
  async refresh(): Promise<void> {
    try {
      const [docs, trash] = await Promise.all([
        this._client.listDocuments(),
        this._client.listTrash()
      ]);
      this._trash = trash;
      const before = this._docs;
      this._docs = new Map(docs.map(d => [d.id, d]));
      this._status.textContent = '';
      this._status.classList.remove('jp-mod-error');
      this._actions.refreshed(before, docs);
    } catch (error) {
      this._status.textContent = `Could not list documents: ${(error as Error).message}`;
      this._status.classList.add('jp-mod-error');
    }
    // Rebuild the lists only when what they show changed: a rebuild every few seconds
    // detached the row under the user's pointer (a click on a busy page kept missing).
    const shown = JSON.stringify([
      this.documents,
      this._trash,
      this._actions.me()
    ]);
    if (shown !== this._shown) {
      this._shown = shown;
      this._render();
    }
  }

  async create(type: DocumentType): Promise<void> {
    const answer = await InputDialog.getText({
      title:
        type === 'notebook'
          ? 'New shared notebook'
          : 'New shared text document',
      label: 'Name',
      text: type === 'notebook' ? 'Untitled' : 'Untitled.txt'
    });
    if (!answer.button.accept || !answer.value?.trim()) {
      return;
    }
    try {
      const doc = await this._client.createDocument(
        answer.value.trim(),
        type,
        type === 'notebook' ? newNotebookContent() : ''
      );
      await this.refresh();
      this._actions.open(doc);
    } catch (error) {
      void showErrorMessage('Could not create the document', error as Error);
    }
  }

  async rename(doc: IDocumentModel): Promise<void> {
    const answer = await InputDialog.getText({
      title: 'Rename shared document',
      label: 'New name',
      text: doc.name
    });
    if (
      !answer.button.accept ||
      !answer.value?.trim() ||
      answer.value === doc.name
    ) {
      return;
    }
    try {
      await this._client.renameDocument(doc.id, answer.value.trim());
    } catch (error) {
      void showErrorMessage('Could not rename the document', error as Error);
    }
    await this.refresh();
  }

  async remove(doc: IDocumentModel): Promise<void> {
    const answer = await showDialog({
      title: 'Delete shared document?',
      body:
        `“${doc.name}” will be closed for everyone it is shared with and moved ` +
        'to your Trash, where you can restore it until it is purged.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await this._client.deleteDocument(doc.id);
    } catch (error) {
      void showErrorMessage('Could not delete the document', error as Error);
    }
    await this.refresh();
  }

  async restore(doc: ITrashedDocument): Promise<void> {
    try {
      await this._client.restoreDocument(doc.id);
    } catch (error) {
      void showErrorMessage('Could not restore the document', error as Error);
    }
    await this.refresh();
  }

  async purge(doc: ITrashedDocument): Promise<void> {
    const answer = await showDialog({
      title: 'Delete forever?',
      body:
        `“${doc.name}” will be deleted for good, with its history and ` +
        'versions. This cannot be undone.',
      buttons: [
        Dialog.cancelButton(),
        Dialog.warnButton({ label: 'Delete forever' })
      ]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await this._client.purgeDocument(doc.id);
    } catch (error) {
      void showErrorMessage('Could not delete the document', error as Error);
    }
    await this.refresh();
  }

  protected onAfterShow(msg: Message): void {
    void this.refresh();
    window.clearInterval(this._timer); // shown twice without a hide: one timer
    this._timer = window.setInterval(() => {
      if (this.isVisible && document.visibilityState !== 'hidden') {
        void this.refresh();
      }
    }, this._interval);
  }

  protected onAfterHide(msg: Message): void {
    window.clearInterval(this._timer);
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  private _render(): void {
    const { mine, shared } = splitDocuments(
      this.documents,
      this._actions.me(),
      this._search.value
    );
    this._fill(this._mine, mine, 'No documents of yours yet.');
    this._fill(this._shared, shared, 'Nothing shared with you yet.');
    this._fillTrash();
  }

  /** The trash: deleted documents, restorable until purged. */
  private _fillTrash(): void {
    const needle = this._search.value.trim().toLowerCase();
    const docs = this._trash.filter(
      d => !needle || d.name.toLowerCase().includes(needle)
    );
    this._trashTitle.textContent = `Trash (${this._trash.length})`;
    this._trashList.textContent = '';
    if (docs.length === 0) {
      this._trashList.appendChild(
        el('li', {
          className: 'jp-CollabDocs-empty',
          text: 'The trash is empty.'
        })
      );
    }
    const me = this._actions.me();
    for (const doc of docs) {
      const purged = new Date(doc.purge_after).toLocaleDateString();
      this._trashList.appendChild(
        el(
          'li',
          {
            className: `jp-CollabDocs-trashed jp-mod-${doc.type}`,
            attrs: { 'data-id': doc.id, 'data-name': doc.name }
          },
          el('span', {
            className: 'jp-CollabDocs-docName',
            text: fileNameFor(doc.name, doc.type)
          }),
          el('span', {
            className: 'jp-CollabDocs-docMeta',
            text: `${doc.owner !== me ? 'by ' + doc.owner + ' · ' : ''}deleted ${when(doc.trashed)} · purged on ${purged}`
          }),
          el(
            'span',
            { className: 'jp-CollabDocs-docActions' },
            el('button', {
              className: 'jp-Button jp-mod-minimal jp-CollabDocs-restoreDoc',
              text: 'Restore',
              onClick: () => void this.restore(doc)
            }),
            el('button', {
              className: 'jp-Button jp-mod-minimal jp-CollabDocs-purgeDoc',
              text: 'Delete forever',
              onClick: () => void this.purge(doc)
            })
          )
        )
      );
    }
  }

  private _fill(
    list: HTMLElement,
    docs: IDocumentModel[],
    empty: string
  ): void {
    list.textContent = '';
    if (docs.length === 0) {
      list.appendChild(
        el('li', { className: 'jp-CollabDocs-empty', text: empty })
      );
    }
    for (const doc of docs) {
      const perms = permissions(doc.role);
      const open = el('button', {
        className: 'jp-CollabDocs-docName',
        text: fileNameFor(doc.name, doc.type),
        title: `Open ${doc.name}`,
        onClick: () => this._actions.open(doc)
      });
      const actions = el('span', { className: 'jp-CollabDocs-docActions' });
      actions.appendChild(
        el('button', {
          className: 'jp-Button jp-mod-minimal jp-CollabDocs-shareDoc',
          text: 'Share',
          onClick: () => this._actions.share(doc)
        })
      );
      if (perms.write) {
        actions.appendChild(
          el('button', {
            className: 'jp-Button jp-mod-minimal jp-CollabDocs-renameDoc',
            text: 'Rename',
            onClick: () => void this.rename(doc)
          })
        );
      }
      if (perms.delete) {
        actions.appendChild(
          el('button', {
            className: 'jp-Button jp-mod-minimal jp-CollabDocs-deleteDoc',
            text: 'Delete',
            onClick: () => void this.remove(doc)
          })
        );
      }
      list.appendChild(
        el(
          'li',
          {
            className: `jp-CollabDocs-doc jp-mod-${doc.type}`,
            attrs: {
              'data-id': doc.id,
              'data-name': doc.name,
              'data-role': doc.role
            }
          },
          open,
          el('span', {
            className: 'jp-CollabDocs-docMeta',
            text: `${doc.role}${doc.owner !== this._actions.me() ? ' · by ' + doc.owner : ''} · ${when(doc.modified)}`
          }),
          actions
        )
      );
    }
  }

  private _docs = new Map<string, IDocumentModel>();
  private _trash: ITrashedDocument[] = [];
  private _trashList: HTMLUListElement;
  private _trashTitle: HTMLElement;
  private _search: HTMLInputElement;
  private _mine: HTMLUListElement;
  private _shared: HTMLUListElement;
  private _status: HTMLDivElement;
  private _timer = 0;
  private _shown = '';
  private _interval: number;
}
