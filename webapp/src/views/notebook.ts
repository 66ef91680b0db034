/** A notebook as its cells: one live CodeMirror per cell source, read-only outputs. */

import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import { clear, h } from "../dom";
import { type BoundEditor, createEditor } from "../editor";
import { cellType, deleteCell, insertCell, notebookCells, outputViews, type CellType } from "../notebook";
import { renderOutput } from "./outputs";

class CellComponent {
  readonly element: HTMLElement;
  private readonly prompt: HTMLElement;
  private readonly outputs: HTMLElement;
  private readonly editorHost: HTMLElement;
  private readonly toolbar: HTMLElement;
  private editor: BoundEditor | null = null;
  private observedOutputs: Y.Array<unknown> | null = null;
  private readonly onOutputs = (): void => this.renderOutputs();
  private readonly onCell = (event: Y.YMapEvent<unknown>): void => {
    if (event.keysChanged.has("outputs")) this.watchOutputs();
    if (event.keysChanged.has("execution_count")) this.renderPrompt();
    if (event.keysChanged.has("source") || event.keysChanged.has("cell_type")) this.mountEditor();
  };

  constructor(
    readonly cell: Y.Map<unknown>,
    private readonly notebook: NotebookView,
  ) {
    this.prompt = h("div", { class: "cell-prompt" });
    this.editorHost = h("div", { class: "cell-editor" });
    this.outputs = h("div", { class: "cell-outputs", attrs: { "aria-label": "Outputs", "aria-readonly": "true" } });
    this.toolbar = h("div", { class: "cell-toolbar" });
    this.element = h(
      "section",
      { class: "cell", attrs: { "aria-label": "Cell" } },
      h("div", { class: "cell-input" }, this.prompt, this.editorHost, this.toolbar),
      this.outputs,
    );
    cell.observe(this.onCell);
    this.mountEditor();
    this.watchOutputs();
    this.renderToolbar();
  }

  get type(): CellType {
    return cellType(this.cell);
  }

  private mountEditor(): void {
    this.editor?.destroy();
    clear(this.editorHost);
    this.element.dataset.cellType = this.type;
    this.renderPrompt();
    const source = this.cell.get("source");
    if (!(source instanceof Y.Text)) {
      this.editorHost.appendChild(h("pre", { class: "cell-static", text: String(source ?? "") }));
      this.editor = null;
      return;
    }
    this.editor = createEditor({
      parent: this.editorHost,
      text: source,
      awareness: this.notebook.awareness,
      readOnly: this.notebook.readOnly,
      language: this.type === "code" ? "python" : "plain",
      placeholder: this.type === "markdown" ? "Markdown text" : this.type === "code" ? "Code" : "",
      label: `${this.type === "code" ? "Code" : this.type === "markdown" ? "Markdown" : "Raw"} cell source`,
    });
  }

  private renderPrompt(): void {
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
    clear(this.outputs);
    const views = outputViews(this.cell.get("outputs"));
    for (const view of views) this.outputs.appendChild(renderOutput(view));
    this.outputs.hidden = views.length === 0;
  }

  renderToolbar(): void {
    clear(this.toolbar);
    if (this.notebook.readOnly) return;
    const button = (text: string, title: string, action: () => void): HTMLButtonElement =>
      h("button", { class: "cell-action", text, title, attrs: { type: "button", "aria-label": title }, on: { click: action } });
    this.toolbar.append(
      button("+ Code", "Add a code cell below", () => this.notebook.insertAfter(this, "code")),
      button("+ Text", "Add a Markdown cell below", () => this.notebook.insertAfter(this, "markdown")),
      button("Delete", "Delete this cell", () => this.notebook.remove(this)),
    );
  }

  setReadOnly(readOnly: boolean): void {
    this.editor?.setReadOnly(readOnly);
    this.renderToolbar();
  }

  focus(): void {
    this.editor?.view.focus();
  }

  destroy(): void {
    this.cell.unobserve(this.onCell);
    this.observedOutputs?.unobserveDeep(this.onOutputs);
    this.editor?.destroy();
    this.element.remove();
  }
}

export class NotebookView {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private components = new Map<Y.Map<unknown>, CellComponent>();
  private readonly cells: Y.Array<Y.Map<unknown>>;
  private readonly onCells = (): void => this.reconcile();

  constructor(
    private readonly doc: Y.Doc,
    readonly awareness: Awareness,
    public readOnly: boolean,
  ) {
    this.cells = notebookCells(doc);
    this.list = h("div", { class: "cells" });
    this.empty = h(
      "div",
      { class: "empty-notebook" },
      h("p", { text: "This notebook has no cells." }),
    );
    this.element = h("div", { class: "notebook", attrs: { role: "list" } }, this.list, this.empty);
    this.cells.observe(this.onCells);
    this.reconcile();
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
      }
      const expected: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== component.element) {
        this.list.insertBefore(component.element, expected);
      }
      previous = component.element;
    }
    for (const [cell, component] of this.components) {
      if (!present.has(cell)) {
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
    this.cells.unobserve(this.onCells);
    for (const component of this.components.values()) component.destroy();
    this.components.clear();
  }
}
