/**
 * The activity feed of a document (owners and administrators): its audit events,
 * newest first.
 */

import { Widget } from '@lumino/widgets';

import { CollabDocsClient, IActivityEvent } from './api';
import { el, when } from './dom';

const COMMON = new Set([
  'event_id',
  'schema_id',
  'kind',
  'timestamp',
  'actor',
  'document_id',
  'node',
  '__schema__',
  '__schema_version__',
  '__timestamp__',
  '__metadata_version__'
]);

/** The kind of an event (`document.renamed`), from `kind` or the schema id. */
export function eventKind(event: IActivityEvent): string {
  if (event.kind) {
    return event.kind;
  }
  const match = /\/events\/([a-z-]+)\/v\d+$/.exec(event.schema_id ?? '');
  return match ? match[1].replace('-', '.') : 'event';
}

/** The event's own fields, as `key: value` text. */
export function eventDetails(event: IActivityEvent): string {
  return Object.entries(event)
    .filter(
      ([key, value]) =>
        !COMMON.has(key) && value !== null && value !== undefined
    )
    .map(
      ([key, value]) =>
        `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`
    )
    .join(', ');
}

export class ActivityPanel extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _docId: string,
    name: string
  ) {
    super();
    this.addClass('jp-CollabDocs-activity');
    this.id = `jp-CollabDocs-activity-${_docId}`;
    this.title.label = 'Activity';
    this.title.closable = true;
    this._list = el('ol', { className: 'jp-CollabDocs-events' });
    this._message = el('div', { className: 'jp-CollabDocs-message' });
    this.node.append(
      el('h3', { text: `Activity of “${name}”` }),
      el('button', {
        className: 'jp-Button jp-mod-styled jp-CollabDocs-refresh',
        text: 'Refresh',
        onClick: () => void this.refresh()
      }),
      this._message,
      this._list
    );
    void this.refresh();
  }

  async refresh(): Promise<void> {
    let events: IActivityEvent[];
    try {
      events = await this._client.activity(this._docId, 100);
    } catch (error) {
      this._message.textContent = (error as Error).message;
      this._message.classList.add('jp-mod-error');
      return;
    }
    this._message.textContent = '';
    this._list.textContent = '';
    if (events.length === 0) {
      this._list.appendChild(el('li', { text: 'Nothing yet.' }));
    }
    for (const event of events) {
      const details = eventDetails(event);
      this._list.appendChild(
        el(
          'li',
          {
            className: 'jp-CollabDocs-event',
            attrs: { 'data-kind': eventKind(event) }
          },
          el('span', {
            className: 'jp-CollabDocs-eventTime',
            text: when(event.timestamp)
          }),
          ' ',
          el('strong', { text: event.actor ?? 'server' }),
          ' ',
          el('span', {
            className: 'jp-CollabDocs-eventKind',
            text: eventKind(event)
          }),
          details
            ? el('span', {
                className: 'jp-CollabDocs-eventDetails',
                text: ` (${details})`
              })
            : null
        )
      );
    }
  }

  private _list: HTMLOListElement;
  private _message: HTMLDivElement;
}
