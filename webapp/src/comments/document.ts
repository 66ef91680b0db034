/**
 * Comments on an open document (views/document.ts): the store, the side panel, the
 * header's Comments button, markers for the text editor and the notebook's cells, and
 * the live events of the room (`?comments=1`). The list is read again after every
 * (re)connection, since live delivery is at most once (docs/comments.md, "Live").
 */

import type { Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import type * as Y from "yjs";

import type { Role } from "../api";
import { h, toast } from "../dom";
import type { Room } from "../room";
import type { AppContext } from "../views/context";
import type { NotebookView } from "../views/notebook";
import { openShareDialog } from "../views/share";
import { notebookComments, type NotebookComments } from "./cells";
import { CommentsClient } from "./client";
import { commentMarks } from "./marks";
import { canComment, decodeCommentEvent, type Thread } from "./model";
import { CommentsPanel, type MentionHooks } from "./panel";
import { CommentsStore } from "./store";

export interface CommentSurfaces {
  textView(): EditorView | null;
  notebook(): NotebookView | null;
}

export class DocumentComments {
  /** The header's controls: Comments (the panel) and Comment on the selection. */
  readonly element: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly commentSelection: HTMLButtonElement;
  private readonly suggestSelection: HTMLButtonElement;
  private readonly suggestMode: HTMLButtonElement;
  private store: CommentsStore | null = null;
  private panel: CommentsPanel | null = null;
  private stops: Array<() => void> = [];

  constructor(
    private readonly context: AppContext,
    private readonly docId: string,
    private readonly link: string | null,
    private readonly role: Role,
    private readonly page: HTMLElement,
  ) {
    this.button = h("button", { class: "button comments-button", text: "Comments", attrs: { type: "button", "aria-expanded": "false" } });
    this.button.addEventListener("click", () => this.panel?.toggle());
    this.commentSelection = h("button", { class: "button primary comment-selection", text: "Comment", title: "Comment on the selected text", attrs: { type: "button" } });
    this.commentSelection.hidden = true;
    // mousedown would move the focus, and with it nothing: the selection stays the target.
    this.commentSelection.addEventListener("click", () => this.panel?.startComment());
    this.suggestSelection = h("button", { class: "button primary suggest-selection", text: "Suggest a change", title: "Suggest new text for the selection", attrs: { type: "button" } });
    this.suggestSelection.hidden = true;
    this.suggestSelection.addEventListener("click", () => this.panel?.startSuggestion());
    // Editors and owners may choose to suggest; commenters always do (no switch).
    this.suggestMode = h("button", { class: "button suggest-mode", text: "Suggest", title: "Suggest changes instead of making them", attrs: { type: "button", "aria-pressed": "false" } });
    this.suggestMode.hidden = role !== "editor" && role !== "owner";
    this.suggestMode.addEventListener("click", () => this.store?.setSuggesting(!this.store.suggesting));
    this.element = h("span", { class: "comments-controls" }, this.commentSelection, this.suggestSelection, this.suggestMode, this.button);
  }

  /** A comment event frame from the room. */
  onEvent(json: string): void {
    const event = decodeCommentEvent(json);
    if (event) this.store?.apply(event);
  }

  attach(room: Room, surfaces: CommentSurfaces): void {
    const client = new CommentsClient(this.context.api, this.docId, this.link);
    const store = new CommentsStore(client, room.doc, this.context.me, this.role, room.awareness);
    this.store = store;
    const panel = new CommentsPanel(
      store,
      (thread) => this.reveal(thread, room.doc, surfaces),
      (shown) => {
        this.button.setAttribute("aria-expanded", String(shown));
        this.page.classList.toggle("with-comments", shown);
      },
      this.mentionHooks(),
    );
    this.panel = panel;
    this.page.appendChild(panel.element);
    this.stops.push(
      store.subscribe(() => {
        const open = store.threads.filter((t) => !t.resolved).length;
        this.button.textContent = open ? `Comments (${open})` : "Comments";
        const onRange = canComment(this.role) && store.target?.kind === "range";
        this.commentSelection.hidden = !onRange;
        this.suggestSelection.hidden = !(onRange && store.suggesting);
        this.suggestMode.setAttribute("aria-pressed", String(store.suggesting));
      }),
      room.onState((state) => {
        if (state.kind !== "connected") return;
        store.refresh().catch((failure) => toast(failure instanceof Error ? failure.message : "Could not read the comments.", "error"));
      }),
    );
  }

  textExtension(text: Y.Text): Extension {
    return this.store ? commentMarks(this.store, text, null) : [];
  }

  notebookHooks(): NotebookComments | null {
    return this.store && this.panel ? notebookComments(
          this.store,
          () => this.panel?.startComment(),
          () => this.panel?.startSuggestion(),
        ) : null;
  }

  private mentionHooks(): MentionHooks {
    const { api } = this.context;
    return {
      readers: (query) => api.readers(this.docId, query, this.link),
      // The share dialog wants the document as it is now (its role may have changed).
      share: () => {
        api
          .getDocument(this.docId, this.link)
          .then((model) => openShareDialog(this.context, model, this.link))
          .catch((failure) => toast(failure instanceof Error ? failure.message : "Could not open sharing.", "error"));
      },
    };
  }

  private reveal(thread: Thread, doc: Y.Doc, surfaces: CommentSurfaces): void {
    const store = this.store;
    if (!store) return;
    const anchor = thread.anchor;
    if (anchor.kind === "text") {
      const view = surfaces.textView();
      const where = store.rangeIn(thread, doc.getText("source"));
      if (view && where && where.to <= view.state.doc.length) {
        view.dispatch({ effects: EditorView.scrollIntoView(where.from, { y: "center" }) });
      }
      return;
    }
    surfaces.notebook()?.revealCell(anchor.cell_id, "var(--comment-mark, #e2b100)");
  }

  destroy(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
    this.panel?.destroy();
    this.store?.destroy();
    this.page.classList.remove("with-comments");
    this.panel = null;
    this.store = null;
  }
}
