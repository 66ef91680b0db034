/**
 * The comments side panel: the threads of the current shared document, with filters
 * (open, resolved, mine, mentioning me), each thread's quote (and whether its text is
 * gone: "detached"), its comments, a reply box, edit / delete of one's own comments and
 * resolve / reopen where the role allows. Everything people wrote is set as text.
 */

import { Widget } from '@lumino/widgets';

import {
  Anchor,
  canComment,
  canDeleteComment,
  canEditComment,
  canResolve,
  filterThreads,
  IThread,
  IThreadComment,
  IThreadFilter,
  shortQuote,
  StatusFilter
} from './comments';
import type { CommentsStore } from './commentsstore';
import { el, select, when } from './dom';

/** What the panel asks of the plugin around it. */
export interface ICommentsPanelHost {
  me(): string | null;
  /** A person's display name, when known (else the username). */
  nameOf(username: string): string;
  /** Whether a thread's anchor still holds text here; undefined: not known locally. */
  attached(store: CommentsStore, thread: IThread): boolean | undefined;
  /** Show a thread's anchor in its document. */
  reveal(store: CommentsStore, thread: IThread): void;
  /** Start a comment on the current selection (or the active cell). */
  addComment(): void;
}

/** A comment being written: on `anchor`, quoting `quote`. */
export interface IDraft {
  anchor: Anchor;
  quote: string;
}

const STATUSES: readonly StatusFilter[] = ['open', 'resolved', 'all'];

export class CommentsPanel extends Widget {
  constructor(private _host: ICommentsPanelHost) {
    super();
    this.id = 'jp-CollabDocs-comments';
    this.addClass('jp-CollabDocs-comments');
    this.title.caption = 'Comments';

    this._status = select(STATUSES, 'open', 'jp-CollabDocs-commentsStatus');
    this._status.addEventListener('change', () => {
      this._filter.status = this._status.value as StatusFilter;
      this.render();
    });
    const toggle = (label: string, key: 'mine' | 'mentioningMe') => {
      const box = el('input', {
        className: `jp-CollabDocs-commentsFilter-${key}`,
        attrs: { type: 'checkbox' }
      });
      box.addEventListener('change', () => {
        this._filter[key] = box.checked;
        this.render();
      });
      return el('label', {}, box, ` ${label}`);
    };
    this._add = el('button', {
      className: 'jp-CollabDocs-addComment jp-mod-styled jp-mod-accept',
      text: 'Add comment',
      title: 'Comment on the selected text, or on the active cell',
      onClick: () => this._host.addComment()
    });
    this._heading = el('div', { className: 'jp-CollabDocs-commentsDoc' });
    this.node.appendChild(
      el(
        'div',
        { className: 'jp-CollabDocs-commentsHeader' },
        el('h3', { text: 'Comments' }),
        this._heading,
        el(
          'div',
          { className: 'jp-CollabDocs-commentsFilters' },
          this._status,
          toggle('Mine', 'mine'),
          toggle('Mentioning me', 'mentioningMe')
        ),
        this._add
      )
    );
    this._draftBox = el('div', { className: 'jp-CollabDocs-commentDraft' });
    this._notice = el('div', { className: 'jp-CollabDocs-commentsNotice' });
    this._list = el('div', { className: 'jp-CollabDocs-threads' });
    this.node.append(this._draftBox, this._notice, this._list);
    this.render();
  }

  get store(): CommentsStore | null {
    return this._store;
  }

  /** The thread shown as active (highlighted here and in the editor). */
  get activeThread(): string | null {
    return this._active;
  }

  /** Show the threads of another document (null: none is current). */
  setStore(store: CommentsStore | null, label: string): void {
    if (store === this._store) {
      return;
    }
    this._store?.changed.disconnect(this.render, this);
    this._store?.conn.sharedModel.ydoc.off('update', this._onDocUpdate);
    this._store?.conn.stateChanged.disconnect(this.render, this);
    this._store = store;
    this._label = label;
    this._draft = null;
    this._rendered.clear();
    this._list.textContent = '';
    store?.changed.connect(this.render, this);
    store?.conn.sharedModel.ydoc.on('update', this._onDocUpdate);
    store?.conn.stateChanged.connect(this.render, this);
    this.render();
  }

  /** Start writing a comment on an anchor. */
  startDraft(draft: IDraft): void {
    this._draft = draft;
    this.render();
    this._draftBox.querySelector('textarea')?.focus();
  }

  /** Focus a thread: make it visible whatever the filters, and mark it active. */
  focusThread(threadId: string): void {
    const thread = this._store?.thread(threadId);
    if (thread && this._hiddenByFilter(thread)) {
      this._filter = { status: 'all', mine: false, mentioningMe: false };
      this._status.value = 'all';
      for (const box of Array.from(
        this.node.querySelectorAll<HTMLInputElement>(
          '.jp-CollabDocs-commentsFilters input'
        )
      )) {
        box.checked = false;
      }
    }
    this._active = threadId;
    this.render();
    this._activeChanged();
    const node = this._rendered.get(threadId)?.node;
    node?.scrollIntoView({ block: 'nearest' });
  }

  /** Called when the active thread changes (the editors redraw their marks). */
  onActiveChanged: () => void = () => undefined;

  /** Draw what changed. Threads are kept by id: open reply boxes survive events. */
  render(): void {
    const store = this._store;
    const role = store?.conn.role ?? null;
    const me = this._host.me();
    const mayComment = store !== null && canComment(role);
    this._heading.textContent = store ? this._label : 'No shared document';
    this._add.hidden = !mayComment;
    this._renderDraft(mayComment);
    if (!store) {
      this._notice.textContent =
        'Open a shared notebook or text document to see its comments.';
      this._list.textContent = '';
      this._rendered.clear();
      return;
    }
    const shown = filterThreads(store.threads, this._filter, me);
    this._notice.textContent = store.error
      ? `Comments could not be read: ${store.error}`
      : store.loaded && shown.length === 0
        ? store.threads.length === 0
          ? 'No comments yet.'
          : 'No comments match these filters.'
        : '';
    const keep = new Set(shown.map(t => t.id));
    for (const [id, entry] of Array.from(this._rendered)) {
      if (!keep.has(id)) {
        entry.node.remove();
        this._rendered.delete(id);
      }
    }
    let previous: HTMLElement | null = null;
    for (const thread of shown) {
      const attached = this._host.attached(store, thread);
      const key = JSON.stringify([
        thread,
        attached,
        role,
        me,
        this._active === thread.id,
        this._host.nameOf(thread.author)
      ]);
      let entry = this._rendered.get(thread.id);
      if (!entry || entry.key !== key) {
        const node = this._renderThread(store, thread, attached, role, me);
        if (entry) {
          keepTyping(entry.node, node);
          entry.node.replaceWith(node);
        }
        entry = { key, node };
        this._rendered.set(thread.id, entry);
      }
      const expected: ChildNode | null = previous
        ? previous.nextSibling
        : this._list.firstChild;
      if (expected !== entry.node) {
        this._list.insertBefore(entry.node, expected);
      }
      previous = entry.node;
    }
  }

  dispose(): void {
    this.setStore(null, '');
    super.dispose();
  }

  private _hiddenByFilter(thread: IThread): boolean {
    return filterThreads([thread], this._filter, this._host.me()).length === 0;
  }

  private _renderDraft(mayComment: boolean): void {
    const draft = this._draft;
    if (!draft || !mayComment || !this._store) {
      this._draftBox.textContent = '';
      delete this._draftBox.dataset.anchor;
      this._draftBox.hidden = true;
      return;
    }
    if (this._draftBox.dataset.anchor === JSON.stringify(draft.anchor)) {
      this._draftBox.hidden = false;
      return; // already shown: keep what is typed
    }
    const store = this._store;
    const body = el('textarea', {
      className: 'jp-CollabDocs-commentBody',
      attrs: { rows: '3', placeholder: 'Write a comment… (@name mentions)' }
    });
    const error = el('div', { className: 'jp-CollabDocs-commentError' });
    const post = el('button', {
      className: 'jp-CollabDocs-commentPost jp-mod-styled jp-mod-accept',
      text: 'Comment',
      onClick: () => {
        void this._write(error, post, async () => {
          const thread = await store.api.create(
            store.docId,
            draft.anchor,
            body.value
          );
          store.put(thread);
          this._draft = null;
          this.focusThread(thread.id);
        });
      }
    });
    sendOnCtrlEnter(body, post);
    const cancel = el('button', {
      className: 'jp-CollabDocs-commentCancel jp-mod-styled',
      text: 'Cancel',
      onClick: () => {
        this._draft = null;
        this.render();
      }
    });
    this._draftBox.textContent = '';
    this._draftBox.dataset.anchor = JSON.stringify(draft.anchor);
    this._draftBox.append(
      el('div', {
        className: 'jp-CollabDocs-commentDraftTitle',
        text:
          draft.anchor.kind === 'cell' ? 'New comment on a cell' : 'New comment'
      }),
      el('blockquote', {
        className: 'jp-CollabDocs-threadQuote',
        text: shortQuote(draft.quote, 300) || '(empty cell)'
      }),
      body,
      error,
      el('div', { className: 'jp-CollabDocs-commentActions' }, post, cancel)
    );
    this._draftBox.hidden = false;
  }

  private _renderThread(
    store: CommentsStore,
    thread: IThread,
    attached: boolean | undefined,
    role: string | null,
    me: string | null
  ): HTMLElement {
    const detached =
      attached === undefined ? !thread.position.attached : !attached;
    const classes = ['jp-CollabDocs-thread'];
    if (thread.resolved) {
      classes.push('jp-mod-resolved');
    }
    if (detached) {
      classes.push('jp-mod-detached');
    }
    if (this._active === thread.id) {
      classes.push('jp-mod-active');
    }
    const node = el('div', {
      className: classes.join(' '),
      attrs: { 'data-thread-id': thread.id }
    });
    const where =
      thread.anchor.kind === 'cell'
        ? 'cell'
        : thread.anchor.kind === 'cell_range'
          ? 'cell text'
          : 'text';
    const head = el(
      'div',
      {
        className: 'jp-CollabDocs-threadHead',
        title: detached ? 'Its text was deleted' : 'Show in the document',
        onClick: () => {
          this._active = thread.id;
          this._activeChanged();
          this.render();
          if (!detached) {
            this._host.reveal(store, thread);
          }
        }
      },
      el('span', { className: 'jp-CollabDocs-threadKind', text: where }),
      detached
        ? el('span', { className: 'jp-CollabDocs-detached', text: 'detached' })
        : null,
      thread.resolved
        ? el('span', {
            className: 'jp-CollabDocs-resolvedTag',
            text: `resolved by ${this._host.nameOf(thread.resolved_by ?? '')}`
          })
        : null
    );
    node.appendChild(head);
    node.appendChild(
      el('blockquote', {
        className: 'jp-CollabDocs-threadQuote',
        text: shortQuote(thread.quote, 300) || '(empty)',
        title: thread.quote
      })
    );
    for (const comment of thread.comments) {
      node.appendChild(this._renderComment(store, thread, comment, role, me));
    }
    const error = el('div', { className: 'jp-CollabDocs-commentError' });
    const actions = el('div', { className: 'jp-CollabDocs-threadActions' });
    if (canComment(role)) {
      const reply = el('textarea', {
        className: 'jp-CollabDocs-replyBody',
        attrs: { rows: '1', placeholder: 'Reply…' }
      });
      const send = el('button', {
        className: 'jp-CollabDocs-replyButton jp-mod-styled',
        text: 'Reply',
        onClick: () => {
          void this._write(error, send, async () => {
            const value = reply.value;
            store.put(await store.api.reply(store.docId, thread.id, value));
          });
        }
      });
      sendOnCtrlEnter(reply, send);
      node.appendChild(el('div', { className: 'jp-CollabDocs-reply' }, reply));
      actions.appendChild(send);
    }
    if (canResolve(thread, role, me)) {
      const toggle = el('button', {
        className: 'jp-CollabDocs-resolveButton jp-mod-styled',
        text: thread.resolved ? 'Reopen' : 'Resolve',
        onClick: () => {
          void this._write(error, toggle, async () => {
            store.put(
              await store.api.setResolved(
                store.docId,
                thread.id,
                !thread.resolved
              )
            );
          });
        }
      });
      actions.appendChild(toggle);
    }
    node.append(actions, error);
    return node;
  }

  private _renderComment(
    store: CommentsStore,
    thread: IThread,
    comment: IThreadComment,
    role: string | null,
    me: string | null
  ): HTMLElement {
    const error = el('div', { className: 'jp-CollabDocs-commentError' });
    const body = el('div', {
      className: 'jp-CollabDocs-commentText',
      text: comment.body
    });
    const box = el(
      'div',
      {
        className: 'jp-CollabDocs-comment',
        attrs: { 'data-comment-id': comment.id, 'data-author': comment.author }
      },
      el(
        'div',
        { className: 'jp-CollabDocs-commentMeta' },
        el('span', {
          className: 'jp-CollabDocs-commentAuthor',
          text: this._host.nameOf(comment.author),
          title: comment.author
        }),
        el('span', {
          className: 'jp-CollabDocs-commentWhen',
          text: ` ${when(comment.created)}${comment.edited ? ' (edited)' : ''}`
        })
      ),
      body
    );
    const tools = el('div', { className: 'jp-CollabDocs-commentTools' });
    if (canEditComment(comment, role, me)) {
      tools.appendChild(
        el('button', {
          className: 'jp-CollabDocs-commentEdit jp-mod-styled',
          text: 'Edit',
          onClick: () => {
            const editor = el('textarea', {
              className: 'jp-CollabDocs-commentEditBody'
            });
            editor.value = comment.body;
            const save = el('button', {
              className:
                'jp-CollabDocs-commentSave jp-mod-styled jp-mod-accept',
              text: 'Save',
              onClick: () => {
                void this._write(error, save, async () => {
                  store.put(
                    await store.api.editComment(
                      store.docId,
                      thread.id,
                      comment.id,
                      editor.value
                    )
                  );
                });
              }
            });
            body.replaceWith(
              el(
                'div',
                { className: 'jp-CollabDocs-commentEditing' },
                editor,
                save
              )
            );
            tools.remove();
            editor.focus();
          }
        })
      );
    }
    if (canDeleteComment(comment, role, me)) {
      const first = thread.comments[0]?.id === comment.id;
      const remove = el('button', {
        className: 'jp-CollabDocs-commentDelete jp-mod-styled',
        text: 'Delete',
        title: first ? 'Deletes the whole thread' : 'Delete this comment',
        onClick: () => {
          void this._write(error, remove, async () => {
            const after = await store.api.deleteComment(
              store.docId,
              thread.id,
              comment.id
            );
            if (after) {
              store.put(after);
            } else {
              store.remove(thread.id);
            }
          });
        }
      });
      tools.appendChild(remove);
    }
    box.append(tools, error);
    return box;
  }

  /** Run a write; its refusal is shown (as text) under what was clicked. */
  private async _write(
    error: HTMLElement,
    button: HTMLButtonElement,
    write: () => Promise<void>
  ): Promise<void> {
    error.textContent = '';
    button.disabled = true;
    try {
      await write();
    } catch (reason) {
      error.textContent = (reason as Error).message ?? String(reason);
    } finally {
      button.disabled = false;
    }
  }

  private _activeChanged(): void {
    this.onActiveChanged();
  }

  private _onDocUpdate = (): void => {
    // Anchors may have lost (or regained) their text: check again, at most 3 times a second.
    if (this._docTimer) {
      return;
    }
    this._docTimer = window.setTimeout(() => {
      this._docTimer = 0;
      if (!this.isDisposed) {
        this.render();
      }
    }, 300);
  };

  private _store: CommentsStore | null = null;
  private _label = '';
  private _filter: IThreadFilter = {
    status: 'open',
    mine: false,
    mentioningMe: false
  };
  private _active: string | null = null;
  private _draft: IDraft | null = null;
  private _rendered = new Map<string, { key: string; node: HTMLElement }>();
  private _docTimer = 0;
  private _status: HTMLSelectElement;
  private _add: HTMLButtonElement;
  private _heading: HTMLElement;
  private _draftBox: HTMLElement;
  private _notice: HTMLElement;
  private _list: HTMLElement;
}

/** Ctrl+Enter (Cmd+Enter) in a comment box presses its button. */
function sendOnCtrlEnter(
  box: HTMLTextAreaElement,
  button: HTMLButtonElement
): void {
  box.title = 'Ctrl+Enter to send';
  box.addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      button.click();
    }
  });
}

/** Carry a reply being typed (and its focus) over to a thread's new rendering. */
function keepTyping(before: HTMLElement, after: HTMLElement): void {
  const old = before.querySelector<HTMLTextAreaElement>(
    '.jp-CollabDocs-replyBody'
  );
  const next = after.querySelector<HTMLTextAreaElement>(
    '.jp-CollabDocs-replyBody'
  );
  if (!old || !next) {
    return;
  }
  // A reply just sent is in the thread now: its box starts empty again.
  const sent = Array.from(
    after.querySelectorAll('.jp-CollabDocs-commentText')
  ).some(node => node.textContent === old.value.trim());
  if (!sent) {
    next.value = old.value;
  }
  if (document.activeElement === old) {
    window.requestAnimationFrame(() => next.focus());
  }
}
