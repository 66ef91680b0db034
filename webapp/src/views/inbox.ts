/** The inbox of mentions (docs/comments.md, "Mentions and notifications"): a button with
 * the unread count on the list page, and a panel listing who mentioned me where. Each
 * entry opens its document at the thread (`#/d/ID?thread=THREAD`, which the comments
 * panel reads with `threadFromHash`). Everything is set as text, never as markup. */

import type { Inbox, InboxNotification } from "../api";
import { clear, h, relativeTime, toast } from "../dom";
import { VisiblePoller } from "../poll";
import { type AppContext, documentHash } from "./context";

/** How often the unread count is re-read while the page is visible. */
const INBOX_POLL_MS = 15_000;

/** The link that opens a notification's document at its thread. */
export function threadHash(note: Pick<InboxNotification, "document_id" | "thread_id">): string {
  return `${documentHash(note.document_id)}?thread=${encodeURIComponent(note.thread_id)}`;
}

/** The thread a document's hash asks to show (`?thread=`), or null. */
export function threadFromHash(hash: string): string | null {
  const query = hash.split("?")[1] ?? "";
  return new URLSearchParams(query).get("thread") || null;
}

/** What the inbox button shows for `unread` mentions: its label, the badge's text (none
 * while nothing is unread) and its accessible name, which says the count in words. */
export function inboxButtonText(unread: number): { label: string; badge: string; name: string } {
  return { label: "Inbox", badge: unread > 0 ? String(unread) : "", name: `Inbox, ${unread} unread` };
}

export function inboxView(context: AppContext): { button: HTMLElement; panel: HTMLElement; destroy(): void } {
  let inbox: Inbox = { notifications: [], unread: 0 };
  let open = false;
  // The badge's bare number is hidden from assistive technology: the button's name says it.
  const count = h("span", { class: "inbox-count", attrs: { "aria-hidden": "true" } });
  const button = h(
    "button",
    {
      class: "button inbox-button",
      attrs: { type: "button", "aria-expanded": "false", "aria-controls": "inbox-panel" },
      on: { click: () => toggle() },
    },
    h("span", { class: "inbox-label", text: inboxButtonText(0).label }),
    count,
  );
  const list = h("ul", { class: "inbox-items", attrs: { "aria-label": "Mentions" } });
  const markAll = h("button", {
    class: "button small",
    text: "Mark all read",
    attrs: { type: "button" },
    on: { click: () => void markRead(null) },
  });
  const panel = h(
    "section",
    { class: "inbox-panel", attrs: { id: "inbox-panel", "aria-label": "Inbox", hidden: true } },
    h("div", { class: "inbox-header" }, h("h2", { text: "Inbox" }), markAll),
    list,
  );

  function renderCount(): void {
    const text = inboxButtonText(inbox.unread);
    count.textContent = text.badge;
    count.hidden = text.badge === "";
    button.setAttribute("aria-label", text.name);
    button.title = text.name;
    button.classList.toggle("has-unread", inbox.unread > 0);
  }

  /** One row (styles.css): who and where, then when, on the first line; the excerpt under
   * them. Unread rows are marked by their class, and in words for assistive technology. */
  function item(note: InboxNotification): HTMLElement {
    return h(
      "li",
      { class: note.read ? "inbox-item" : "inbox-item unread", dataset: { id: note.id } },
      h(
        "a",
        {
          class: "inbox-link",
          attrs: { href: threadHash(note) },
          on: { click: () => void markRead(note.id, true) },
        },
        note.read ? null : h("span", { class: "inbox-unread-label", text: "Unread: " }),
        h("span", { class: "inbox-who", text: note.author_name || note.author }),
        " mentioned you in ",
        h("span", { class: "inbox-doc", text: note.document_name }),
      ),
      h("time", {
        class: "inbox-time muted",
        text: relativeTime(note.created),
        attrs: { datetime: note.created, title: new Date(note.created).toLocaleString() },
      }),
      h("p", { class: "inbox-excerpt", text: note.excerpt }),
    );
  }

  function render(): void {
    renderCount();
    clear(list);
    markAll.hidden = inbox.unread === 0;
    if (inbox.notifications.length === 0) {
      list.appendChild(h("li", { class: "empty muted", text: "Nobody has mentioned you yet." }));
      return;
    }
    for (const note of inbox.notifications) list.appendChild(item(note));
  }

  function toggle(): void {
    open = !open;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) void refresh().catch(() => undefined);
  }

  async function markRead(id: string | null, quiet = false): Promise<void> {
    try {
      const { unread } = await context.api.markRead(id);
      inbox = {
        unread,
        notifications: inbox.notifications.map((n) => (id === null || n.id === id ? { ...n, read: true } : n)),
      };
      render();
    } catch (failure) {
      if (!quiet) toast(failure instanceof Error ? failure.message : "Could not mark as read.", "error");
    }
  }

  async function refresh(): Promise<void> {
    const fresh = await context.api.inbox(); // throws: the poller backs off
    if (JSON.stringify(fresh) === JSON.stringify(inbox)) return;
    inbox = fresh;
    render();
  }

  render();
  const poller = new VisiblePoller(refresh, { intervalMs: INBOX_POLL_MS });
  void refresh().catch(() => undefined);
  return { button, panel, destroy: () => poller.stop() };
}
