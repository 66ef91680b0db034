/**
 * Suggestions on the page (docs/comments.md, "Suggestions"), the pure parts: the change
 * shown as a diff, its status in words, who may decide or withdraw, and whether it still
 * applies as this page's document has it (the server's `applies` was computed when the
 * thread was read; the text may have changed since).
 */

import type { Role } from "../api";
import type { Thread } from "./model";

export interface DiffPart {
  kind: "same" | "removed" | "added";
  text: string;
}

const CHANGED = "the text it replaces changed since the suggestion was made";
const GONE = "the text it replaces is gone (the anchor is detached)";

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * The change from `original` to `text`: their common start and end kept, the middle of
 * one struck out and the middle of the other inserted (as the server applies it). The
 * cuts never split a surrogate pair.
 */
export function diffSuggestion(original: string, text: string): DiffPart[] {
  const shortest = Math.min(original.length, text.length);
  let start = 0;
  while (start < shortest && original.charCodeAt(start) === text.charCodeAt(start)) start += 1;
  if (start > 0 && isHighSurrogate(original.charCodeAt(start - 1))) start -= 1;
  let end = 0;
  while (end < shortest - start && original.charCodeAt(original.length - 1 - end) === text.charCodeAt(text.length - 1 - end)) end += 1;
  if (end > 0 && isLowSurrogate(original.charCodeAt(original.length - end))) end -= 1;
  const parts: DiffPart[] = [
    { kind: "same", text: original.slice(0, start) },
    { kind: "removed", text: original.slice(start, original.length - end) },
    { kind: "added", text: text.slice(start, text.length - end) },
    { kind: "same", text: original.slice(original.length - end) },
  ];
  return parts.filter((part) => part.text !== "");
}

/** "Pending", "Accepted by X", "Rejected by X", or "Withdrawn" (rejected by its suggester). */
export function suggestionStatus(thread: Thread, nameOf: (username: string) => string): string {
  const suggestion = thread.suggestion;
  if (!suggestion || suggestion.status === "pending") return "Pending";
  const by = suggestion.decided_by;
  if (suggestion.status === "rejected" && by === thread.author) return "Withdrawn";
  const verb = suggestion.status === "accepted" ? "Accepted" : "Rejected";
  return by ? `${verb} by ${nameOf(by)}` : verb;
}

/** Accept and reject: editors and owners, while the suggestion is pending. */
export function canDecide(thread: Thread, role: Role): boolean {
  return thread.suggestion?.status === "pending" && (role === "editor" || role === "owner");
}

/** Withdraw (a reject by its suggester): the suggester, who may still comment. */
export function canWithdraw(thread: Thread, role: Role, me: string): boolean {
  return thread.suggestion?.status === "pending" && thread.author === me && role !== "viewer";
}

/**
 * Whether a pending suggestion applies now: `current` is its anchored text (or cell
 * source) in this page's document, null when gone, undefined when the page cannot tell
 * yet (not synced): then the server's word. A decided one never applies (no reason shown).
 */
export function currentApplies(thread: Thread, current: string | null | undefined): { applies: boolean; why: string | null } {
  const suggestion = thread.suggestion;
  if (!suggestion || suggestion.status !== "pending") return { applies: false, why: null };
  if (current === null) return { applies: false, why: suggestion.why && !suggestion.applies ? suggestion.why : GONE };
  if (current !== undefined && current !== suggestion.original) return { applies: false, why: CHANGED };
  return { applies: suggestion.applies, why: suggestion.applies ? null : suggestion.why };
}
