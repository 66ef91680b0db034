/**
 * The "Shared documents" sidebar: the documents I own and those shared with me (with
 * my role), a search box, and create / open / rename / delete / share. It refreshes
 * itself every few seconds while visible, and at once after my own actions.
 */

import {
  Dialog,
  InputDialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CollabDocsClient, IDocumentModel } from './api';
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
      this._shared
    );
  }

  get documents(): IDocumentModel[] {
    return [...this._docs.values()];
  }

  /** Fetch the list now. */
  async refresh(): Promise<void> {
    try {
      const docs = await this._client.listDocuments();
      const before = this._docs;
      this._docs = new Map(docs.map(d => [d.id, d]));
      this._status.textContent = '';
      this._status.classList.remove('jp-mod-error');
      this._actions.refreshed(before, docs);
    } catch (error) {
      this._status.textContent = `Could not list documents: ${(error as Error).message}`;
      this._status.classList.add('jp-mod-error');
    }
    this._render();
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
      body: `“${doc.name}” will be deleted for everyone it is shared with.`,
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

  protected onAfterShow(msg: Message): void {
    void this.refresh();
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
  private _search: HTMLInputElement;
  private _mine: HTMLUListElement;
  private _shared: HTMLUListElement;
  private _status: HTMLDivElement;
  private _timer = 0;
  private _interval: number;
}
