/**
 * Outputs of shared documents are never trusted.
 *
 * Anyone who may edit a document writes its outputs, and `metadata.trusted` with them:
 * a trusted HTML output runs its scripts in every reader's JupyterLab, with the reader's
 * cookie and kernels. JupyterLab trusts a cell whose metadata says so when it builds
 * the cell's model, and also trusts the cells it creates itself (and any cell whose
 * outputs it clears), so an output another editor adds to such a cell would run too.
 * Here every cell of a shared notebook is untrusted whatever its metadata, from the
 * first load on, for new cells and for every later attempt to trust it.
 */

import type { ISharedCell, YNotebook } from '@jupyter/ydoc';
import type { ICellModel } from '@jupyterlab/cells';
import type { INotebookModel } from '@jupyterlab/notebook';

/** Marks the objects already guarded, so guarding twice is harmless. */
const GUARDED = new WeakSet<object>();

/**
 * Make the cells of a shared notebook read `metadata.trusted` as false.
 *
 * Call it right after creating the shared model, before a notebook model is built on
 * it: the handler then runs before the notebook model's cell list, which builds each
 * cell's model (and reads `trusted`) when a cell arrives.
 */
export function untrustSharedNotebook(sharedModel: YNotebook): void {
  if (GUARDED.has(sharedModel)) {
    return;
  }
  GUARDED.add(sharedModel);
  for (const cell of sharedModel.cells) {
    untrustSharedCell(cell);
  }
  sharedModel.changed.connect((_, change) => {
    for (const delta of change.cellsChange ?? []) {
      for (const cell of delta.insert ?? []) {
        untrustSharedCell(cell);
      }
    }
  });
}

/** The keyed metadata read of a shared cell answers `false` for `trusted`. */
function untrustSharedCell(cell: ISharedCell): void {
  if (GUARDED.has(cell)) {
    return;
  }
  GUARDED.add(cell);
  const getMetadata = cell.getMetadata.bind(cell) as (key?: string) => any;
  cell.getMetadata = ((key?: string) =>
    key === 'trusted' ? false : getMetadata(key)) as typeof cell.getMetadata;
}

/**
 * Keep every cell model of a shared notebook untrusted: the cells there are now and
 * every cell added later. Setting `trusted` (JupyterLab's own new cells, "clear
 * outputs", "Trust notebook", another extension) does nothing on them.
 */
export function untrustNotebookModel(model: INotebookModel): void {
  if (GUARDED.has(model)) {
    return;
  }
  GUARDED.add(model);
  for (const cell of model.cells) {
    lockUntrusted(cell);
  }
  model.cells.changed.connect((_, change) => {
    for (const cell of change.newValues) {
      if (cell) {
        lockUntrusted(cell);
      }
    }
  });
}

/** Make a cell model, and its outputs, untrusted for good. */
export function lockUntrusted(cell: ICellModel): void {
  if (GUARDED.has(cell)) {
    return;
  }
  GUARDED.add(cell);
  cell.trusted = false;
  lockFalse(cell, 'trusted');
  const outputs = (cell as { outputs?: { trusted: boolean } }).outputs;
  if (outputs) {
    outputs.trusted = false;
    lockFalse(outputs, 'trusted');
  }
}

/** An own accessor shadowing the class's: reads false, ignores writes. */
function lockFalse(target: object, property: string): void {
  Object.defineProperty(target, property, {
    configurable: false,
    enumerable: true,
    get: () => false,
    set: () => undefined
  });
}

/**
 * A notebook's JSON with no cell claiming to be trusted (content read over REST, for
 * views that do not edit through the room).
 */
export function untrustedNotebookContent(content: unknown): unknown {
  if (!content || typeof content !== 'object') {
    return content;
  }
  const cells = (content as { cells?: unknown }).cells;
  if (!Array.isArray(cells)) {
    return content;
  }
  return {
    ...(content as Record<string, unknown>),
    cells: cells.map(cell => {
      if (!cell || typeof cell !== 'object') {
        return cell;
      }
      const metadata = (cell as { metadata?: unknown }).metadata;
      if (!metadata || typeof metadata !== 'object') {
        return cell;
      }
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { trusted, ...rest } = metadata as Record<string, unknown>;
      return { ...(cell as Record<string, unknown>), metadata: rest };
    })
  };
}
