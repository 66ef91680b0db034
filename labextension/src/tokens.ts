import { Token } from '@lumino/coreutils';

import type { CollabDocsClient, IDocumentModel, IMe } from './api';
import type { CollabDocsDrive } from './drive';

/** The extension's services, for its other plugins (and other extensions). */
export interface ICollabDocs {
  readonly client: CollabDocsClient;
  readonly drive: CollabDocsDrive;
  /** Who I am, once known. */
  me(): IMe | null;
  readonly ready: Promise<void>;
  /** Open a document in JupyterLab's own editors. */
  open(doc: IDocumentModel): void;
  /** Show a document's share dialog. */
  share(doc: IDocumentModel): void;
}

export const ICollabDocs = new Token<ICollabDocs>(
  'jupyter-collab-docs:ICollabDocs',
  'Shared documents stored in a database: REST client, drive, actions.'
);
