/**
 * Download a document as a file: a notebook as `.ipynb`, a text document as its text.
 *
 * The server's file (`content?format=file`, recorded as `document.exported`) is the one
 * saved while the server serves it. A document deleted while this page had it open
 * (or a server that no longer answers) is saved from what the page holds: its Y.Doc,
 * converted here as the server's jupyter_ydoc would (the file name too: downloads.py).
 */

import type * as Y from "yjs";

import type { ApiClient, DocType, DocumentModel } from "./api";

/** What JupyterLab's drive puts in place of `/` in a document's name. */
const SLASH_STANDIN = "\u2215";
const EXTENSION = /\.[A-Za-z0-9_+-]{1,10}$/;

export const MEDIA_TYPES: Record<DocType, string> = {
  notebook: "application/x-ipynb+json",
  file: "text/plain; charset=utf-8",
};

/** The file name a document is saved as (downloads.py's `download_name`). */
export function downloadName(name: string, type: DocType): string {
  const safe = name.split("/").join(SLASH_STANDIN);
  if (type === "notebook") return safe.toLowerCase().endsWith(".ipynb") ? safe : `${safe}.ipynb`;
  const hasExtension = EXTENSION.test(safe) && !safe.startsWith(".");
  return hasExtension ? safe : `${safe}.txt`;
}

type JsonObject = Record<string, unknown>;

function withoutTrust(holder: JsonObject): void {
  const metadata = holder.metadata;
  if (metadata && typeof metadata === "object") delete (metadata as JsonObject).trusted;
}

/** The nbformat JSON of a notebook's Y.Doc (jupyter_ydoc's `YNotebook.get`). */
export function notebookJson(doc: Y.Doc): JsonObject {
  const meta = doc.getMap("meta").toJSON() as JsonObject;
  const nbformat = Number(meta.nbformat ?? 4);
  const minor = Number(meta.nbformat_minor ?? 5);
  const cells = (doc.getArray("cells").toJSON() as JsonObject[]).map((cell) => {
    const copy: JsonObject = { ...cell };
    delete copy.execution_state;
    if ("id" in copy && nbformat === 4 && minor <= 4) delete copy.id; // no ids before 4.5
    const attachments = copy.attachments;
    const emptyAttachments = !attachments || (typeof attachments === "object" && Object.keys(attachments).length === 0);
    if ("attachments" in copy && copy.cell_type !== "code" && emptyAttachments) delete copy.attachments;
    withoutTrust(copy);
    return copy;
  });
  const notebook: JsonObject = { cells, metadata: meta.metadata ?? {}, nbformat, nbformat_minor: minor };
  withoutTrust(notebook);
  return notebook;
}

/** The bytes of the file, from the page's Y.Doc (downloads.py's `file_bytes`). */
export function fileFromDoc(doc: Y.Doc, type: DocType): Blob {
  const text = type === "notebook" ? JSON.stringify(notebookJson(doc), null, 1) + "\n" : doc.getText("source").toString();
  return new Blob([text], { type: MEDIA_TYPES[type] });
}

/** Hand a file to the browser to save. */
export function saveFile(file: Blob, name: string): void {
  const url = URL.createObjectURL(file);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  anchor.hidden = true;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Save the document: the server's file, or, once the document is deleted or the server
 * cannot give it, what this page holds. Resolves with where the file came from.
 */
export async function downloadDocument(
  api: ApiClient,
  model: DocumentModel,
  doc: Y.Doc,
  options: { link?: string | null; deleted?: boolean } = {},
): Promise<"server" | "page"> {
  const name = downloadName(model.name, model.type);
  if (!options.deleted) {
    try {
      saveFile(await api.contentFile(model.id, options.link), name);
      return "server";
    } catch {
      // Deleted meanwhile, or the server is away: what the page holds is still the user's.
    }
  }
  saveFile(fileFromDoc(doc, model.type), name);
  return "page";
}
