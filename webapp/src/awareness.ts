/**
 * Collaborators from the room's awareness. The server writes each state's `user` field
 * with the authenticated identity `{name, display_name, initials, color}` (name is the
 * username), so it can be trusted for display.
 */

import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

export interface Collaborator {
  username: string;
  displayName: string;
  initials: string;
  color: string;
  /** Awareness client ids of this user (one per open tab or editor). */
  clients: number[];
}

export interface AwarenessUser {
  name?: unknown;
  display_name?: unknown;
  initials?: unknown;
  color?: unknown;
}

const FALLBACK_COLOR = "#6b7280";

function initialsOf(name: string): string {
  const parts = name.split(/[\s_-]+/).filter(Boolean);
  if (parts.length === 0) return "?";
  if (parts.length === 1) return parts[0]!.slice(0, 2).toUpperCase();
  return (parts[0]![0]! + parts[parts.length - 1]![0]!).toUpperCase();
}

export function isColor(value: unknown): value is string {
  return typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value);
}

/** Users present in `states` other than `selfClientId`, one entry per username, sorted. */
export function collaborators(
  states: Map<number, Record<string, unknown>>,
  selfClientId: number,
  selfUsername?: string,
): Collaborator[] {
  const byName = new Map<string, Collaborator>();
  states.forEach((state, clientId) => {
    if (clientId === selfClientId) return;
    const user = (state?.user ?? null) as AwarenessUser | null;
    if (!user || typeof user.name !== "string" || !user.name) return;
    if (selfUsername !== undefined && user.name === selfUsername) return;
    const displayName = typeof user.display_name === "string" && user.display_name ? user.display_name : user.name;
    const existing = byName.get(user.name);
    if (existing) {
      existing.clients.push(clientId);
      return;
    }
    byName.set(user.name, {
      username: user.name,
      displayName,
      initials: typeof user.initials === "string" && user.initials ? user.initials.slice(0, 3) : initialsOf(displayName),
      color: isColor(user.color) ? user.color : FALLBACK_COLOR,
      clients: [clientId],
    });
  });
  return [...byName.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** A Yjs relative position from its JSON form, compact (`Y.relativePositionToJSON`:
 * absent fields) or full (null fields), or null when it is not one. */
export function relativePosition(value: unknown): Y.RelativePosition | null {
  if (!value || typeof value !== "object") return null;
  const json = value as { type?: unknown; tname?: unknown; item?: unknown };
  const isId = (id: unknown) =>
    !!id && typeof id === "object" && Number.isInteger((id as { client?: unknown }).client) && Number.isInteger((id as { clock?: unknown }).clock);
  if (json.type != null && !isId(json.type)) return null;
  if (json.item != null && !isId(json.item)) return null;
  if (json.tname != null && typeof json.tname !== "string") return null;
  if (json.type == null && json.item == null && json.tname == null) return null;
  return Y.createRelativePositionFromJSON(json);
}

/** The `cursor` field of a state as y-codemirror.next can resolve it, or null. Other
 * clients may write it in either JSON form (docs/protocol.md, "Presence"). */
export function cursorOf(state: Record<string, unknown> | null | undefined): { anchor: Y.RelativePosition; head: Y.RelativePosition } | null {
  const cursor = state?.cursor as { anchor?: unknown; head?: unknown } | null | undefined;
  if (!cursor || typeof cursor !== "object") return null;
  const anchor = relativePosition(cursor.anchor);
  const head = relativePosition(cursor.head);
  return anchor && head ? { anchor, head } : null;
}

/** A state as y-codemirror.next should see it: `user.name` is the display name (it labels
 * remote cursors with `user.name`, and people should see "Alice Liddell", not "alice"),
 * and `cursor` is normalised (a malformed or compact one crashed its plugin). */
export function labelledState(state: Record<string, unknown>): Record<string, unknown> {
  if (!state || typeof state !== "object") return state;
  const normalised = { ...state, cursor: cursorOf(state) };
  const user = state.user as AwarenessUser | undefined;
  if (!user || typeof user !== "object") return normalised;
  const label = typeof user.display_name === "string" && user.display_name ? user.display_name : user.name;
  const color = isColor(user.color) ? user.color : FALLBACK_COLOR;
  return { ...normalised, user: { ...user, name: label, color, colorLight: color + "33" } };
}

/**
 * The awareness as y-codemirror.next should see it: the same object (local cursor updates
 * go to the real awareness) except that `getStates()` answers labelled states.
 */
export function labelledAwareness(awareness: Awareness): Awareness {
  return new Proxy(awareness, {
    get(target, property, receiver) {
      if (property === "getStates") {
        return () => {
          const labelled = new Map<number, Record<string, unknown>>();
          target.getStates().forEach((state, id) => labelled.set(id, labelledState(state)));
          return labelled;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Where a collaborator is, from their awareness state (docs/protocol.md, "Presence"). */
export interface Whereabouts {
  /** For people: "cell 12 · code", "line 40" or "in the document". */
  label: string;
  /** The notebook cell they are in (its `id`), or null. */
  cell: string | null;
  /** Their cursor's head, resolved in this document, or null. */
  head: Y.AbsolutePosition | null;
}

/** A cell's `id` and `cell_type` at `index` in a notebook's `cells`, if it is a cell. */
function cellIndexOf(doc: Y.Doc, id: string): { index: number; type: string } | null {
  if (!doc.share.has("cells")) return null;
  const cells = doc.getArray<unknown>("cells").toArray();
  for (let index = 0; index < cells.length; index += 1) {
    const cell = cells[index];
    if (cell instanceof Y.Map && cell.get("id") === id) {
      const type = cell.get("cell_type") as unknown;
      return { index, type: typeof type === "string" ? type : "code" };
    }
  }
  return null;
}

/** Where the client with `state` is in `doc`: its cell (notebooks), else the line of its
 * cursor (text), else just "in the document". Never throws on a malformed state. */
export function whereabouts(state: Record<string, unknown> | null | undefined, doc: Y.Doc): Whereabouts {
  const cursor = cursorOf(state);
  let head: Y.AbsolutePosition | null = null;
  if (cursor) {
    try {
      head = Y.createAbsolutePositionFromRelativePosition(cursor.head, doc);
    } catch {
      head = null;
    }
  }
  const cell = typeof state?.cell === "string" ? state.cell : null;
  const found = cell ? cellIndexOf(doc, cell) : null;
  if (cell && found) return { label: `cell ${found.index + 1} · ${found.type}`, cell, head };
  if (head && head.type instanceof Y.Text && !(head.type.parent instanceof Y.Map)) {
    const before = head.type.toString().slice(0, head.index);
    let line = 1;
    for (let at = before.indexOf("\n"); at !== -1; at = before.indexOf("\n", at + 1)) line += 1;
    return { label: `line ${line}`, cell: null, head };
  }
  return { label: "in the document", cell: null, head: null };
}
