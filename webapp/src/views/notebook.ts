/**
 * A notebook as its cells, drawn only near the viewport: a 1,000-cell notebook would
 * otherwise build 1,000 CodeMirror editors (and tens of thousands of DOM nodes) before
 * anyone can type. A cell far from view is an empty placeholder of its height (measured
 * when it was last drawn, estimated before); an IntersectionObserver draws it (live
 * editor, outputs) when it comes within a viewport and a half, and empties it again when
 * it leaves that band, unless it holds the focus.
 *
 * Markdown cells are shown rendered when not edited (click or Enter to edit, Escape or
 * leaving the cell to render): the HTML goes through the outputs' allow-list.
 */

import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import { clear, h } from "../dom";
import { type BoundEditor, createEditor } from "../editor";
import { markdownToHtml } from "../markdown";
import {
  cellType,
  changeCellType,
  deleteCell,
  estimateCellHeight,
  insertCell,
  moveCell,
  notebookCells,
  outputViews,
  type CellType,
} from "../notebook";
import { renderOutput, sanitizeHtml } from "./outputs";
import type { NotebookComments } from "../comments/cells";

const CELL_TYPE_NAMES: Record<CellType, string> = { code: "Code", markdown: "Markdown", raw: "Raw" };

/** How far beyond the viewport cells are drawn (above and below). */
const DRAW_MARGIN = "150% 0px";

/** A Markdown cell as safe DOM: Markdown → HTML → rebuilt from the allow-list. */
export function renderMarkdown(source: string): DocumentFragment {
  return sanitizeHtml(markdownToHtml(source));
}

class CellComponent {
  readonly element: HTMLElement;
  private drawn = false;
  private measuredHeight: number | null = null;
  /** A Markdown cell being edited (otherwise it is shown rendered). */
  private editing = false;
  private prompt: HTMLElement | null = null;
  private editorHost: HTMLElement | null = null;
  private toolbar: HTMLElement | null = null;
  private outputs: HTMLElement | null = null;
  private editor: BoundEditor | null = null;
  private observedOutputs: Y.Array<unknown> | null = null;
  private observedSource: Y.Text | null = null;
  private markdownFrame: number | null = null;
  private readonly onOutputs = (): void => this.renderOutputs();
  private readonly onSourceText = (): void => {
    // Someone else typing in a rendered Markdown cell: re-render once per frame.
    if (this.markdownFrame === null) {
      this.markdownFrame = requestAnimationFrame(() => {
        this.markdownFrame = null;
        if (this.drawn && !this.editor) this.mountSource();
      });
    }
  };
  private readonly onCell = (event: Y.YMapEvent<unknown>): void => {
    if (event.keysChanged.has("outputs")) this.watchOutputs();
    if (event.keysChanged.has("execution_count")) this.renderPrompt();
    if (event.keysChanged.has("source") || event.keysChanged.has("cell_type")) this.mountSource();
  };

  constructor(
    readonly cell: Y.Map<unknown>,
    private readonly notebook: NotebookView,
  ) {
    this.element = h("section", { class: "cell cell-placeholder", attrs: { "aria-label": "Cell" } });
    this.element.addEventListener("focusout", () => this.maybeStopEditing());
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.editing) this.stopEditing(true);
    });
    this.placehold();
  }

  get type(): CellType {
    return cellType(this.cell);
  }

  get isDrawn(): boolean {
    return this.drawn;
  }

  private placehold(): void {
    this.element.dataset.cellType = this.type;
    const source = this.cell.get("source");
    const height =
      this.measuredHeight ??
      estimateCellHeight(
        this.type,
        source instanceof Y.Text ? source.toString() : String(source ?? ""),
        this.type === "code" ? outputViews(this.cell.get("outputs")) : [],
        this.type === "markdown",
      );
    this.element.style.height = `${height}px`;
  }

  /** Builds the cell's content: editor (or rendered Markdown), prompt, outputs. */
  draw(): void {
    if (this.drawn) return;
    this.drawn = true;
    this.element.classList.remove("cell-placeholder");
    this.element.style.height = "";
    this.prompt = h("div", { class: "cell-prompt" });
    this.editorHost = h("div", { class: "cell-editor" });
    this.toolbar = h("div", { class: "cell-toolbar" });
    this.outputs = h("div", { class: "cell-outputs", attrs: { "aria-label": "Outputs", "aria-readonly": "true" } });
    this.element.append(h("div", { class: "cell-input" }, this.prompt, this.editorHost, this.toolbar, this.notebook.comments?.cellBadge(this.cell)), this.outputs);
    this.cell.observe(this.onCell);
    this.mountSource();
    this.watchOutputs();
    this.renderToolbar();
  }

  /** Back to a placeholder of `height` (the drawn height), unless it holds the focus. */
  undraw(height: number): void {
    if (!this.drawn || this.element.contains(document.activeElement)) return;
    this.measuredHeight = height > 0 ? height : null;
    this.teardown();
    this.drawn = false;
    this.editing = false;
    this.element.classList.add("cell-placeholder");
    this.placehold();
  }

  private teardown(): void {
    this.cell.unobserve(this.onCell);
    this.observedOutputs?.unobserveDeep(this.onOutputs);
    this.observedOutputs = null;
    this.observedSource?.unobserve(this.onSourceText);
    this.observedSource = null;
    if (this.markdownFrame !== null) cancelAnimationFrame(this.markdownFrame);
    this.markdownFrame = null;
    this.editor?.destroy();
    this.editor = null;
    clear(this.element);
    this.prompt = this.editorHost = this.toolbar = this.outputs = null;
  }

  private mountSource(): void {
    const host = this.editorHost;
    if (!host) return;
    this.editor?.destroy();
    this.editor = null;
    this.observedSource?.unobserve(this.onSourceText);
    this.observedSource = null;
    clear(host);
    this.element.dataset.cellType = this.type;
    this.renderPrompt();
    const source = this.cell.get("source");
    if (!(source instanceof Y.Text)) {
      host.appendChild(h("pre", { class: "cell-static", text: String(source ?? "") }));
      return;
    }
    if (this.type === "markdown" && !this.editing && source.length > 0) {
      this.observedSource = source;
      source.observe(this.onSourceText);
      host.appendChild(this.renderedMarkdown(source));
      return;
    }
    this.editor = createEditor({
      parent: host,
      text: source,
      awareness: this.notebook.awareness,
      readOnly: this.notebook.readOnly,
      language: this.type === "code" ? "python" : "plain",
      placeholder: this.type === "markdown" ? "Markdown text" : this.type === "code" ? "Code" : "",
      label: `${this.type === "code" ? "Code" : this.type === "markdown" ? "Markdown" : "Raw"} cell source`,
      extensions: this.notebook.comments?.extension(this.cell, source),
    });
  }

  private renderedMarkdown(source: Y.Text): HTMLElement {
    const editable = !this.notebook.readOnly;
    const view = h("div", {
      class: "markdown-rendered",
      title: editable ? "Click to edit" : undefined,
      attrs: { tabindex: editable ? "0" : undefined, "aria-label": "Markdown cell" },
    });
    view.appendChild(renderMarkdown(source.toString()));
    if (editable) {
      view.addEventListener("click", (event) => {
        if ((event.target as Element | null)?.closest("a")) return; // a link is followed
        this.startEditing();
      });
      view.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          this.startEditing();
        }
      });
    }
    return view;
  }

  private startEditing(): void {
    if (this.notebook.readOnly || this.editing) return;
    this.editing = true;
    this.mountSource();
    this.focus();
  }

  private stopEditing(keepFocus: boolean): void {
    if (!this.editing) return;
    this.editing = false;
    this.mountSource();
    if (keepFocus) this.editorHost?.querySelector<HTMLElement>(".markdown-rendered")?.focus();
  }

  private maybeStopEditing(): void {
    if (!this.editing) return;
    // After the focus has moved: still inside the cell (its toolbar), or the window lost
    // the focus (the editor keeps it), means still editing.
    setTimeout(() => {
      if (!this.element.contains(document.activeElement)) this.stopEditing(false);
    }, 0);
  }

  private renderPrompt(): void {
    if (!this.prompt) return;
    const count = this.cell.get("execution_count");
    this.prompt.textContent = this.type === "code" ? `[${typeof count === "number" ? count : " "}]:` : "";
  }

  private watchOutputs(): void {
    this.observedOutputs?.unobserveDeep(this.onOutputs);
    const outputs = this.cell.get("outputs");
    this.observedOutputs = outputs instanceof Y.Array ? outputs : null;
    this.observedOutputs?.observeDeep(this.onOutputs);
    this.renderOutputs();
  }

  private renderOutputs(): void {
    const host = this.outputs;
    if (!host) return;
    clear(host);
    const views = outputViews(this.cell.get("outputs"));
    for (const view of views) host.appendChild(renderOutput(view));
    host.hidden = views.length === 0;
  }

  renderToolbar(): void {
    const toolbar = this.toolbar;
    if (!toolbar) return;
    clear(toolbar);
    if (this.notebook.readOnly) return;
    const button = (text: string, title: string, action: () => void): HTMLButtonElement =>
      h("button", { class: "cell-action", text, title, attrs: { type: "button", "aria-label": title }, on: { click: action } });
    const type = h(
      "select",
      { class: "cell-type", attrs: { "aria-label": "Cell type" } },
      ...(["code", "markdown", "raw"] as const).map((value) =>
        h("option", { text: CELL_TYPE_NAMES[value], attrs: { value, selected: value === this.type } }),
      ),
    );
    type.addEventListener("change", () => this.notebook.changeType(this, type.value as CellType));
    toolbar.append(
      type,
      button("↑", "Move this cell up", () => this.notebook.move(this, -1)),
      button("↓", "Move this cell down", () => this.notebook.move(this, 1)),
      button("+ Code", "Add a code cell below", () => this.notebook.insertAfter(this, "code")),
      button("+ Text", "Add a Markdown cell below", () => this.notebook.insertAfter(this, "markdown")),
      button("Delete", "Delete this cell", () => this.notebook.remove(this)),
    );
  }

  setReadOnly(readOnly: boolean): void {
    if (!this.drawn) return; // drawn later with the notebook's mode
    if (readOnly) this.editing = false;
    if (this.type === "markdown" && !this.editor) this.mountSource();
    else this.editor?.setReadOnly(readOnly);
    this.renderToolbar();
  }

  /** Focus without starting to edit a rendered Markdown cell (after a move). */
  focusInPlace(): void {
    this.draw();
    if (this.editor) this.editor.view.focus();
    else this.editorHost?.querySelector<HTMLElement>(".markdown-rendered")?.focus();
  }

  focus(): void {
    this.draw();
    if (this.type === "markdown" && !this.editor) this.startEditing();
    this.editor?.view.focus();
  }

  destroy(): void {
    if (this.drawn) this.teardown();
    this.element.remove();
  }
}

export class NotebookView {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private components = new Map<Y.Map<unknown>, CellComponent>();
  private readonly byElement = new WeakMap<Element, CellComponent>();
  private readonly cells: Y.Array<Y.Map<unknown>>;
  private readonly visibility: IntersectionObserver;
  private readonly onCells = (): void => this.reconcile();
  /** Comment markers and badges (comments/cells.ts), set before cells are drawn. */
  comments: NotebookComments | null = null;

  constructor(
    private readonly doc: Y.Doc,
    readonly awareness: Awareness,
    public readOnly: boolean,
  ) {
    this.cells = notebookCells(doc);
    this.list = h("div", { class: "cells" });
    this.empty = h("div", { class: "empty-notebook" }, h("p", { text: "This notebook has no cells." }));
    this.element = h("div", { class: "notebook", attrs: { role: "list" } }, this.list, this.empty);
    this.visibility = new IntersectionObserver((entries) => this.onVisibility(entries), { rootMargin: DRAW_MARGIN });
    this.cells.observe(this.onCells);
    this.reconcile();
  }

  private onVisibility(entries: IntersectionObserverEntry[]): void {
    // Empty the cells that left first: their height comes with the entry, no layout.
    for (const entry of entries) {
      if (!entry.isIntersecting) this.byElement.get(entry.target)?.undraw(entry.boundingClientRect.height);
    }
    for (const entry of entries) {
      if (entry.isIntersecting) this.byElement.get(entry.target)?.draw();
    }
  }

  /** How many cells have their content built (the rest are placeholders). */
  get drawnCount(): number {
    let drawn = 0;
    for (const component of this.components.values()) if (component.isDrawn) drawn += 1;
    return drawn;
  }

  private reconcile(): void {
    const present = new Set<Y.Map<unknown>>();
    let previous: Element | null = null;
    for (const cell of this.cells.toArray()) {
      if (!(cell instanceof Y.Map)) continue;
      present.add(cell);
      let component = this.components.get(cell);
      if (!component) {
        component = new CellComponent(cell, this);
        this.components.set(cell, component);
        this.byElement.set(component.element, component);
        this.visibility.observe(component.element);
      }
      const expected: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== component.element) {
        this.list.insertBefore(component.element, expected);
      }
      previous = component.element;
    }
    for (const [cell, component] of this.components) {
      if (!present.has(cell)) {
        this.visibility.unobserve(component.element);
        component.destroy();
        this.components.delete(cell);
      }
    }
    this.renderEmpty();
  }

  private renderEmpty(): void {
    const isEmpty = this.components.size === 0;
    this.empty.hidden = !isEmpty;
    const actions = this.empty.querySelector(".empty-actions");
    actions?.remove();
    if (isEmpty && !this.readOnly) {
      this.empty.appendChild(
        h(
          "div",
          { class: "empty-actions" },
          h("button", { class: "button", text: "Add a code cell", attrs: { type: "button" }, on: { click: () => this.insertAt(0, "code") } }),
          h("button", { class: "button", text: "Add a Markdown cell", attrs: { type: "button" }, on: { click: () => this.insertAt(0, "markdown") } }),
        ),
      );
    }
  }

  private indexOf(component: CellComponent): number {
    return this.cells.toArray().indexOf(component.cell);
  }

  insertAt(index: number, type: CellType): void {
    if (this.readOnly) return;
    const cell = insertCell(this.doc, index, type);
    this.components.get(cell)?.focus();
  }

  insertAfter(component: CellComponent, type: CellType): void {
    this.insertAt(this.indexOf(component) + 1, type);
  }

  /** Moves a cell one place up (-1) or down (+1), keeping the focus on it. */
  move(component: CellComponent, step: -1 | 1): void {
    if (this.readOnly) return;
    const index = this.indexOf(component);
    const moved = index >= 0 ? moveCell(this.doc, index, index + step) : null;
    if (moved) this.focusCell(moved);
  }

  changeType(component: CellComponent, type: CellType): void {
    if (this.readOnly) return;
    const index = this.indexOf(component);
    const changed = index >= 0 ? changeCellType(this.doc, index, type) : null;
    if (changed) this.focusCell(changed);
  }

  private focusCell(cell: Y.Map<unknown>): void {
    const component = this.components.get(cell);
    if (!component) return;
    component.focusInPlace();
    component.element.scrollIntoView({ block: "nearest" });
  }

  /**
   * Following someone (views/presence.ts): scrolls to the cell with `cellId` and marks
   * it in their colour. Every cell has an element (a placeholder far from view), so it
   * is scrolled to first; drawing it and its neighbours may change heights, so it is
   * checked again once they are drawn.
   */
  revealCell(cellId: string | null, color: string): void {
    let target: CellComponent | null = null;
    for (const component of this.components.values()) {
      const isTarget = cellId !== null && component.cell.get("id") === cellId;
      component.element.classList.toggle("followed", isTarget);
      if (isTarget) target = component;
    }
    if (!target) return;
    const element = target.element;
    element.style.setProperty("--follow-color", color);
    const intoView = (): void => {
      const box = element.getBoundingClientRect();
      if (box.bottom <= 0 || box.top >= window.innerHeight) {
        element.scrollIntoView({ block: box.height > window.innerHeight ? "start" : "center" });
      }
    };
    intoView();
    target.draw();
    requestAnimationFrame(() => requestAnimationFrame(intoView));
    setTimeout(intoView, 300);
  }

  remove(component: CellComponent): void {
    if (this.readOnly) return;
    const index = this.indexOf(component);
    if (index >= 0) deleteCell(this.doc, index);
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    for (const component of this.components.values()) component.setReadOnly(readOnly);
    this.renderEmpty();
  }

  destroy(): void {
    this.visibility.disconnect();
    this.cells.unobserve(this.onCells);
    for (const component of this.components.values()) component.destroy();
    this.components.clear();
  }
}
