/**
 * Comments on notebook cells: a badge on each drawn cell with its open threads (a whole
 * cell or a range of its source), which opens the first, and Comment and Suggest buttons
 * for the whole cell (Suggest proposes a new source) when the role may comment. Cells are drawn and emptied as they scroll
 * (views/notebook.ts): a badge lives as long as its cell's DOM.
 */

import type { Extension } from "@codemirror/state";
import * as Y from "yjs";

import { h } from "../dom";
import { commentMarks } from "./marks";
import { canComment, threadCell } from "./model";
import type { CommentsStore } from "./store";

export interface NotebookComments {
  /** Markers and selection tracking for a cell's editor. */
  extension(cell: Y.Map<unknown>, source: Y.Text): Extension;
  /** The badge and Comment button of a drawn cell. */
  cellBadge(cell: Y.Map<unknown>): HTMLElement;
}

export function notebookComments(store: CommentsStore, startComment: () => void, startSuggestion: () => void): NotebookComments {
  const badges = new Set<{ cell: Y.Map<unknown>; update(): void; element: HTMLElement }>();
  store.subscribe(() => {
    for (const badge of badges) {
      if (badge.element.isConnected) badge.update();
      else badges.delete(badge);
    }
  });
  return {
    extension(cell, source) {
      const id = cell.get("id");
      return commentMarks(store, source, typeof id === "string" ? id : null);
    },
    cellBadge(cell) {
      const count = h("button", { class: "cell-comment-count", attrs: { type: "button" } });
      const element = h("div", { class: "cell-comments" }, count);
      const cellId = (): string | null => {
        const id = cell.get("id");
        return typeof id === "string" ? id : null;
      };
      if (canComment(store.role)) {
        element.append(
          h("button", {
            class: "cell-comment-add",
            text: "Comment",
            title: "Comment on this cell",
            attrs: { type: "button", "aria-label": "Comment on this cell" },
            on: {
              click: () => {
                const id = cellId();
                if (!id) return;
                store.setTarget({ kind: "cell", cellId: id });
                startComment();
              },
            },
          }),
          h("button", {
            class: "cell-suggest",
            text: "Suggest",
            title: "Suggest a new source for this cell",
            attrs: { type: "button", "aria-label": "Suggest a change to this cell" },
            on: {
              click: () => {
                const id = cellId();
                if (!id) return;
                store.setTarget({ kind: "cell", cellId: id });
                startSuggestion();
              },
            },
          }),
        );
      }
      const open = (): string[] => store.threads.filter((t) => !t.resolved && threadCell(t) === cellId()).map((t) => t.id);
      count.addEventListener("click", () => {
        const first = open()[0];
        if (first) store.open(first);
      });
      const badge = {
        cell,
        element,
        update() {
          const ids = open();
          count.hidden = ids.length === 0;
          count.textContent = ids.length === 1 ? "1 comment" : `${ids.length} comments`;
          count.title = "Open thread(s) on this cell: show the first";
          element.classList.toggle("has-comments", ids.length > 0);
        },
      };
      badge.update();
      badges.add(badge);
      return element;
    },
  };
}
