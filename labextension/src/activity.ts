/**
 * The activity feed of a document (owners and administrators): its events as sentences
 * ("Alice restored “before cleanup”"), newest first, stamped in the reader's locale and
 * filtered by person, kind and time. Sentences and names come from the server and are
 * set as text only.
 */

import { Widget } from '@lumino/widgets';

import {
  CollabDocsClient,
  IActivityEvent,
  IActivityPage,
  IActivityQuery
} from './api';
import { el, when } from './dom';

const COMMON = new Set([
  'event_id',
  'schema_id',
  'kind',
  'timestamp',
  'actor',
  'document_id',
  'node',
  'summary',
  'category',
  'actor_name',
  '__schema__',
  '__schema_version__',
  '__timestamp__',
  '__metadata_version__'
]);

/** The server's filter categories (docs/audit.md), as a reader names them. */
export const KIND_CHOICES: readonly [string, string][] = [
  ['', 'Everything'],
  ['editing', 'Edits and sessions'],
  ['sharing', 'Sharing'],
  ['versions', 'Versions'],
  ['lifecycle', 'Created, renamed, deleted'],
  ['comments', 'Comments'],
  ['access', 'Refused access']
];

/** Time choices: value, label, span in milliseconds (0: any time). */
export const SINCE_CHOICES: readonly [string, string, number][] = [
  ['', 'Any time', 0],
  ['hour', 'Last hour', 3_600_000],
  ['day', 'Last 24 hours', 86_400_000],
  ['week', 'Last 7 days', 7 * 86_400_000]
];

const FEED_LIMIT = 200;

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

/** The event as a sentence: the server's, or (an older server) its raw fields. */
export function eventSentence(event: IActivityEvent): string {
  if (typeof event.summary === 'string' && event.summary) {
    return event.summary;
  }
  const details = eventDetails(event);
  return `${event.actor ?? 'server'} ${eventKind(event)}${details ? ` (${details})` : ''}`;
}

/** The query of the chosen filters; `since` relative to `now`. */
export function activityQuery(
  person: string,
  kind: string,
  since: string,
  now: Date = new Date()
): IActivityQuery {
  const query: IActivityQuery = { limit: FEED_LIMIT };
  if (person) {
    query.actor = person;
  }
  if (kind) {
    query.kind = kind;
  }
  const span = SINCE_CHOICES.find(([value]) => value === since)?.[2] ?? 0;
  if (span) {
    query.since = new Date(now.getTime() - span).toISOString();
  }
  return query;
}

function choices(
  className: string,
  label: string,
  options: readonly (readonly [string, string, ...unknown[]])[]
): HTMLSelectElement {
  const node = el('select', { className, attrs: { 'aria-label': label } });
  node.style.maxWidth = '100%'; // a long display name must not widen the panel
  for (const [value, text] of options) {
    node.appendChild(el('option', { text, attrs: { value } }));
  }
  return node;
}

export class ActivityPanel extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _docId: string,
    name: string
  ) {
    super();
    this.addClass('jp-CollabDocs-activity');
    this.node.style.overflowWrap = 'anywhere'; // names may be one long word
    this.id = `jp-CollabDocs-activity-${_docId}`;
    this.title.label = 'Activity';
    this.title.closable = true;
    this._person = choices('jp-CollabDocs-activityPerson', 'Person', [
      ['', 'Everyone']
    ]);
    this._kind = choices('jp-CollabDocs-activityKind', 'Kind', KIND_CHOICES);
    this._since = choices('jp-CollabDocs-activitySince', 'Time', SINCE_CHOICES);
    for (const control of [this._person, this._kind, this._since]) {
      control.addEventListener('change', () => void this.refresh());
    }
    this._list = el('ol', {
      className: 'jp-CollabDocs-events',
      attrs: { 'aria-label': 'Activity' }
    });
    this._message = el('div', { className: 'jp-CollabDocs-message' });
    this._note = el('div', { className: 'jp-CollabDocs-activityNote' });
    this.node.append(
      el('h3', { text: `Activity of “${name}”` }),
      el(
        'div',
        { className: 'jp-CollabDocs-activityFilters' },
        this._person,
        this._kind,
        this._since,
        el('button', {
          className: 'jp-Button jp-mod-styled jp-CollabDocs-refresh',
          text: 'Refresh',
          onClick: () => void this.refresh()
        })
      ),
      this._message,
      this._list,
      this._note
    );
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const mine = ++this._latest; // only the answer to the latest choice is shown
    let page: IActivityPage;
    try {
      page = await this._client.activityPage(
        this._docId,
        activityQuery(this._person.value, this._kind.value, this._since.value)
      );
    } catch (error) {
      if (mine === this._latest) {
        this._message.textContent = (error as Error).message;
        this._message.classList.add('jp-mod-error');
      }
      return;
    }
    if (mine !== this._latest) {
      return;
    }
    this._message.textContent = '';
    this._message.classList.remove('jp-mod-error');
    this._remember(page.events);
    this._list.textContent = '';
    if (page.events.length === 0) {
      this._list.appendChild(el('li', { text: 'Nothing here.' }));
    }
    for (const event of page.events) {
      this._list.appendChild(
        el(
          'li',
          {
            className: 'jp-CollabDocs-event',
            attrs: {
              'data-kind': eventKind(event),
              'data-category': event.category ?? ''
            }
          },
          el('time', {
            className: 'jp-CollabDocs-eventTime',
            text: when(event.timestamp),
            attrs: { datetime: event.timestamp }
          }),
          ' ',
          el('span', {
            className: 'jp-CollabDocs-eventSummary',
            text: eventSentence(event),
            title: event.actor ?? ''
          })
        )
      );
    }
    this._note.textContent = page.truncated
      ? 'Only the most recent events were searched.'
      : '';
  }

  /** People seen in any answer, offered in the person filter (display name, username). */
  private _remember(events: IActivityEvent[]): void {
    for (const event of events) {
      const username = event.actor;
      if (!username || this._people.has(username)) {
        continue;
      }
      const shown = event.actor_name || username;
      this._people.add(username);
      this._person.appendChild(
        el('option', {
          text: shown === username ? shown : `${shown} (${username})`,
          attrs: { value: username }
        })
      );
    }
  }

  private _latest = 0;
  private _people = new Set<string>();
  private _person: HTMLSelectElement;
  private _kind: HTMLSelectElement;
  private _since: HTMLSelectElement;
  private _list: HTMLOListElement;
  private _message: HTMLDivElement;
  private _note: HTMLDivElement;
}
