/**
 * The comment endpoints of the REST API (docs/comments.md, "REST"), on the extension's
 * client: `{base}api/collab-docs/documents/{id}/threads...`.
 */

import { ApiError, CollabDocsClient } from './api';
import type { Anchor, INotifications, IThread } from './comments';

/** A write's answer: the thread, and who its mentions told (docs/comments.md). */
export type IWrittenThread = IThread & { notifications?: INotifications };

/** A person who can read a document (`GET documents/{id}/readers`). */
export interface IReader {
  username: string;
  display_name: string;
}

const enc = encodeURIComponent;

/** The server's answer to an anchor naming Yjs items it does not hold (yet). */
const UNKNOWN_ITEMS = 'positions that are not in the document';

/** How many times a new thread is posted while the server lacks the edits it names. */
const CREATE_TRIES = 5;

export class CommentsApi {
  /** `retryMs`: the wait before posting a new thread again (see `create`). */
  constructor(
    private _client: CollabDocsClient,
    private _retryMs = 400
  ) {}

  /** Every thread of a document, oldest first (the filters are applied locally). */
  async list(docId: string): Promise<IThread[]> {
    const reply = await this._client.request<{ threads: IThread[] }>(
      'GET',
      `documents/${enc(docId)}/threads`
    );
    return reply.threads;
  }

  /**
   * Start a thread. An anchor made just after the author's own typing may name items
   * still on their way to the server (400): post again a few times, a moment apart.
   * With `suggestion` (the proposed text, "" to delete) the thread is a suggestion.
   */
  async create(
    docId: string,
    anchor: Anchor,
    body: string,
    suggestion?: string
  ): Promise<IWrittenThread> {
    const payload =
      suggestion === undefined
        ? { anchor, body }
        : { anchor, body, suggestion: { text: suggestion } };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this._client.request<IWrittenThread>(
          'POST',
          `documents/${enc(docId)}/threads`,
          payload
        );
      } catch (error) {
        const lacking =
          error instanceof ApiError &&
          error.status === 400 &&
          error.message.includes(UNKNOWN_ITEMS);
        if (!lacking || attempt >= CREATE_TRIES) {
          throw error;
        }
        await new Promise(resolve => setTimeout(resolve, this._retryMs));
      }
    }
  }

  reply(
    docId: string,
    threadId: string,
    body: string
  ): Promise<IWrittenThread> {
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

  /** Apply a suggestion (editors, owners); 409 when decided or it no longer applies. */
  accept(docId: string, threadId: string): Promise<IThread> {
    return this._client.request(
      'POST',
      `${this._thread(docId, threadId)}/accept`
    );
  }

  /** Reject a suggestion (editors, owners), or withdraw it (its suggester). */
  reject(docId: string, threadId: string): Promise<IThread> {
    return this._client.request(
      'POST',
      `${this._thread(docId, threadId)}/reject`
    );
  }

  /** Who may be @-mentioned: readers whose username or display name starts so. */
  async readers(docId: string, query: string): Promise<IReader[]> {
    const reply = await this._client.request<{ readers: IReader[] }>(
      'GET',
      `documents/${enc(docId)}/readers?q=${enc(query)}`
    );
    return reply.readers;
  }

  deleteThread(docId: string, threadId: string): Promise<void> {
    return this._client.request('DELETE', this._thread(docId, threadId));
  }

  private _thread(docId: string, threadId: string): string {
    return `documents/${enc(docId)}/threads/${enc(threadId)}`;
  }
}
