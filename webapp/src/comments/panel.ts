/**
 * The comments side panel: the document's threads with filters (open, resolved, mine,
 * mentioning me), each with its quote ("detached" once its text is gone), its comments,
 * replies, edit and delete of one's own comments, resolve and reopen where the role
 * allows; suggestions (a diff, their status, Accept / Reject / Withdraw) and the composer's
 * suggest mode. Viewers read. Everything people wrote is set as text, never parsed as HTML.
 */

import { ApiError } from "../api";
import { clear, confirmDialog, h, relativeTime, toast } from "../dom";
import { canComment, canDelete, canResolve, filterThreads, type Thread, type ThreadComment, type ThreadFilter } from "./model";
import type { CommentsStore } from "./store";
import { canDecide, canWithdraw, currentApplies, diffSuggestion, suggestionStatus } from "./suggestions";
import { MentionBox, type ReaderLookup } from "./mentionbox";
import { type MentionNotifications, mentionNotice } from "./mentions";

/** @-completion and the Share… offer after a mention of someone who cannot read. */
export interface MentionHooks {
  readers: ReaderLookup;
  share: () => void;
}

const QUOTE_SHOWN = 160;

function failed(failure: unknown, fallback: string): void {
  toast(failure instanceof Error ? failure.message : fallback, "error");
}

export class CommentsPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly composer: HTMLFormElement;
  private readonly targetLine: HTMLElement;
  private readonly newBody: HTMLTextAreaElement;
  private readonly submit: HTMLButtonElement;
  private readonly readOnlyNote: HTMLElement;
  private readonly suggestRow: HTMLElement;
  private readonly suggestField: HTMLTextAreaElement;
  private readonly cancelSuggestion: HTMLButtonElement;
  /** What the composer makes: a comment, or a suggestion (with a comment). */
  private composing: "comment" | "suggest" = "comment";
  /** A new thread is on its way to the server: one at a time. */
  private creating = false;
  /** The last refused decision of a thread (a 409 shown in it), by thread id. */
  private refusals = new Map<string, string>();
  private filter: ThreadFilter = { status: "open", mine: false, mentioningMe: false };
  /** Unsent text of replies and edits, by field, kept across redraws. */
  private drafts = new Map<string, string>();
  private editing: string | null = null;
  private signature = "";
  /** What the last comment's mentions told, by thread id, until dismissed. */
  private mentionOutcomes = new Map<string, MentionNotifications>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly store: CommentsStore,
    private readonly reveal: (thread: Thread) => void,
    private readonly onVisibility: (shown: boolean) => void = () => undefined,
    private readonly mentions: MentionHooks | null = null,
  ) {
    const close = h("button", { class: "icon-button", text: "×", title: "Close comments", attrs: { type: "button", "aria-label": "Close comments" } });
    close.addEventListener("click", () => this.hide());
    const status = h(
      "select",
      { class: "comments-status", attrs: { "aria-label": "Show threads" } },
      h("option", { text: "Open", attrs: { value: "open" } }),
      h("option", { text: "Resolved", attrs: { value: "resolved" } }),
      h("option", { text: "All", attrs: { value: "all" } }),
    );
    status.addEventListener("change", () => {
      this.filter = { ...this.filter, status: status.value as ThreadFilter["status"] };
      this.render();
    });
    const checkbox = (label: string, key: "mine" | "mentioningMe"): HTMLElement => {
      const input = h("input", { attrs: { type: "checkbox", "aria-label": label } });
      input.addEventListener("change", () => {
        this.filter = { ...this.filter, [key]: input.checked };
        this.render();
      });
      return h("label", { class: "comments-check" }, input, h("span", { text: label }));
    };
    this.targetLine = h("p", { class: "comments-target" });
    this.newBody = h("textarea", { class: "comment-input", attrs: { "aria-label": "New comment", rows: "3", placeholder: "Comment… (@name to mention)" } });
    this.submit = h("button", { class: "button primary small", text: "Comment", attrs: { type: "submit" } });
    this.suggestField = h("textarea", { class: "comment-input suggestion-input", attrs: { "aria-label": "Suggested text", rows: "3" } });
    const cancelSuggestion = h("button", { class: "button small suggestion-cancel", text: "Cancel", attrs: { type: "button" } });
    this.cancelSuggestion = cancelSuggestion;
    cancelSuggestion.addEventListener("click", () => {
      this.composing = "comment";
      this.renderComposer();
    });
    this.suggestRow = h("div", { class: "suggestion-compose" }, h("label", { class: "suggestion-compose-label", text: "Replace it with:" }), this.suggestField);
    this.composer = h(
      "form",
      { class: "comments-new" },
      this.targetLine,
      this.suggestRow,
      this.withMentions(this.newBody),
      h("div", { class: "comment-form-actions" }, cancelSuggestion, this.submit),
    );
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.createThread();
    });
    this.readOnlyNote = h("p", { class: "comments-note", text: "You can read the comments; your role does not allow commenting." });
    this.list = h("ul", { class: "comments-list" });
    this.element = h(
      "aside",
      { class: "comments-panel", attrs: { "aria-label": "Comments" } },
      h("header", { class: "comments-header" }, h("h2", { text: "Comments" }), close),
      h("div", { class: "comments-filters" }, status, checkbox("Mine", "mine"), checkbox("Mentioning me", "mentioningMe")),
      this.composer,
      this.readOnlyNote,
      this.list,
    );
    this.element.hidden = true;
    this.unsubscribe.push(
      store.subscribe(() => this.render()),
      store.onOpen((thread) => this.openThread(thread)),
    );
    this.render();
  }

  get shown(): boolean {
    return !this.element.hidden;
  }

  show(): void {
    if (this.shown) return;
    this.element.hidden = false;
    this.onVisibility(true);
    this.render(true);
  }

  hide(): void {
    if (!this.shown) return;
    this.element.hidden = true;
    this.onVisibility(false);
  }

  toggle(): void {
    if (this.shown) this.hide();
    else this.show();
  }

  /** Starts a thread on the current target: shows the panel with the composer focused. */
  startComment(): void {
    this.composing = "comment";
    this.show();
    this.renderComposer();
    this.newBody.focus();
  }

  /** Starts a suggestion on the current target: a small editor prefilled with its text. */
  startSuggestion(): void {
    this.composing = "suggest";
    this.suggestField.value = this.store.targetAnchor()?.quote ?? "";
    this.show();
    this.renderComposer();
    this.suggestField.focus();
    this.suggestField.select();
  }

  private openThread(thread: Thread): void {
    // A filter that hides the opened thread would make the click look dead.
    if ((this.filter.status === "open" && thread.resolved) || (this.filter.status === "resolved" && !thread.resolved)) {
      this.filter = { ...this.filter, status: "all" };
      const status = this.element.querySelector<HTMLSelectElement>(".comments-status");
      if (status) status.value = "all";
    }
    this.show();
    this.render(true);
    this.list.querySelector<HTMLElement>(`li.thread[data-thread="${CSS.escape(thread.id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  private async createThread(): Promise<void> {
    const suggesting = this.composing === "suggest";
    // A suggestion's comment is optional here; the server wants one.
    const body = this.newBody.value.trim() || (suggesting ? "Suggested change." : "");
    if (!body) return;
    const suggestion = suggesting ? this.suggestField.value : null;
    if (suggestion !== null && suggestion === this.store.targetAnchor()?.quote) {
      toast("The suggested text is the same as the text it replaces.", "error");
      return;
    }
    // The text leaves the composer when it is sent, not when the server answers: the
    // thread can arrive live first, and what is typed next (perhaps on another target)
    // must start empty. A failure puts it back if nothing new was typed.
    const sent = this.newBody.value;
    this.newBody.value = "";
    this.creating = true;
    this.renderComposer();
    try {
      const thread = await this.store.create(body, suggestion);
      this.noteMentions(thread);
      this.suggestField.value = "";
      this.composing = "comment";
    } catch (failure) {
      if (!this.newBody.value) this.newBody.value = sent;
      failed(failure, "Could not comment.");
    } finally {
      this.creating = false;
      this.renderComposer();
    }
  }

  private renderComposer(): void {
    const may = canComment(this.store.role);
    this.composer.hidden = !may;
    this.readOnlyNote.hidden = may;
    const target = this.store.targetAnchor();
    const targetKind = this.store.target?.kind;
    const suggesting = this.composing === "suggest";
    if (!target) this.targetLine.textContent = "Select text in the document, or use a cell's Comment button, to comment on it.";
    else if (suggesting) this.targetLine.textContent = targetKind === "cell" ? "Suggest a new source for the whole cell" : `Suggest a change to “${shorten(target.quote)}”`;
    else if (targetKind === "cell") this.targetLine.textContent = "On the whole cell";
    else this.targetLine.textContent = `On “${shorten(target.quote)}”`;
    this.targetLine.classList.toggle("has-target", target !== null);
    this.suggestRow.hidden = !suggesting;
    this.cancelSuggestion.hidden = !suggesting;
    this.newBody.placeholder = suggesting ? "Why? (optional)" : "Comment… (@name to mention)";
    this.submit.textContent = suggesting ? "Suggest" : "Comment";
    this.submit.disabled = target === null || this.creating;
  }

  /** Redraws what changed (threads, where anchors are, filters); drafts and focus stay. */
  render(force = false): void {
    this.renderComposer();
    if (!this.shown && !force) return;
    const shown = filterThreads(this.store.threads, this.filter, this.store.me.username);
    const signature = JSON.stringify([
      shown,
      shown.map((t) => this.store.isDetached(t)),
      shown.map((t) => (t.suggestion ? currentApplies(t, this.store.currentText(t)) : null)),
      [...this.mentionOutcomes],
      [...this.refusals],
      this.store.activeId,
      this.editing,
      this.store.role,
      this.store.loaded,
    ]);
    if (signature === this.signature && !force) return;
    this.signature = signature;
    const focused = document.activeElement instanceof HTMLTextAreaElement && this.list.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused?.dataset.draft ?? null;
    const caret = focused ? [focused.selectionStart, focused.selectionEnd] : null;
    clear(this.list);
    for (const thread of shown) this.list.appendChild(this.renderThread(thread));
    if (shown.length === 0) {
      const what = this.store.loaded ? (this.store.threads.length === 0 ? "No comments yet." : "No threads match these filters.") : "Loading comments…";
      this.list.appendChild(h("li", { class: "comments-empty", text: what }));
    }
    if (focusKey) {
      const again = this.list.querySelector<HTMLTextAreaElement>(`textarea[data-draft="${CSS.escape(focusKey)}"]`);
      if (again) {
        again.focus();
        if (caret) again.setSelectionRange(caret[0], caret[1]);
      }
    }
  }

  private draftField(key: string, label: string, initial = ""): HTMLTextAreaElement {
    const field = h("textarea", { class: "comment-input", attrs: { "aria-label": label, rows: "2" }, dataset: { draft: key } });
    field.value = this.drafts.get(key) ?? initial;
    field.addEventListener("input", () => this.drafts.set(key, field.value));
    return field;
  }

  private renderThread(thread: Thread): HTMLElement {
    const store = this.store;
    const detached = store.isDetached(thread);
    const classes = ["thread", thread.resolved ? "resolved" : "", detached ? "detached" : "", thread.id === store.activeId ? "active" : ""];
    const quoteText = thread.anchor.kind === "cell" ? "Whole cell" : thread.quote ? `“${shorten(thread.quote)}”` : "(no text)";
    const quote = h("button", { class: "thread-quote", text: quoteText, title: detached ? "Its text was deleted" : "Show in the document", attrs: { type: "button" } });
    quote.addEventListener("click", () => {
      store.open(thread.id);
      if (!detached) this.reveal(thread);
    });
    const head = h(
      "div",
      { class: "thread-head" },
      quote,
      detached ? h("span", { class: "thread-flag thread-detached", text: "Detached" }) : null,
      thread.resolved ? h("span", { class: "thread-flag thread-resolved", text: "Resolved" }) : null,
    );
    const suggestion = thread.suggestion ? this.renderSuggestion(thread) : null;
    const comments = h("ol", { class: "thread-comments" }, ...thread.comments.map((comment) => this.renderComment(thread, comment)));
    const actions = h("div", { class: "thread-actions" });
    if (canResolve(thread, store.role, store.me.username)) {
      const resolve = h("button", { class: "button small", text: thread.resolved ? "Reopen" : "Resolve", attrs: { type: "button" } });
      resolve.addEventListener("click", () => {
        resolve.disabled = true;
        store.setResolved(thread.id, !thread.resolved).catch((failure) => {
          resolve.disabled = false;
          failed(failure, "Could not change the thread.");
        });
      });
      actions.appendChild(resolve);
    }
    let reply: HTMLElement | null = null;
    if (canComment(store.role)) {
      const key = `reply:${thread.id}`;
      const field = this.draftField(key, "Reply");
      const send = h("button", { class: "button small", text: "Reply", attrs: { type: "submit" } });
      reply = h("form", { class: "thread-reply" }, this.withMentions(field), h("div", { class: "comment-form-actions" }, send));
      reply.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = field.value.trim();
        if (!body) return;
        send.disabled = true;
        store
          .reply(thread.id, body)
          .then((answer) => {
            this.drafts.delete(key);
            this.noteMentions(answer);
          })
          .then(() => this.render(true))
          .catch((failure) => {
            send.disabled = false;
            failed(failure, "Could not reply.");
          });
      });
    }
    return h("li", { class: classes.filter(Boolean).join(" "), dataset: { thread: thread.id } }, head, suggestion, comments, actions.childElementCount ? actions : null, this.renderMentionNotice(thread.id), reply);
  }

  /** The field with its @-completion list under it (when the panel can look readers up). */
  private withMentions(field: HTMLTextAreaElement): HTMLElement {
    if (!this.mentions) return field;
    const box = new MentionBox(field, this.mentions.readers);
    return h("div", { class: "mention-field" }, field, box.element);
  }

  /** Keeps what a write's mentions told, to show in its thread; nothing when all were told. */
  private noteMentions(thread: Thread): void {
    if (mentionNotice(thread.notifications)) this.mentionOutcomes.set(thread.id, thread.notifications!);
    else this.mentionOutcomes.delete(thread.id);
    this.render(true);
  }

  /** "X cannot read this document" with Share… (when the role may share), names nobody has. */
  private renderMentionNotice(threadId: string): HTMLElement | null {
    const notice = mentionNotice(this.mentionOutcomes.get(threadId));
    if (!notice) return null;
    const dismiss = h("button", { class: "icon-button mention-notice-close", text: "×", title: "Dismiss", attrs: { type: "button", "aria-label": "Dismiss" } });
    dismiss.addEventListener("click", () => {
      this.mentionOutcomes.delete(threadId);
      this.render(true);
    });
    let share: HTMLButtonElement | null = null;
    if (notice.offerShare && this.mentions) {
      const open = this.mentions.share;
      share = h("button", { class: "button small mention-share", text: "Share…", attrs: { type: "button" } });
      share.addEventListener("click", () => open());
    }
    return h(
      "div",
      { class: "mention-notice", attrs: { role: "status" } },
      notice.cannotRead ? h("p", { class: "mention-cannot-read", text: notice.cannotRead }) : null,
      notice.unknown ? h("p", { class: "mention-unknown", text: notice.unknown }) : null,
      h("div", { class: "mention-notice-actions" }, share, dismiss),
    );
  }

  /** The change (old struck out, new inserted), its status, why it no longer applies, the decisions. */
  private renderSuggestion(thread: Thread): HTMLElement {
    const store = this.store;
    const suggestion = thread.suggestion!;
    const diff = h(
      "div",
      { class: "suggestion-diff", attrs: { "aria-label": "Suggested change" } },
      ...diffSuggestion(suggestion.original, suggestion.text).map((part) =>
        part.kind === "removed"
          ? h("del", { class: "suggestion-removed", text: part.text })
          : part.kind === "added"
            ? h("ins", { class: "suggestion-added", text: part.text })
            : h("span", { class: "suggestion-same", text: part.text }),
      ),
    );
    if (suggestion.text === "") diff.appendChild(h("span", { class: "suggestion-delete", text: " (delete)" }));
    const { applies, why } = currentApplies(thread, store.currentText(thread));
    const status = h("span", { class: `thread-flag suggestion-status suggestion-${suggestion.status}`, text: suggestionStatus(thread, (u) => store.nameOf(u)) });
    const actions = h("div", { class: "suggestion-actions" });
    const decide = (button: HTMLButtonElement, accept: boolean): void => {
      button.addEventListener("click", () => {
        for (const b of actions.querySelectorAll("button")) b.disabled = true;
        this.refusals.delete(thread.id);
        store
          .decide(thread.id, accept)
          .catch((failure) => {
            if (failure instanceof ApiError && failure.status === 409) {
              this.refusals.set(thread.id, failure.message);
              toast(`Not ${accept ? "accepted" : "rejected"}: ${failure.message}`, "error");
            } else failed(failure, "Could not decide the suggestion.");
          })
          .finally(() => this.render(true));
      });
    };
    if (canDecide(thread, store.role)) {
      const accept = h("button", { class: "button small primary suggestion-accept", text: "Accept", title: applies ? "Apply the change to the document" : `Cannot apply: ${why ?? "it no longer applies"}`, attrs: { type: "button" } });
      accept.disabled = !applies;
      decide(accept, true);
      const reject = h("button", { class: "button small suggestion-reject", text: "Reject", attrs: { type: "button" } });
      decide(reject, false);
      actions.append(accept, reject);
    } else if (canWithdraw(thread, store.role, store.me.username)) {
      const withdraw = h("button", { class: "button small suggestion-withdraw", text: "Withdraw", attrs: { type: "button" } });
      decide(withdraw, false);
      actions.append(withdraw);
    }
    const refusal = this.refusals.get(thread.id);
    return h(
      "div",
      { class: "suggestion" },
      h("div", { class: "suggestion-head" }, h("span", { class: "suggestion-label", text: "Suggestion" }), status),
      diff,
      suggestion.status === "pending" && !applies ? h("p", { class: "suggestion-why", text: `No longer applies: ${why ?? "unknown"}` }) : null,
      refusal ? h("p", { class: "suggestion-refused", text: `Refused by the server: ${refusal}`, attrs: { role: "alert" } }) : null,
      actions.childElementCount ? actions : null,
    );
  }

  private renderComment(thread: Thread, comment: ThreadComment): HTMLElement {
    const store = this.store;
    const me = store.me.username;
    const meta = h(
      "div",
      { class: "comment-meta" },
      h("span", { class: "comment-author", text: store.nameOf(comment.author), title: comment.author }),
      h("span", { class: "comment-time", text: relativeTime(comment.created), title: comment.created }),
      comment.edited ? h("span", { class: "comment-edited", text: "edited", title: comment.edited }) : null,
    );
    const item = h("li", { class: "comment", dataset: { comment: comment.id } }, meta);
    const mine = comment.author === me && canComment(store.role);
    if (this.editing === comment.id && mine) {
      const key = `edit:${comment.id}`;
      const field = this.draftField(key, "Edit comment", comment.body);
      const save = h("button", { class: "button small primary", text: "Save", attrs: { type: "submit" } });
      const cancel = h("button", { class: "button small", text: "Cancel", attrs: { type: "button" } });
      const form = h("form", { class: "comment-edit" }, field, h("div", { class: "comment-form-actions" }, cancel, save));
      cancel.addEventListener("click", () => {
        this.drafts.delete(key);
        this.editing = null;
        this.render(true);
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = field.value.trim();
        if (!body) return;
        save.disabled = true;
        store
          .edit(thread.id, comment.id, body)
          .then(() => {
            this.drafts.delete(key);
            this.editing = null;
            this.render(true);
          })
          .catch((failure) => {
            save.disabled = false;
            failed(failure, "Could not save the comment.");
          });
      });
      item.appendChild(form);
      return item;
    }
    item.appendChild(h("div", { class: "comment-body", text: comment.body }));
    const controls = h("div", { class: "comment-actions" });
    if (mine) {
      controls.appendChild(
        h("button", {
          class: "link-button",
          text: "Edit",
          attrs: { type: "button" },
          on: {
            click: () => {
              this.editing = comment.id;
              this.render(true);
              this.list.querySelector<HTMLTextAreaElement>(`textarea[data-draft="edit:${CSS.escape(comment.id)}"]`)?.focus();
            },
          },
        }),
      );
    }
    if (canDelete(comment, store.role, me)) {
      const first = thread.comments[0]?.id === comment.id;
      controls.appendChild(
        h("button", {
          class: "link-button danger",
          text: "Delete",
          title: first ? "Deletes the whole thread" : "Delete this comment",
          attrs: { type: "button" },
          on: {
            click: async () => {
              if (first && !(await confirmDialog("Delete thread", "Delete this thread and all its replies?", "Delete"))) return;
              store.removeComment(thread.id, comment.id).catch((failure) => failed(failure, "Could not delete the comment."));
            },
          },
        }),
      );
    }
    if (controls.childElementCount) item.appendChild(controls);
    return item;
  }

  destroy(): void {
    for (const stop of this.unsubscribe) stop();
    this.element.remove();
  }
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > QUOTE_SHOWN ? `${line.slice(0, QUOTE_SHOWN - 1)}…` : line;
}
