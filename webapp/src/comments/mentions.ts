/**
 * @-mentions while writing a comment: the `@word` being typed, completing it with a
 * reader's username, the completion list's keys, and what to tell the commenter about
 * names nobody was told of (docs/comments.md, "Mentions and notifications").
 * Pure functions: the list itself is comments/mentionbox.ts.
 */

import type { Reader } from "../api";

/** The mentions' outcome in the answers to the comment writes. */
export interface MentionNotifications {
  notified: string[];
  cannot_read: string[];
  unknown: string[];
  may_share: boolean;
}

/** At least one character after `@`, as the server's MENTION (comments/service.py). */
const TYPING = /(^|[^\w@.])@([A-Za-z0-9_][\w.-]*)$/;

/** The `@word` being typed just before `caret`, or null when there is none. */
export function mentionAt(text: string, caret: number): { from: number; query: string } | null {
  const match = TYPING.exec(text.slice(0, caret));
  if (!match) return null;
  return { from: caret - match[2].length - 1, query: match[2] };
}

/** The text with the `@word` before `caret` replaced by `@username `. */
export function completeMention(text: string, caret: number, username: string): { text: string; caret: number } {
  const at = mentionAt(text, caret);
  if (!at) return { text, caret };
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, "");
  return { text: text.slice(0, at.from) + inserted + rest, caret: at.from + inserted.length };
}

/** The open completion list: its readers and the highlighted one. */
export interface CompletionState {
  readers: Reader[];
  active: number;
}

/**
 * A key pressed in the comment box while the list may be open: the list after it,
 * whether the key is used up (not typed, not submitting), and the reader picked.
 */
export function completionKey(
  state: CompletionState | null,
  key: string,
): { state: CompletionState | null; handled: boolean; pick?: Reader } {
  if (!state || state.readers.length === 0) return { state: null, handled: false };
  const count = state.readers.length;
  switch (key) {
    case "ArrowDown":
      return { state: { ...state, active: (state.active + 1) % count }, handled: true };
    case "ArrowUp":
      return { state: { ...state, active: (state.active - 1 + count) % count }, handled: true };
    case "Enter":
    case "Tab":
      return { state: null, handled: true, pick: state.readers[state.active] };
    case "Escape":
      return { state: null, handled: true };
    default:
      return { state, handled: false };
  }
}

function names(usernames: readonly string[]): string {
  return usernames.length > 1 ? `${usernames.slice(0, -1).join(", ")} and ${usernames[usernames.length - 1]}` : usernames[0];
}

/** What to tell the commenter after posting; null when every name was told. */
export function mentionNotice(
  notifications: MentionNotifications | undefined,
): { cannotRead: string | null; unknown: string | null; offerShare: boolean } | null {
  if (!notifications) return null;
  const cannot = notifications.cannot_read ?? [];
  const unknown = notifications.unknown ?? [];
  if (cannot.length === 0 && unknown.length === 0) return null;
  return {
    cannotRead: cannot.length ? `${names(cannot)} cannot read this document` : null,
    unknown: unknown.length ? `${names(unknown)}: no such user` : null,
    offerShare: cannot.length > 0 && notifications.may_share === true,
  };
}
