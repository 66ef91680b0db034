/**
 * The activity dialog (owners and administrators): the document's events as sentences,
 * newest first, stamped in the reader's locale, filtered by person, kind and time.
 * Sentences and names come from the server and are set as text only.
 */

import { type ActivityEvent, type ActivityQuery, ApiError, type DocumentModel, type Me } from "../api";
import { clear, h, openDialog } from "../dom";
import type { AppContext } from "./context";

/** The server's filter categories (docs/audit.md), as a reader names them. */
export const KIND_CHOICES: readonly [string, string][] = [
  ["", "Everything"],
  ["editing", "Edits and sessions"],
  ["sharing", "Sharing"],
  ["versions", "Versions"],
  ["lifecycle", "Created, renamed, deleted"],
  ["comments", "Comments"],
  ["access", "Refused access"],
];

const SINCE_CHOICES: readonly [string, string, number][] = [
  ["", "Any time", 0],
  ["hour", "Last hour", 3_600_000],
  ["day", "Last 24 hours", 86_400_000],
  ["week", "Last 7 days", 7 * 86_400_000],
];

const FEED_LIMIT = 200;

/** Whether the feed is offered: owners and administrators may read it. */
export function canReadActivity(doc: DocumentModel, me: Me): boolean {
  return doc.role === "owner" || me.is_admin;
}

/** The query of the chosen filters; `since` relative to `now`. */
export function activityQuery(person: string, kind: string, since: string, now: Date = new Date()): ActivityQuery {
  const query: ActivityQuery = { limit: FEED_LIMIT };
  if (person) query.actor = person;
  if (kind) query.kind = kind;
  const span = SINCE_CHOICES.find(([value]) => value === since)?.[2] ?? 0;
  if (span) query.since = new Date(now.getTime() - span).toISOString();
  return query;
}

function select(className: string, label: string, choices: readonly (readonly [string, string, ...unknown[]])[]): HTMLSelectElement {
  const element = h("select", { class: className, attrs: { "aria-label": label } });
  for (const [value, text] of choices) element.appendChild(h("option", { text, attrs: { value } }));
  return element;
}

export function openActivityDialog(context: AppContext, doc: DocumentModel, link: string | null = null): void {
  const person = select("activity-person", "Person", [["", "Everyone"]]);
  const kind = select("activity-kind", "Kind", KIND_CHOICES);
  const since = select("activity-since", "Time", SINCE_CHOICES);
  const list = h("ol", { class: "activity-list", attrs: { "aria-label": "Activity", "aria-live": "polite" } });
  const note = h("p", { class: "muted activity-note" });
  const status = h("p", { class: "form-error", attrs: { role: "alert" } });
  status.hidden = true;
  const people = new Map<string, string>(); // username -> display name, from every answer
  let latest = 0;

  function renderPeople(): void {
    const chosen = person.value;
    for (const [username, shown] of [...people].sort((a, b) => a[1].localeCompare(b[1]))) {
      if (person.querySelector(`option[value="${CSS.escape(username)}"]`)) continue;
      person.appendChild(h("option", { text: shown === username ? shown : `${shown} (${username})`, attrs: { value: username } }));
    }
    person.value = chosen;
  }

  function render(events: ActivityEvent[], truncated: boolean): void {
    clear(list);
    for (const event of events) {
      list.appendChild(
        h(
          "li",
          { class: "activity-event", dataset: { kind: event.kind, category: event.category } },
          h("time", {
            class: "activity-time",
            text: new Date(event.timestamp).toLocaleString(),
            attrs: { datetime: event.timestamp },
          }),
          h("span", { class: "activity-summary", text: event.summary, title: event.actor ?? "" }),
        ),
      );
    }
    if (events.length === 0) list.appendChild(h("li", { class: "muted activity-empty", text: "Nothing here." }));
    note.textContent = truncated ? "Only the most recent events were searched." : "";
  }

  async function load(): Promise<void> {
    const mine = ++latest; // only the answer to the latest choice is shown
    try {
      const page = await context.api.activity(doc.id, activityQuery(person.value, kind.value, since.value), link);
      if (mine !== latest) return;
      for (const event of page.events) {
        if (event.actor) people.set(event.actor, event.actor_name || event.actor);
      }
      renderPeople();
      status.hidden = true;
      render(page.events, page.truncated);
    } catch (failure) {
      if (mine !== latest) return;
      if (failure instanceof ApiError && failure.unauthenticated) return;
      status.textContent = failure instanceof Error ? failure.message : "Could not read the activity.";
      status.hidden = false;
    }
  }

  for (const control of [person, kind, since]) control.addEventListener("change", () => void load());
  const refresh = h("button", { class: "button small", text: "Refresh", attrs: { type: "button" }, on: { click: () => void load() } });
  const body = h(
    "div",
    { class: "dialog-body activity-feed" },
    h("div", { class: "activity-filters" }, person, kind, since, refresh),
    status,
    list,
    note,
  );
  openDialog(`Activity of “${doc.name}”`, body, { wide: true });
  void load();
}
