/**
 * The path scheme of the collaborative documents drive.
 *
 * A document is opened at `CollabDocs:<id>/<file name>`: the id finds the document on
 * the server, the file name becomes the tab title and its extension picks JupyterLab's
 * widget factory (`.ipynb` for notebooks; a file document keeps its own extension, or
 * gets `.txt`). Slashes in a document's name are shown as a division slash (U+2215) so a
 * name never adds path segments.
 */

export type DocumentType = 'notebook' | 'file';

/** The name of the contents drive. */
export const DRIVE_NAME = 'CollabDocs';

const SLASH_STANDIN = '\u2215';

/** The extension a name already has, e.g. `.md` for `notes.md`, or `''`. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    return '';
  }
  const ext = name.slice(dot);
  // A plausible file extension: letters and digits only, not too long.
  return /^\.[A-Za-z0-9_+-]{1,10}$/.test(ext) ? ext : '';
}

/** The file name under which a document is shown (the tab title). */
export function fileNameFor(name: string, type: DocumentType): string {
  const safe = name.replace(/\//g, SLASH_STANDIN);
  if (type === 'notebook') {
    return safe.toLowerCase().endsWith('.ipynb') ? safe : `${safe}.ipynb`;
  }
  return extensionOf(safe) ? safe : `${safe}.txt`;
}

/**
 * The document name for a file name the user typed (a rename in JupyterLab), given the
 * document's current name: the extension that `fileNameFor` adds is taken off again.
 */
export function nameFromFileName(
  fileName: string,
  type: DocumentType,
  currentName?: string
): string {
  let name = fileName.replace(new RegExp(SLASH_STANDIN, 'g'), '/');
  const added = type === 'notebook' ? '.ipynb' : '.txt';
  const currentHadIt =
    currentName !== undefined &&
    currentName.toLowerCase().endsWith(added.toLowerCase());
  if (
    !currentHadIt &&
    name.toLowerCase().endsWith(added) &&
    name.length > added.length
  ) {
    name = name.slice(0, -added.length);
  }
  return name;
}

/** The drive-local path of a document: `<id>/<file name>`. */
export function localPathFor(
  id: string,
  name: string,
  type: DocumentType
): string {
  return `${id}/${fileNameFor(name, type)}`;
}

/** The global (JupyterLab) path of a document: `CollabDocs:<id>/<file name>`. */
export function documentPath(
  id: string,
  name: string,
  type: DocumentType
): string {
  return `${DRIVE_NAME}:${localPathFor(id, name, type)}`;
}

/** A path split into its parts. */
export interface IParsedPath {
  /** The document id; `''` for the drive's root. */
  id: string;
  /** The file name; `''` when the path names only the document (a "directory"). */
  fileName: string;
}

/**
 * Parse a drive-local path (`<id>/<file name>`) or a global one
 * (`CollabDocs:<id>/<file name>`). Leading and trailing slashes are ignored.
 */
export function parsePath(path: string): IParsedPath {
  let local = path;
  const prefix = `${DRIVE_NAME}:`;
  if (local.startsWith(prefix)) {
    local = local.slice(prefix.length);
  }
  local = local.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!local) {
    return { id: '', fileName: '' };
  }
  const slash = local.indexOf('/');
  if (slash < 0) {
    return { id: local, fileName: '' };
  }
  return { id: local.slice(0, slash), fileName: local.slice(slash + 1) };
}

/** Whether a global path belongs to this drive. */
export function isDrivePath(path: string): boolean {
  return path.startsWith(`${DRIVE_NAME}:`);
}

/** The document type a JupyterLab content type or file name stands for. */
export function typeForFile(
  fileName: string,
  contentType?: string
): DocumentType {
  if (contentType === 'notebook') {
    return 'notebook';
  }
  if (contentType === 'file') {
    return 'file';
  }
  return fileName.toLowerCase().endsWith('.ipynb') ? 'notebook' : 'file';
}
