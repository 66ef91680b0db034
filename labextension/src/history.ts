/**
 * The version history of a document: list versions, name the current state, view a
 * version's content (read-only) and restore one (a new change every editor sees).
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  CollabDocsClient,
  ICellChange,
  IContentModel,
  IDocumentModel,
  ILineHunks,
  IVersion,
  IVersionComparison
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

/** Colours of diff lines, set through the CSSOM (the extension's style sheet is shared). */
const DIFF_TINTS: Record<string, string> = {
  added: 'rgba(46, 160, 67, 0.18)',
  removed: 'rgba(248, 81, 73, 0.18)'
};
const DIFF_MARKS: Record<string, string> = {
  added: '+',
  removed: '-',
  context: ' '
};

/** A line diff as `+`/`-`/` ` lines, one element per line (text only). */
function renderHunks(diff: ILineHunks): HTMLElement {
  const box = el('div', { className: 'jp-CollabDocs-diffHunks' });
  for (const hunk of diff.hunks) {
    box.appendChild(
      el('div', {
        className: 'jp-CollabDocs-diffHunkHeader',
        text: `@@ -${hunk.old_start},${hunk.old_lines} +${hunk.new_start},${hunk.new_lines} @@`
      })
    );
    const pre = el('pre', { className: 'jp-CollabDocs-diffLines' });
    pre.style.margin = '0';
    for (const line of hunk.lines) {
      const row = el('div', {
        className: `jp-CollabDocs-diffLine jp-mod-${line.kind}`,
        text: `${DIFF_MARKS[line.kind] ?? ' '} ${line.text}`,
        attrs: { 'data-kind': line.kind }
      });
      row.style.background = DIFF_TINTS[line.kind] ?? '';
      pre.appendChild(row);
    }
    box.appendChild(pre);
  }
  if (diff.truncated) {
    box.appendChild(el('p', { text: '… (diff cut short)' }));
  }
  return box;
}

function describeCell(cell: ICellChange): string {
  const where =
    cell.status === 'removed'
      ? `was cell ${(cell.old_index ?? 0) + 1}`
      : `cell ${(cell.new_index ?? 0) + 1}`;
  const what =
    cell.status === 'changed' && cell.moved ? 'changed, moved' : cell.status;
  const from =
    cell.moved && cell.old_index !== null
      ? ` (was cell ${cell.old_index + 1})`
      : '';
  return `${what}: ${where}${from}, ${cell.cell_type}`;
}

/** " · by Alice Liddell, bob": who touched a cell, by display name. */
function byLine(cell: ICellChange, names: Map<string, string>): string {
  const people = (cell.by ?? []).map(user => names.get(user) ?? user);
  return people.length ? ` · by ${people.join(', ')}` : '';
}

function renderCellChange(
  cell: ICellChange,
  names: Map<string, string>
): HTMLElement {
  const box = el(
    'div',
    {
      className: `jp-CollabDocs-cellDiff jp-mod-${cell.status}`,
      attrs: { 'data-status': cell.status, 'data-cell-id': cell.id ?? '' }
    },
    el('div', {
      className: 'jp-CollabDocs-cellDiffTitle',
      text: describeCell(cell) + byLine(cell, names)
    })
  );
  box.style.borderLeft = `3px solid ${
    cell.status === 'added'
      ? '#2ea043'
      : cell.status === 'removed'
        ? '#f85149'
        : '#d29922'
  }`;
  box.style.paddingLeft = '6px';
  box.style.margin = '6px 0';
  if (cell.cell_type_change) {
    box.appendChild(
      el('div', {
        text: `type: ${cell.cell_type_change.from} → ${cell.cell_type_change.to}`
      })
    );
  }
  if (cell.source.hunks.length > 0) {
    box.appendChild(renderHunks(cell.source));
  }
  for (const output of cell.outputs) {
    const kinds = output.mime_types.length
      ? ` (${output.mime_types.join(', ')})`
      : '';
    const name = output.name ? ` ${output.name}` : '';
    box.appendChild(
      el('div', {
        className: 'jp-CollabDocs-outputDiff',
        attrs: { 'data-change': output.change },
        text: `output ${output.index + 1} ${output.change}: ${output.output_type}${name}${kinds}`
      })
    );
  }
  if (cell.metadata) {
    box.appendChild(
      el('div', { text: `metadata: ${keyChanges(cell.metadata)}` })
    );
  }
  return box;
}

function keyChanges(keys: {
  added: string[];
  removed: string[];
  changed: string[];
}): string {
  const parts: string[] = [];
  for (const [label, list] of [
    ['added', keys.added],
    ['removed', keys.removed],
    ['changed', keys.changed]
  ] as const) {
    if (list.length) {
      parts.push(`${label} ${list.join(', ')}`);
    }
  }
  return parts.join('; ');
}

/** A comparison: who changed the document, then what changed (text only). */
export function renderComparison(result: IVersionComparison): HTMLElement {
  const box = el('div', { className: 'jp-CollabDocs-compare' });
  const who = el('ul', { className: 'jp-CollabDocs-compareAuthors' });
  for (const author of result.authors) {
    const name =
      author.display_name && author.display_name !== author.username
        ? `${author.display_name} (${author.username})`
        : author.username;
    who.appendChild(
      el('li', {
        className: 'jp-CollabDocs-compareAuthor',
        attrs: { 'data-username': author.username },
        text: `${name}: ${author.updates} change${author.updates === 1 ? '' : 's'}`
      })
    );
  }
  box.appendChild(
    el('div', {
      text: result.authors.length ? 'Changed by:' : 'No recorded authors.'
    })
  );
  box.appendChild(who);
  const names = new Map(
    result.authors.map(author => [author.username, author.display_name])
  );
  const changes = result.changes;
  if (changes.type === 'notebook') {
    const s = changes.summary;
    box.appendChild(
      el('p', {
        className: 'jp-CollabDocs-compareSummary',
        text: `${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.moved} moved`
      })
    );
    if (changes.metadata) {
      box.appendChild(
        el('p', { text: `notebook metadata: ${keyChanges(changes.metadata)}` })
      );
    }
    for (const cell of changes.cells) {
      box.appendChild(renderCellChange(cell, names));
    }
  } else {
    box.appendChild(
      el('p', {
        className: 'jp-CollabDocs-compareSummary',
        text: `${changes.added} line${changes.added === 1 ? '' : 's'} added, ${changes.removed} removed`
      })
    );
    box.appendChild(renderHunks(changes));
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
    this._from = el('select', {
      className: 'jp-mod-styled jp-CollabDocs-compareFrom',
      attrs: { 'aria-label': 'Compare from' }
    });
    this._to = el('select', {
      className: 'jp-mod-styled jp-CollabDocs-compareTo',
      attrs: { 'aria-label': 'Compare to' }
    });
    const compare = el('button', {
      className: 'jp-Button jp-mod-styled jp-CollabDocs-compareButton',
      text: 'Compare',
      onClick: () => void this._compare(this._from.value, this._to.value)
    });
    this.node.append(
      this._message,
      el(
        'div',
        { className: 'jp-CollabDocs-compareBar' },
        'Compare ',
        this._from,
        ' with ',
        this._to,
        compare
      ),
      this._list,
      this._view
    );
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
    this._fillCompareChoices(versions);
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
        }),
        el('button', {
          className: 'jp-Button jp-mod-styled jp-CollabDocs-compareNow',
          text: 'Changes since',
          title: 'What changed since this version, and who changed it',
          onClick: () => void this._compare(version.id, 'current')
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

  private _fillCompareChoices(versions: IVersion[]): void {
    const label = (v: IVersion) =>
      `${v.label || (v.auto ? 'Automatic' : 'Unnamed')} · ${when(v.created)}`;
    const keep = [this._from.value, this._to.value];
    this._from.textContent = '';
    this._to.textContent = '';
    this._to.appendChild(
      el('option', { text: 'Now', attrs: { value: 'current' } })
    );
    for (const version of versions) {
      this._from.appendChild(
        el('option', { text: label(version), attrs: { value: version.id } })
      );
      this._to.appendChild(
        el('option', { text: label(version), attrs: { value: version.id } })
      );
    }
    if (keep[0]) {
      this._from.value = keep[0];
    }
    if (keep[1]) {
      this._to.value = keep[1];
    }
  }

  private async _compare(from: string, to: string): Promise<void> {
    if (!from) {
      this._say('No version to compare yet.', true);
      return;
    }
    try {
      const result = await this._client.compareVersions(this._docId, from, to);
      const name = (id: string) =>
        id === 'current'
          ? 'now'
          : (this._list.querySelector(
              `[data-version="${id}"] .jp-CollabDocs-versionName`
            )?.textContent ?? id);
      this._view.textContent = '';
      this._view.append(
        el('h4', { text: `Changes from “${name(from)}” to “${name(to)}”` }),
        renderComparison(result)
      );
      this._say('');
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

  private _from: HTMLSelectElement;
  private _to: HTMLSelectElement;
  private _header: HTMLElement;
  private _list: HTMLUListElement;
  private _view: HTMLDivElement;
  private _message: HTMLDivElement;
}
