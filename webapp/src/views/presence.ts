/**
 * Who is here and where, and following one of them. The avatars open a list of the
 * people in the room (display name, colour, "cell 12 · code" or "line 40"), updated live,
 * my own entry marked; "Follow" keeps bringing that person's place into view until I
 * scroll, click or type in the document myself, or stop it. Names are data: text only.
 */

import type { Awareness } from "y-protocols/awareness";
import type * as Y from "yjs";

import type { Me } from "../api";
import { type Collaborator, collaborators, whereabouts, type Whereabouts } from "../awareness";
import { avatar, clear, h } from "../dom";

/** What following moves: the open notebook or text editor. */
export interface FollowTarget {
  /** Where my own scrolling, clicking or typing stops following. */
  readonly element: HTMLElement;
  /** Brings a place into view (and marks it, in a notebook). */
  reveal(where: Whereabouts, color: string): void;
  /** Removes any mark left by `reveal`. */
  unmark(): void;
}

interface Row {
  item: HTMLElement;
  where: HTMLElement;
  follow: HTMLButtonElement | null;
}

type States = Map<number, Record<string, unknown>>;

export class PresenceView {
  readonly element: HTMLElement;
  private readonly avatars: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly list: HTMLElement;
  private readonly entries: HTMLElement;
  private readonly following: HTMLElement;
  private readonly followingText: HTMLElement;
  private readonly rows = new Map<string, Row>();
  private awareness: Awareness | null = null;
  private doc: Y.Doc | null = null;
  private target: FollowTarget | null = null;
  /** The username followed, and the place last revealed (to move only when it changes). */
  private leader: string | null = null;
  private revealed = "";
  /** When each client last changed its state: a person's latest tab is where they are. */
  private readonly changedAt = new Map<number, number>();

  constructor(private readonly me: Me) {
    this.avatars = h("span", { class: "avatars" });
    this.button = h(
      "button",
      {
        class: "people-button",
        title: "People here",
        attrs: { type: "button", "aria-haspopup": "true", "aria-expanded": "false", "aria-label": "People here" },
        on: { click: () => this.toggle() },
      },
      this.avatars,
    );
    this.entries = h("ul", { class: "people-entries" });
    this.list = h("div", { class: "people-list", attrs: { role: "dialog", "aria-label": "People here" } }, this.entries);
    this.list.hidden = true;
    this.followingText = h("span", { class: "following-text" });
    this.following = h(
      "span",
      { class: "following", attrs: { role: "status" } },
      this.followingText,
      h("button", { class: "following-stop", text: "×", title: "Stop following", attrs: { type: "button", "aria-label": "Stop following" }, on: { click: () => this.stopFollowing() } }),
    );
    this.following.hidden = true;
    this.element = h("div", { class: "presence" }, this.following, this.button, this.list);
    this.render();
  }

  /** Shows the people of a room, following into `target`. */
  attach(awareness: Awareness, doc: Y.Doc, target: FollowTarget): void {
    this.detach();
    this.awareness = awareness;
    this.doc = doc;
    this.target = target;
    awareness.on("change", this.onChange);
    target.element.addEventListener("pointerdown", this.onOwnAction, true);
    target.element.addEventListener("keydown", this.onOwnAction, true);
    document.addEventListener("wheel", this.onOwnAction, { capture: true, passive: true });
    document.addEventListener("pointerdown", this.onOutside, true);
    document.addEventListener("keydown", this.onEscape);
    this.render();
  }

  /** Forgets the room (the document closes, or is gone): nobody is shown. */
  detach(): void {
    this.stopFollowing();
    this.awareness?.off("change", this.onChange);
    this.target?.element.removeEventListener("pointerdown", this.onOwnAction, true);
    this.target?.element.removeEventListener("keydown", this.onOwnAction, true);
    document.removeEventListener("wheel", this.onOwnAction, { capture: true });
    document.removeEventListener("pointerdown", this.onOutside, true);
    document.removeEventListener("keydown", this.onEscape);
    this.awareness = this.doc = this.target = null;
    this.changedAt.clear();
    this.render();
  }

  private readonly onChange = ({ added, updated }: { added: number[]; updated: number[] }): void => {
    const now = performance.now();
    for (const id of [...added, ...updated]) this.changedAt.set(id, now);
    this.render();
    this.track();
  };

  private readonly onOwnAction = (): void => this.stopFollowing();

  private readonly onOutside = (event: Event): void => {
    if (!this.list.hidden && !this.element.contains(event.target as Node | null)) this.setOpen(false);
  };

  private readonly onEscape = (event: KeyboardEvent): void => {
    if (event.key === "Escape" && !this.list.hidden) this.setOpen(false);
  };

  private toggle(): void {
    this.setOpen(this.list.hidden);
  }

  private setOpen(open: boolean): void {
    this.list.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.render();
  }

  private states(): States {
    return (this.awareness?.getStates() ?? new Map()) as States;
  }

  /** The state of the client of `person` that moved last. */
  private latestState(person: Collaborator, states: States): Record<string, unknown> | undefined {
    const latest = [...person.clients].sort((a, b) => (this.changedAt.get(b) ?? 0) - (this.changedAt.get(a) ?? 0))[0];
    return latest === undefined ? undefined : states.get(latest);
  }

  /** Avatars, and the list's entries (kept, updated in place: a click is never lost). */
  render(): void {
    const awareness = this.awareness;
    const doc = this.doc;
    const others = awareness ? collaborators(this.states(), awareness.clientID, this.me.username) : [];
    clear(this.avatars);
    for (const person of others) this.avatars.appendChild(avatar(person.initials, person.color, person.displayName));
    this.avatars.appendChild(avatar(this.me.initials, this.me.color, `${this.me.display_name} (you)`, true));
    if (this.list.hidden || !awareness || !doc) return;
    const states = this.states();
    const seen = new Set<string>();
    const mine = awareness.getLocalState() as Record<string, unknown> | null;
    const entries: { username: string; name: string; color: string; where: string; you: boolean }[] = [
      { username: this.me.username, name: this.me.display_name, color: this.me.color, where: whereabouts(mine, doc).label, you: true },
      ...others.map((person) => ({
        username: person.username,
        name: person.displayName,
        color: person.color,
        where: whereabouts(this.latestState(person, states), doc).label,
        you: false,
      })),
    ];
    entries.forEach((entry, index) => {
      seen.add(entry.username);
      const row = this.rows.get(entry.username) ?? this.newRow(entry);
      row.where.textContent = entry.where;
      if (row.follow) {
        const isLeader = this.leader === entry.username;
        row.follow.textContent = isLeader ? "Stop following" : "Follow";
        row.follow.setAttribute("aria-pressed", String(isLeader));
      }
      // In order (me first, then by name), moving a row only when it is out of place.
      if (this.entries.children[index] !== row.item) this.entries.insertBefore(row.item, this.entries.children[index] ?? null);
    });
    for (const [username, row] of this.rows) {
      if (!seen.has(username)) {
        row.item.remove();
        this.rows.delete(username);
      }
    }
  }

  private newRow(entry: { username: string; name: string; color: string; you: boolean }): Row {
    const where = h("span", { class: "person-where" });
    const follow = entry.you
      ? null
      : h("button", {
          class: "button small person-follow",
          text: "Follow",
          attrs: { type: "button", "aria-pressed": "false" },
          on: { click: () => (this.leader === entry.username ? this.stopFollowing() : this.follow(entry.username)) },
        });
    const item = h(
      "li",
      { class: "person", dataset: { user: entry.username } },
      h("span", { class: "person-color", style: { backgroundColor: entry.color }, attrs: { "aria-hidden": "true" } }),
      h(
        "span",
        { class: "person-text" },
        h("span", { class: "person-name", text: entry.name }),
        entry.you ? h("span", { class: "person-you", text: " (you)" }) : null,
        h("br"),
        where,
      ),
      follow,
    );
    const row = { item, where, follow };
    this.rows.set(entry.username, row);
    return row;
  }

  private follow(username: string): void {
    this.stopFollowing();
    this.leader = username;
    this.revealed = "";
    this.track();
    this.render();
  }

  stopFollowing(): void {
    if (this.leader === null) return;
    this.leader = null;
    this.revealed = "";
    this.target?.unmark();
    this.following.hidden = true;
    this.render();
  }

  /** Brings the leader's place into view when it changed; stops when they left. */
  private track(): void {
    const { awareness, doc, target, leader } = this;
    if (!leader || !awareness || !doc || !target) return;
    const states = this.states();
    const person = collaborators(states, awareness.clientID, this.me.username).find((p) => p.username === leader);
    if (!person) {
      this.stopFollowing();
      return;
    }
    this.followingText.textContent = `Following ${person.displayName}`;
    this.following.hidden = false;
    this.following.style.borderColor = person.color;
    const where = whereabouts(this.latestState(person, states), doc);
    // Their cell (notebook) or cursor (text); no place (they left the editor) keeps the
    // view where it is, rather than jumping back.
    const key = where.cell ?? (where.head ? `@${where.head.index}` : null);
    if (key === null || key === this.revealed) return;
    this.revealed = key;
    target.reveal(where, person.color);
  }
}
