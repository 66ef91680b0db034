/** The comment endpoints of the REST API (docs/comments.md, "REST"). */

import { ApiError, type ApiClient } from "../api";
import type { Anchor, Thread } from "./model";

/** The server's 400 for an anchor naming Yjs items it does not hold (yet). */
const UNKNOWN_ITEMS = "positions that are not in the document";

/** How many times a new thread is posted while the server lacks the edits it names. */
const CREATE_TRIES = 5;

export class CommentsClient {
  /** `retryMs`: the wait before posting a new thread again (see `create`). */
  constructor(
    private readonly api: ApiClient,
    private readonly docId: string,
    private readonly link: string | null,
    private readonly retryMs = 400,
  ) {}

  private path(...parts: string[]): string {
    return [`documents/${encodeURIComponent(this.docId)}/threads`, ...parts.map(encodeURIComponent)].join("/");
  }

  async list(): Promise<Thread[]> {
    const answer = await this.api.request<{ threads: Thread[] }>("GET", this.path(), undefined, { link: this.link });
    return answer.threads;
  }

  /**
   * Starts a thread. An anchor made right after the author's own typing may name items
   * still on their way to the server (400): posted again a few times, a moment apart.
   */
  async create(anchor: Anchor, body: string, suggestion: { text: string } | null = null): Promise<Thread> {
    const payload = suggestion ? { anchor, body, suggestion } : { anchor, body };
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.api.request<Thread>("POST", this.path(), payload, { link: this.link });
      } catch (failure) {
        const lacking = failure instanceof ApiError && failure.status === 400 && failure.message.includes(UNKNOWN_ITEMS);
        if (!lacking || attempt >= CREATE_TRIES) throw failure;
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      }
    }
  }

  reply(threadId: string, body: string): Promise<Thread> {
    return this.api.request<Thread>("POST", this.path(threadId, "comments"), { body }, { link: this.link });
  }

  edit(threadId: string, commentId: string, body: string): Promise<Thread> {
    return this.api.request<Thread>("PATCH", this.path(threadId, "comments", commentId), { body }, { link: this.link });
  }

  /** The thread as it is now, or undefined when the comment was its first (thread gone). */
  removeComment(threadId: string, commentId: string): Promise<Thread | undefined> {
    return this.api.request<Thread | undefined>("DELETE", this.path(threadId, "comments", commentId), undefined, { link: this.link });
  }

  removeThread(threadId: string): Promise<void> {
    return this.api.request<void>("DELETE", this.path(threadId), undefined, { link: this.link });
  }

  /** Applies a suggestion (editors, owners); 409 when it no longer applies or was decided. */
  accept(threadId: string): Promise<Thread> {
    return this.api.request<Thread>("POST", this.path(threadId, "accept"), undefined, { link: this.link });
  }

  /** Rejects a suggestion, or withdraws it when the suggester asks. */
  reject(threadId: string): Promise<Thread> {
    return this.api.request<Thread>("POST", this.path(threadId, "reject"), undefined, { link: this.link });
  }

  setResolved(threadId: string, resolved: boolean): Promise<Thread> {
    return this.api.request<Thread>("PATCH", this.path(threadId), { resolved }, { link: this.link });
  }
}
