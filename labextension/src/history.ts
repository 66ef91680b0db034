/**
 * The version history of a document: list versions, name the current state, view a
 * version's content (read-only) and restore one (a new change every editor sees).
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  CollabDocsClient,
  IContentModel,
  IDocumentModel,
  IVersion
} from './api';
import { el, when } from './dom';
import { permissions } from './roles';

/** A read-only rendering of a document's content. */
export function renderContent(content: IContentModel): HTMLElement {
  if (content.format === 'text' || typeof content.content === 'string') {
    return el('pre', {
      className: 'jp-CollabDocs-versionText',
      text: String(content.content ?? '')
    });
  }
  const box = el('div', { className: 'jp-CollabDocs-versionNotebook' });
  const cells: any[] = content.content?.cells ?? [];
  if (cells.length === 0) {
    box.appendChild(el('p', { text: '(no cells)' }));
  }
  for (const cell of cells) {
    const source = Array.isArray(cell.source)
      ? cell.source.join('')
      : String(cell.source ?? '');
    box.appendChild(
      el(
        'div',
        { className: `jp-CollabDocs-versionCell jp-mod-${cell.cell_type}` },
        el('div', {
          className: 'jp-CollabDocs-cellType',
          text: cell.cell_type
        }),
        el('pre', { className: 'jp-CollabDocs-versionText', text: source })
      )
    );
  }
  return box;
}

export class HistoryPanel extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _doc: () => IDocumentModel | null,
    private _docId: string
  ) {
    super();
    this.addClass('jp-CollabDocs-history');
    this.id = `jp-CollabDocs-history-${_docId}`;
    this.title.label = 'History';
    this.title.closable = true;
    const doc = this._doc();
    this._header = el('h3', { text: `Versions of “${doc?.name ?? _docId}”` });
    this._list = el('ul', { className: 'jp-CollabDocs-versionList' });
    this._view = el('div', { className: 'jp-CollabDocs-versionView' });
    this._message = el('div', { className: 'jp-CollabDocs-message' });
    const refresh = el('button', {
      className: 'jp-Button jp-mod-styled jp-CollabDocs-refresh',
      text: 'Refresh',
      onClick: () => void this.refresh()
    });
    this.node.append(this._header, refresh);
    if (permissions(doc?.role).versions) {
      const label = el('input', {
        className: 'jp-mod-styled jp-CollabDocs-versionLabel',
        attrs: { type: 'text', placeholder: 'Name this version' }
      }) as HTMLInputElement;
      const save = el('button', {
        className:
          'jp-Button jp-mod-styled jp-mod-accept jp-CollabDocs-saveVersion',
        text: 'Save version',
        onClick: () => {
          const text = label.value.trim();
          void this._client
            .createVersion(this._docId, text)
            .then(() => {
              label.value = '';
              this._say(`Version “${text || 'unnamed'}” saved.`);
              return this.refresh();
            })
            .catch(error => this._say(error.message, true));
        }
      });
      this.node.appendChild(
        el('div', { className: 'jp-CollabDocs-versionAdd' }, label, save)
      );
    }
    this.node.append(this._message, this._list, this._view);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    let versions: IVersion[];
    try {
      versions = await this._client.listVersions(this._docId);
    } catch (error) {
      this._say((error as Error).message, true);
      return;
    }
    const canRestore = permissions(this._doc()?.role).versions;
    this._list.textContent = '';
    if (versions.length === 0) {
      this._list.appendChild(el('li', { text: 'No versions yet.' }));
    }
    for (const version of versions) {
      const name =
        version.label || (version.auto ? 'Automatic version' : 'Unnamed');
      const row = el(
        'li',
        {
          className: 'jp-CollabDocs-version',
          attrs: { 'data-version': version.id, 'data-label': version.label }
        },
        el('span', { className: 'jp-CollabDocs-versionName', text: name }),
        el('span', {
          className: 'jp-CollabDocs-versionMeta',
          text: ` ${when(version.created)}${version.created_by ? ' · ' + version.created_by : ''}`
        }),
        el('button', {
          className: 'jp-Button jp-mod-styled jp-CollabDocs-viewVersion',
          text: 'View',
          onClick: () => void this._show(version)
        })
      );
      if (canRestore) {
        row.appendChild(
          el('button', {
            className:
              'jp-Button jp-mod-styled jp-mod-warn jp-CollabDocs-restoreVersion',
            text: 'Restore',
            onClick: () => void this._restore(version, name)
          })
        );
      }
      this._list.appendChild(row);
    }
  }

  private async _show(version: IVersion): Promise<void> {
    try {
      const content = await this._client.getContent(this._docId, version.id);
      this._view.textContent = '';
      this._view.append(
        el('h4', {
          text: `${version.label || 'Version'} (${when(version.created)}), read-only`
        }),
        renderContent(content)
      );
    } catch (error) {
      this._say((error as Error).message, true);
    }
  }

  private async _restore(version: IVersion, name: string): Promise<void> {
    const answer = await showDialog({
      title: 'Restore this version?',
      body: `“${name}” becomes the current content, for everyone editing it. The current state stays in the history.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Restore' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await this._client.restoreVersion(this._docId, version.id);
      this._say(`Restored “${name}”.`);
      await this.refresh();
    } catch (error) {
      this._say((error as Error).message, true);
    }
  }

  private _say(text: string, error = false): void {
    this._message.textContent = text;
    this._message.classList.toggle('jp-mod-error', error);
  }

  private _header: HTMLElement;
  private _list: HTMLUListElement;
  private _view: HTMLDivElement;
  private _message: HTMLDivElement;
}
