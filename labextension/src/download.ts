/**
 * Save what an open shared document holds, from JupyterLab's own model: for a document
 * deleted while it was open, which the server no longer gives (File > Download asks the
 * server). The file is what the server's would have been: nbformat JSON without
 * `trusted` for a notebook, the text for a text document, under the tab's name.
 */

import { PathExt } from '@jupyterlab/coreutils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';

type JsonObject = Record<string, any>;

function withoutTrust(holder: JsonObject | undefined): void {
  if (holder?.metadata && typeof holder.metadata === 'object') {
    delete holder.metadata.trusted;
  }
}

/** The file of a document model: a notebook's nbformat JSON, or a text's text. */
export function fileOfModel(model: DocumentRegistry.IModel): Blob {
  if ((model as any).cells !== undefined) {
    const notebook = model.toJSON() as JsonObject;
    withoutTrust(notebook);
    for (const cell of notebook.cells ?? []) {
      withoutTrust(cell);
    }
    return new Blob([JSON.stringify(notebook, null, 1) + '\n'], {
      type: 'application/x-ipynb+json'
    });
  }
  return new Blob([model.toString()], { type: 'text/plain; charset=utf-8' });
}

/** Hand the open document's content to the browser to save. */
export function saveOpenDocument(
  context: DocumentRegistry.IContext<DocumentRegistry.IModel>
): void {
  const url = URL.createObjectURL(fileOfModel(context.model));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = PathExt.basename(context.path);
  anchor.hidden = true;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
