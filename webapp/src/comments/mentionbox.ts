/**
 * The @-completion list under a comment box: typing `@` and letters lists the readers
 * of the document that match (display name and username); ↑/↓ move, Enter or Tab or a
 * click inserts `@username `, Escape closes. Names are set as text, never as markup.
 */

import type { Reader } from "../api";
import { clear, h } from "../dom";
import { completeMention, type CompletionState, completionKey, mentionAt } from "./mentions";

/** How long typing pauses before the server is asked. */
const QUIET_MS = 120;

export type ReaderLookup = (query: string) => Promise<Reader[]>;

export class MentionBox {
  /** The list, to be placed right after the field. */
  readonly element: HTMLUListElement;
  private state: CompletionState | null = null;
  private asked = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly field: HTMLTextAreaElement,
    private readonly lookup: ReaderLookup,
  ) {
    this.element = h("ul", { class: "mention-list", attrs: { role: "listbox", "aria-label": "People to mention" } });
    this.element.hidden = true;
    field.setAttribute("aria-autocomplete", "list");
    field.addEventListener("input", () => this.typed());
    field.addEventListener("keydown", (event) => this.key(event));
    field.addEventListener("blur", () => this.close());
  }

  private typed(): void {
    clearTimeout(this.timer);
    const at = mentionAt(this.field.value, this.field.selectionStart ?? this.field.value.length);
    if (!at) {
      this.close();
      return;
    }
    const ask = ++this.asked;
    this.timer = setTimeout(() => {
      this.lookup(at.query)
        .then((readers) => {
          // An answer to an older query, or typing moved on: not shown.
          if (ask !== this.asked || document.activeElement !== this.field) return;
          this.state = readers.length ? { readers, active: 0 } : null;
          this.draw();
        })
        .catch(() => {
          if (ask === this.asked) this.close();
        });
    }, QUIET_MS);
  }

  private key(event: KeyboardEvent): void {
    if (event.isComposing) return;
    const { state, handled, pick } = completionKey(this.state, event.key);
    if (!handled) return;
    event.preventDefault();
    // Escape closes the list only, not the dialog or panel around it.
    event.stopPropagation();
    this.state = state;
    if (pick) this.insert(pick);
    else this.draw();
  }

  private insert(reader: Reader): void {
    const caret = this.field.selectionStart ?? this.field.value.length;
    const done = completeMention(this.field.value, caret, reader.username);
    this.field.value = done.text;
    this.field.setSelectionRange(done.caret, done.caret);
    this.close();
    // Drafts listen to input: the inserted name is kept like typing.
    this.field.dispatchEvent(new Event("input", { bubbles: true }));
    this.field.focus();
  }

  close(): void {
    this.asked += 1;
    clearTimeout(this.timer);
    this.state = null;
    this.draw();
  }

  private draw(): void {
    clear(this.element);
    const state = this.state;
    this.element.hidden = state === null;
    if (!state) return;
    state.readers.forEach((reader, index) => {
      const active = index === state.active;
      const item = h(
        "li",
        { class: `mention-option${active ? " active" : ""}`, attrs: { role: "option", "aria-selected": String(active) }, dataset: { username: reader.username } },
        h("span", { class: "mention-name", text: reader.display_name || reader.username }),
        h("span", { class: "mention-username", text: `@${reader.username}` }),
      );
      // mousedown would blur the field, and the blur closes the list before the click.
      item.addEventListener("mousedown", (event) => event.preventDefault());
      item.addEventListener("click", () => this.insert(reader));
      this.element.appendChild(item);
    });
  }
}
