/**
 * The comment endpoints of the REST API (docs/comments.md, "REST"), on the extension's
 * client: `{base}api/collab-docs/documents/{id}/threads...`.
 */

import type { CollabDocsClient } from './api';
import type { Anchor, IThread } from './comments';

const enc = encodeURIComponent;

export class CommentsApi {
  constructor(private _client: CollabDocsClient) {}

  /** Every thread of a document, oldest first (the filters are applied locally). */
  async list(docId: string): Promise<IThread[]> {
    const reply = await this._client.request<{ threads: IThread[] }>(
      'GET',
      `documents/${enc(docId)}/threads`
    );
    return reply.threads;
  }

  create(docId: string, anchor: Anchor, body: string): Promise<IThread> {
    return this._client.request('POST', `documents/${enc(docId)}/threads`, {
      anchor,
      body
    });
  }

  reply(docId: string, threadId: string, body: string): Promise<IThread> {
    return this._client.request(
      'POST',
      `${this._thread(docId, threadId)}/comments`,
      { body }
    );
  }

  setResolved(
    docId: string,
    threadId: string,
    resolved: boolean
  ): Promise<IThread> {
    return this._client.request('PATCH', this._thread(docId, threadId), {
      resolved
    });
  }

  editComment(
    docId: string,
    threadId: string,
    commentId: string,
    body: string
  ): Promise<IThread> {
    return this._client.request(
      'PATCH',
      `${this._thread(docId, threadId)}/comments/${enc(commentId)}`,
      { body }
    );
  }

  /** The thread as it is now, or undefined when deleting its first comment deleted it. */
  deleteComment(
    docId: string,
    threadId: string,
    commentId: string
  ): Promise<IThread | undefined> {
    return this._client.request(
      'DELETE',
      `${this._thread(docId, threadId)}/comments/${enc(commentId)}`
    );
  }

  deleteThread(docId: string, threadId: string): Promise<void> {
    return this._client.request('DELETE', this._thread(docId, threadId));
  }

  private _thread(docId: string, threadId: string): string {
    return `documents/${enc(docId)}/threads/${enc(threadId)}`;
  }
}
