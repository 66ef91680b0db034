/** A document's page: header (name, role, connection, collaborators, share) and editor. */

import { EditorView } from "@codemirror/view";

import { ApiError, canWrite, type DocumentModel } from "../api";
import { roomsUrl } from "../config";
import { type ConnectionState, describeState } from "../connection";
import { clear, h, promptDialog, toast } from "../dom";
import { type BoundEditor, createEditor, languageFor } from "../editor";
import { Room } from "../room";
import type { AppContext } from "./context";
import { roleLabel } from "./list";
import { NotebookView } from "./notebook";
import { VisiblePoller } from "../poll";
import { openShareDialog } from "./share";
import { downloadDocument } from "../download";
import { openHistory } from "./history";
import { canReadActivity, openActivityDialog } from "./activity";
import { type FollowTarget, PresenceView } from "./presence";
import { DocumentComments } from "../comments/document";

/** How often an open document re-reads its name (one small GET, only while visible). */
const DOCUMENT_POLL_MS = 10_000;

export function documentView(context: AppContext, docId: string): { element: HTMLElement; destroy(): void } {
  const link = context.session.linkFor(docId);
  const title = h("h1", { class: "doc-heading", text: "…" });
  const renameButton = h("button", { class: "button small", text: "Rename", attrs: { type: "button" } });
  renameButton.hidden = true;
  const roleBadge = h("span", { class: "role" });
  const status = h("span", { class: "status", attrs: { role: "status", "aria-live": "polite" } });
  // Who is here and where; following one of them (views/presence.ts).
  const presence = new PresenceView(context.me);
  const people = presence.element;
  const shareButton = h("button", { class: "button primary", text: "Share", attrs: { type: "button" } });
  shareButton.hidden = true;
  const activityButton = h("button", { class: "button", text: "Activity", attrs: { type: "button" } });
  activityButton.hidden = true;
  const banner = h("div", { class: "banner", attrs: { role: "alert" } });
  banner.hidden = true;
  const surface = h("div", { class: "doc-surface" });

  let model: DocumentModel | null = null;
  let room: Room | null = null;
  let textEditor: BoundEditor | null = null;
  let notebook: NotebookView | null = null;
  let comments: DocumentComments | null = null;
  // The Comments button of the open document (comments/document.ts).
  const commentsSlot = h("span", { class: "comments-slot" });
  let destroyed = false;

  function showState(state: ConnectionState): void {
    const { label, detail, tone } = describeState(state);
    status.textContent = label;
    status.title = detail;
    status.className = `status status-${tone}`;
    status.dataset.state = state.kind;
    const terminal = state.kind === "deleted" || state.kind === "not-found";
    banner.hidden = !terminal;
    banner.textContent = terminal ? detail : "";
    if (terminal) {
      shareButton.hidden = true;
      activityButton.hidden = true;
      renameButton.hidden = true;
      textEditor?.setReadOnly(true);
      notebook?.setReadOnly(true);
      presence.detach();
    }
    if (state.kind === "signed-out") context.signOut("Your sign-in is no longer valid: sign in again.");
  }

  function renderHeader(doc: DocumentModel): void {
    title.textContent = doc.name;
    document.title = `${doc.name} · Collab Docs`;
    roleBadge.textContent = canWrite(doc.role) ? roleLabel(doc.role) : `${roleLabel(doc.role)} · read-only`;
    roleBadge.className = `role role-${doc.role}`;
    renameButton.hidden = !canWrite(doc.role);
    shareButton.hidden = false;
    activityButton.hidden = !canReadActivity(doc, context.me);
  }

  /** What following a collaborator moves: the notebook's cell, or the text's cursor. */
  function followTarget(): FollowTarget {
    return {
      element: surface,
      reveal(where, color) {
        if (notebook) notebook.revealCell(where.cell, color);
        else if (textEditor && where.head) {
          const view = textEditor.view;
          const at = Math.min(where.head.index, view.state.doc.length);
          view.dispatch({ effects: EditorView.scrollIntoView(at, { y: "nearest", yMargin: 80 }) });
        }
      },
      unmark() {
        notebook?.revealCell(null, "");
      },
    };
  }

  function teardown(): void {
    presence.detach();
    textEditor?.destroy();
    textEditor = null;
    notebook?.destroy();
    notebook = null;
    comments?.destroy();
    comments = null;
    clear(commentsSlot);
    room?.destroy();
    room = null;
    clear(surface);
  }

  async function open(): Promise<void> {
    teardown();
    try {
      model = await context.api.getDocument(docId, link);
    } catch (failure) {
      if (failure instanceof ApiError && failure.unauthenticated) return;
      const notFound = failure instanceof ApiError && failure.status === 404;
      showState(notFound ? { kind: "not-found" } : { kind: "closed" });
      banner.textContent = notFound ? describeState({ kind: "not-found" }).detail : failure instanceof Error ? failure.message : "Could not open.";
      banner.hidden = false;
      title.textContent = notFound ? "Not available" : "Could not open the document";
      return;
    }
    if (destroyed) return;
    renderHeader(model);
    const readOnly = !canWrite(model.role);
    const docComments = new DocumentComments(context, docId, link, model.role, element);
    comments = docComments;
    room = new Room({
      roomsUrl: roomsUrl(context.config.baseUrl, location),
      docId,
      auth: context.auth,
      link,
      readOnly,
      me: context.me,
      onAccessChanged: () => {
        // The socket was closed because this user's access changed: re-read the role
        // and reconnect with it (a fresh doc, so no edit made without the right is kept).
        setTimeout(() => void open(), 300);
      },
      onCommentEvent: (json) => docComments.onEvent(json),
    });
    room.onState(showState);
    docComments.attach(room, { textView: () => textEditor?.view ?? null, notebook: () => notebook });
    commentsSlot.appendChild(docComments.element);
    downloadButton.hidden = false;
    if (model.type === "notebook") {
      notebook = new NotebookView(room.doc, room.awareness, readOnly);
      notebook.comments = docComments.notebookHooks();
      surface.appendChild(notebook.element);
    } else {
      const host = h("div", { class: "text-editor" });
      surface.appendChild(host);
      textEditor = createEditor({
        parent: host,
        text: room.doc.getText("source"),
        awareness: room.awareness,
        readOnly,
        language: languageFor(model.name),
        lineNumbers: true,
        label: "Document text",
        extensions: docComments.textExtension(room.doc.getText("source")),
      });
    }
    presence.attach(room.awareness, room.doc, followTarget());
    surface.dataset.type = model.type;
    surface.dataset.readonly = String(readOnly);
  }

  renameButton.addEventListener("click", async () => {
    if (!model) return;
    const name = await promptDialog("Rename", "Name", model.name, "Rename");
    if (!name || name === model.name) return;
    try {
      model = { ...model, ...(await context.api.renameDocument(docId, name, link)) };
      renderHeader(model);
    } catch (failure) {
      toast(failure instanceof Error ? failure.message : "Could not rename.", "error");
    }
  });
  activityButton.addEventListener("click", () => {
    if (model) openActivityDialog(context, model, link);
  });
  shareButton.addEventListener("click", () => {
    if (model) openShareDialog(context, model, link);
  });
  // Download: the server's file, or, once the document is deleted, what this page holds.
  const downloadButton = h("button", { class: "button download-button", text: "Download", attrs: { type: "button", title: "Download as a file (.ipynb or text)" } });
  downloadButton.hidden = true;
  downloadButton.addEventListener("click", () => {
    if (!model || !room) return;
    const deleted = status.dataset.state === "deleted";
    downloadDocument(context.api, model, room.doc, { link, deleted }).catch(() => toast("Could not download.", "error"));
  });
  const historyButton = h("button", { class: "button history-button", text: "History", attrs: { type: "button" } });
  historyButton.addEventListener("click", () => {
    if (model) openHistory(context, model, link);
  });

  const element = h(
    "main",
    { class: "page doc-page" },
    h(
      "div",
      { class: "doc-header" },
      h("a", { class: "back", text: "← Documents", attrs: { href: "#/" } }),
      h("div", { class: "doc-title-row" }, title, renameButton, roleBadge),
      h("div", { class: "doc-header-end" }, status, people, commentsSlot, activityButton, historyButton, downloadButton, shareButton),
    ),
    banner,
    surface,
  );
  void open();
  // A rename elsewhere (another user, JupyterLab) has no signal in the room: re-read the
  // document's model while the page is visible. Access changes and deletion come as
  // close codes on the room already.
  const poller = new VisiblePoller(async () => {
    if (!model || !room) return;
    const fresh = await context.api.getDocument(docId, link);
    if (destroyed || !model) return;
    if (fresh.name !== model.name) {
      model = { ...model, name: fresh.name, modified: fresh.modified };
      renderHeader(model);
    }
  }, { intervalMs: DOCUMENT_POLL_MS });
  return {
    element,
    destroy() {
      destroyed = true;
      poller.stop();
      teardown();
    },
  };
}
