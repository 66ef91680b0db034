/** The document list: mine and shared with me, search, create, rename, delete, share;
 * and the trash of my deleted documents (restore, delete forever). */

import { ApiError, canShare, canWrite, type DocType, type DocumentModel, type TrashedDocument } from "../api";
import { clear, confirmDialog, h, promptDialog, relativeTime, toast } from "../dom";
import { type AppContext, documentHash } from "./context";
import { VisiblePoller } from "../poll";
import { openShareDialog } from "./share";
import { inboxView } from "./inbox";

/** How often an open list re-reads the documents (one small GET, only while visible). */
const LIST_POLL_MS = 10_000;

type Filter = "all" | "mine" | "shared" | "trash";

const ROLE_LABELS: Record<string, string> = { owner: "Owner", editor: "Editor", commenter: "Commenter", viewer: "Viewer" };

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}

export function typeLabel(type: DocType): string {
  return type === "notebook" ? "Notebook" : "Text";
}

/** Documents matching a filter and a search, most recently modified first. */
export function filterDocuments(documents: DocumentModel[], username: string, filter: Filter, search: string): DocumentModel[] {
  const needle = search.trim().toLowerCase();
  return documents
    .filter((doc) => (filter === "mine" ? doc.owner === username : filter === "shared" ? doc.owner !== username : true))
    .filter((doc) => !needle || doc.name.toLowerCase().includes(needle))
    .sort((a, b) => (a.modified < b.modified ? 1 : a.modified > b.modified ? -1 : 0));
}

export function listView(context: AppContext): { element: HTMLElement; destroy(): void } {
  let documents: DocumentModel[] = [];
  let trash: TrashedDocument[] = [];
  let filter: Filter = "all";
  let loaded = false;
  let error: string | null = null;

  const search = h("input", {
    class: "search",
    attrs: { type: "search", placeholder: "Search documents", "aria-label": "Search documents" },
  });
  const tabs = h("div", { class: "tabs", attrs: { role: "tablist" } });
  const body = h("div", { class: "doc-list" });

  const create = async (type: DocType): Promise<void> => {
    const name = await promptDialog(
      type === "notebook" ? "New notebook" : "New text document",
      "Name",
      type === "notebook" ? "Untitled notebook" : "Untitled document",
      "Create",
    );
    if (!name) return;
    try {
      const doc = await context.api.createDocument(name, type);
      context.navigate(documentHash(doc.id));
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not create the document.", "error");
    }
  };

  const rename = async (doc: DocumentModel): Promise<void> => {
    const name = await promptDialog("Rename", "Name", doc.name, "Rename");
    if (!name || name === doc.name) return;
    try {
      const updated = await context.api.renameDocument(doc.id, name);
      documents = documents.map((d) => (d.id === doc.id ? { ...d, ...updated } : d));
      render();
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not rename.", "error");
    }
  };

  const remove = async (doc: DocumentModel): Promise<void> => {
    const ok = await confirmDialog(
      "Delete document",
      `Delete “${doc.name}” for everyone it is shared with? It goes to your trash, where you can restore it until it is purged.`,
      "Delete",
    );
    if (!ok) return;
    try {
      await context.api.deleteDocument(doc.id);
      documents = documents.filter((d) => d.id !== doc.id);
      render();
      toast(`Moved “${doc.name}” to the trash.`);
      trash = await context.api.listTrash();
      render();
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not delete.", "error");
    }
  };

  const restore = async (doc: TrashedDocument): Promise<void> => {
    try {
      const restored = await context.api.restoreDocument(doc.id);
      trash = trash.filter((d) => d.id !== doc.id);
      documents = [restored, ...documents.filter((d) => d.id !== doc.id)];
      render();
      toast(`Restored “${doc.name}”.`);
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not restore.", "error");
    }
  };

  const purge = async (doc: TrashedDocument): Promise<void> => {
    const ok = await confirmDialog(
      "Delete forever",
      `Delete “${doc.name}” forever, with its history and versions? This cannot be undone.`,
      "Delete forever",
    );
    if (!ok) return;
    try {
      await context.api.purgeDocument(doc.id);
      trash = trash.filter((d) => d.id !== doc.id);
      render();
      toast(`Deleted “${doc.name}” forever.`);
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not delete.", "error");
    }
  };

  function renderTabs(): void {
    clear(tabs);
    const counts: Record<Filter, number> = {
      all: documents.length,
      mine: documents.filter((d) => d.owner === context.me.username).length,
      shared: documents.filter((d) => d.owner !== context.me.username).length,
      trash: trash.length,
    };
    const labels: Record<Filter, string> = { all: "All", mine: "Owned by me", shared: "Shared with me", trash: "Trash" };
    for (const key of ["all", "mine", "shared", "trash"] as Filter[]) {
      tabs.appendChild(
        h(
          "button",
          {
            class: key === filter ? "tab active" : "tab",
            attrs: { type: "button", role: "tab", "aria-selected": String(key === filter) },
            on: {
              click: () => {
                filter = key;
                render();
              },
            },
          },
          labels[key],
          h("span", { class: "count", text: String(counts[key]) }),
        ),
      );
    }
  }

  function row(doc: DocumentModel): HTMLElement {
    const mine = doc.owner === context.me.username;
    const actions = h("div", { class: "row-actions" });
    if (canShare(doc.role) || doc.role) {
      actions.appendChild(
        h("button", {
          class: "button small",
          text: "Share",
          attrs: { type: "button", "aria-label": `Share ${doc.name}` },
          on: { click: () => openShareDialog(context, doc) },
        }),
      );
    }
    if (canWrite(doc.role)) {
      actions.appendChild(
        h("button", { class: "button small", text: "Rename", attrs: { type: "button", "aria-label": `Rename ${doc.name}` }, on: { click: () => void rename(doc) } }),
      );
    }
    if (doc.role === "owner") {
      actions.appendChild(
        h("button", { class: "button small danger-text", text: "Delete", attrs: { type: "button", "aria-label": `Delete ${doc.name}` }, on: { click: () => void remove(doc) } }),
      );
    }
    return h(
      "li",
      { class: "doc-row", dataset: { id: doc.id } },
      h("span", { class: `doc-icon doc-icon-${doc.type}`, text: doc.type === "notebook" ? "NB" : "TXT", title: typeLabel(doc.type) }),
      h(
        "a",
        { class: "doc-name", attrs: { href: documentHash(doc.id) } },
        h("span", { class: "doc-title", text: doc.name }),
        h("span", { class: "doc-meta muted", text: `${typeLabel(doc.type)} · ${mine ? "owned by you" : `owned by ${doc.owner}`}` }),
      ),
      h("span", { class: `role role-${doc.role}`, text: roleLabel(doc.role) }),
      h("time", { class: "doc-modified muted", text: relativeTime(doc.modified), title: new Date(doc.modified).toLocaleString(), attrs: { datetime: doc.modified } }),
      actions,
    );
  }

  /** A row of the trash: when it was deleted, when it goes for good; restore, purge. */
  function trashRow(doc: TrashedDocument): HTMLElement {
    const owner = doc.owner === context.me.username ? "" : ` · owned by ${doc.owner}`;
    const purged = new Date(doc.purge_after);
    return h(
      "li",
      { class: "doc-row trash-row", dataset: { id: doc.id } },
      h("span", { class: `doc-icon doc-icon-${doc.type}`, text: doc.type === "notebook" ? "NB" : "TXT", title: typeLabel(doc.type) }),
      h(
        "span",
        { class: "doc-name" },
        h("span", { class: "doc-title", text: doc.name }),
        h("span", { class: "doc-meta muted", text: `${typeLabel(doc.type)}${owner} · deleted ${relativeTime(doc.trashed)} · purged on ${purged.toLocaleDateString()}` }),
      ),
      h(
        "div",
        { class: "row-actions" },
        h("button", { class: "button small", text: "Restore", attrs: { type: "button", "aria-label": `Restore ${doc.name}` }, on: { click: () => void restore(doc) } }),
        h("button", { class: "button small danger-text", text: "Delete forever", attrs: { type: "button", "aria-label": `Delete ${doc.name} forever` }, on: { click: () => void purge(doc) } }),
      ),
    );
  }

  function renderTrash(): void {
    const needle = search.value.trim().toLowerCase();
    const shown = trash.filter((doc) => !needle || doc.name.toLowerCase().includes(needle));
    if (shown.length === 0) {
      body.appendChild(h("div", { class: "empty muted", text: needle ? "No deleted document matches your search." : "The trash is empty." }));
      return;
    }
    body.appendChild(h("p", { class: "trash-note muted", text: "Deleted documents stay here, closed to everyone, until they are purged." }));
    body.appendChild(h("ul", { class: "doc-rows", attrs: { "aria-label": "Trash" } }, ...shown.map(trashRow)));
  }

  function render(): void {
    renderTabs();
    clear(body);
    if (error) {
      body.appendChild(
        h("div", { class: "empty" }, h("p", { text: error }), h("button", { class: "button", text: "Try again", attrs: { type: "button" }, on: { click: () => void load() } })),
      );
      return;
    }
    if (!loaded) {
      body.appendChild(h("div", { class: "empty muted", text: "Loading documents…" }));
      return;
    }
    if (filter === "trash") return renderTrash();
    const shown = filterDocuments(documents, context.me.username, filter, search.value);
    if (shown.length === 0) {
      body.appendChild(
        h("div", {
          class: "empty muted",
          text: search.value.trim()
            ? "No document matches your search."
            : filter === "shared"
              ? "Nothing is shared with you yet."
              : "No documents yet: create a notebook or a text document.",
        }),
      );
      return;
    }
    body.appendChild(h("ul", { class: "doc-rows", attrs: { "aria-label": "Documents" } }, ...shown.map(row)));
  }

  async function load(): Promise<void> {
    error = null;
    try {
      [documents, trash] = await Promise.all([context.api.listDocuments(), context.api.listTrash()]);
      loaded = true;
    } catch (failure) {
      if (failure instanceof ApiError && failure.unauthenticated) return;
      error = failure instanceof Error ? failure.message : "Could not load the documents.";
    }
    render();
  }

  /** A background re-read: redraws only what changed; a failure keeps the list shown. */
  async function refresh(): Promise<void> {
    if (!loaded) return load();
    // throws: the poller backs off
    const [fresh, freshTrash] = await Promise.all([context.api.listDocuments(), context.api.listTrash()]);
    if (JSON.stringify([fresh, freshTrash]) === JSON.stringify([documents, trash])) return;
    documents = fresh;
    trash = freshTrash;
    render();
  }

  search.addEventListener("input", render);
  const inbox = inboxView(context); // mentions: a button with the unread count, a panel
  const element = h(
    "main",
    { class: "page list-page" },
    h(
      "div",
      { class: "list-header" },
      h("h1", { text: "Documents" }),
      h(
        "div",
        { class: "list-actions" },
        h("button", { class: "button primary", text: "New notebook", attrs: { type: "button" }, on: { click: () => void create("notebook") } }),
        h("button", { class: "button primary", text: "New text document", attrs: { type: "button" }, on: { click: () => void create("file") } }),
        inbox.button,
      ),
    ),
    inbox.panel,
    h("div", { class: "list-toolbar" }, tabs, search),
    body,
  );
  render();
  void load();
  // Renames, new shares and deletions by others: re-read while the page is visible.
  const poller = new VisiblePoller(refresh, { intervalMs: LIST_POLL_MS });
  return {
    element,
    destroy: () => {
      poller.stop();
      inbox.destroy();
    },
  };
}
