/** The comment endpoints of the REST API (docs/comments.md, "REST"). */

import type { ApiClient } from "../api";
import type { Anchor, Thread } from "./model";

export class CommentsClient {
  constructor(
    private readonly api: ApiClient,
    private readonly docId: string,
    private readonly link: string | null,
  ) {}

  private path(...parts: string[]): string {
    return [`documents/${encodeURIComponent(this.docId)}/threads`, ...parts.map(encodeURIComponent)].join("/");
  }

  async list(): Promise<Thread[]> {
    const answer = await this.api.request<{ threads: Thread[] }>("GET", this.path(), undefined, { link: this.link });
    return answer.threads;
  }

  create(anchor: Anchor, body: string): Promise<Thread> {
    return this.api.request<Thread>("POST", this.path(), { anchor, body }, { link: this.link });
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

  setResolved(threadId: string, resolved: boolean): Promise<Thread> {
    return this.api.request<Thread>("PATCH", this.path(threadId), { resolved }, { link: this.link });
  }
}
