/**
 * The comments side panel: the threads of the current shared document, with filters
 * (open, resolved, mine, mentioning me), each thread's quote (and whether its text is
 * gone: "detached"), its comments, a reply box, edit / delete of one's own comments and
 * resolve / reopen where the role allows. Everything people wrote is set as text.
 */

import { Widget } from '@lumino/widgets';

import { ApiError } from './api';
import {
  Anchor,
  canAcceptSuggestion,
  canComment,
  canDeleteComment,
  canEditComment,
  canRejectSuggestion,
  canResolve,
  canWithdrawSuggestion,
  completeMention,
  currentSuggestion,
  filterThreads,
  INotifications,
  IThread,
  IThreadComment,
  IThreadFilter,
  mentionAt,
  notificationNotice,
  shortQuote,
  StatusFilter,
  suggestionStatus
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
  /** The text a thread's anchor holds here now: null gone, undefined not known here. */
  anchoredText?(
    store: CommentsStore,
    thread: IThread
  ): string | null | undefined;
  /** Open the share dialog of the store's document (offered for unreadable mentions). */
  share?(store: CommentsStore): void;
}

/**
 * A comment being written: on `anchor`, quoting `quote`; with `suggest`, a suggestion
 * whose proposed text starts as the quote (the whole anchored text).
 */
export interface IDraft {
  anchor: Anchor;
  quote: string;
  suggest?: boolean;
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
    this._mentionNotice = el('div', {
      className: 'jp-CollabDocs-mentionNotice'
    });
    this._mentionNotice.hidden = true;
    this._decisionNotice = el('div', {
      className: 'jp-CollabDocs-decisionNotice',
      attrs: { role: 'alert' }
    });
    this._decisionNotice.hidden = true;
    this._list = el('div', { className: 'jp-CollabDocs-threads' });
    this.node.append(
      this._draftBox,
      this._decisionNotice,
      this._mentionNotice,
      this._notice,
      this._list
    );
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
    this._showNotifications(null, undefined);
    this._decisionNotice.hidden = true;
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

  /** A message that stays until dismissed (the threads below are redrawn live). */
  private _showNotice(text: string): void {
    this._decisionNotice.textContent = '';
    this._decisionNotice.hidden = false;
    this._decisionNotice.append(
      el('span', { className: 'jp-CollabDocs-decisionNoticeText', text }),
      el('button', {
        className: 'jp-CollabDocs-decisionDismiss jp-mod-styled',
        text: 'Dismiss',
        onClick: () => {
          this._decisionNotice.hidden = true;
          this._decisionNotice.textContent = '';
        }
      })
    );
  }

  /** Tell the commenter which mentions told nobody, offering to share when they may. */
  private _showNotifications(
    store: CommentsStore | null,
    notifications: INotifications | undefined
  ): void {
    const text = notificationNotice(notifications);
    this._mentionNotice.textContent = '';
    this._mentionNotice.hidden = text === null;
    if (text === null || !store) {
      return;
    }
    this._mentionNotice.append(
      el('span', { className: 'jp-CollabDocs-mentionNoticeText', text })
    );
    if (
      notifications?.may_share &&
      notifications.cannot_read.length > 0 &&
      this._host.share
    ) {
      this._mentionNotice.append(
        el('button', {
          className: 'jp-CollabDocs-mentionShare jp-mod-styled jp-mod-accept',
          text: 'Share…',
          onClick: () => this._host.share?.(store)
        })
      );
    }
    this._mentionNotice.append(
      el('button', {
        className: 'jp-CollabDocs-mentionDismiss jp-mod-styled',
        text: 'Dismiss',
        onClick: () => this._showNotifications(null, undefined)
      })
    );
  }

  /** @-completion in a comment box, from the document's readers. */
  private _completeMentions(box: HTMLTextAreaElement): HTMLElement {
    const list = el('div', { className: 'jp-CollabDocs-mentionList' });
    list.hidden = true;
    let asked = 0;
    const close = (): void => {
      list.hidden = true;
      list.textContent = '';
    };
    const pick = (username: string): void => {
      const done = completeMention(box.value, box.selectionStart, username);
      box.value = done.text;
      box.setSelectionRange(done.caret, done.caret);
      close();
      box.focus();
    };
    box.addEventListener('input', () => {
      const store = this._store;
      const at = mentionAt(box.value, box.selectionStart);
      if (!store || !at) {
        close();
        return;
      }
      const ticket = ++asked;
      store.api.readers(store.docId, at.query).then(
        readers => {
          if (ticket !== asked) {
            return; // a later keystroke asked again
          }
          list.textContent = '';
          for (const reader of readers) {
            list.appendChild(
              el('button', {
                className: 'jp-CollabDocs-mentionOption',
                attrs: { 'data-username': reader.username, type: 'button' },
                text: `${reader.display_name || reader.username} (@${reader.username})`,
                onClick: () => pick(reader.username)
              })
            );
          }
          list.hidden = readers.length === 0;
        },
        () => close()
      );
    });
    box.addEventListener('keydown', event => {
      const first = list.querySelector<HTMLElement>(
        '.jp-CollabDocs-mentionOption'
      );
      if (list.hidden || !first) {
        return;
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && !event.ctrlKey) {
        event.preventDefault();
        event.stopPropagation();
        pick(first.dataset.username ?? '');
      } else if (event.key === 'Escape') {
        event.stopPropagation();
        close();
      }
    });
    box.addEventListener('blur', () => {
      // Let a click on an option land first.
      window.setTimeout(() => {
        if (document.activeElement?.closest('.jp-CollabDocs-mentionList')) {
          return;
        }
        close();
      }, 200);
    });
    return list;
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
    for (const listed of shown) {
      const attached = this._host.attached(store, listed);
      // A suggestion's `applies` as of the live text (edits arrive before any list).
      const thread: IThread = listed.suggestion
        ? {
            ...listed,
            suggestion: currentSuggestion(
              listed.suggestion,
              this._host.anchoredText?.(store, listed)
            )
          }
        : listed;
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
    const draftKey = JSON.stringify([draft.anchor, !!draft.suggest]);
    if (this._draftBox.dataset.anchor === draftKey) {
      this._draftBox.hidden = false;
      return; // already shown: keep what is typed
    }
    const store = this._store;
    const suggest = !!draft.suggest;
    // The proposed text starts as the text it replaces.
    const proposal = el('textarea', {
      className: 'jp-CollabDocs-suggestionText',
      attrs: { rows: '3', 'aria-label': 'Suggested text' }
    });
    proposal.value = draft.quote;
    const body = el('textarea', {
      className: 'jp-CollabDocs-commentBody',
      attrs: {
        rows: suggest ? '2' : '3',
        placeholder: suggest
          ? 'Why? (optional, @name mentions)'
          : 'Write a comment… (@name mentions)'
      }
    });
    const mentions = this._completeMentions(body);
    const error = el('div', { className: 'jp-CollabDocs-commentError' });
    const post = el('button', {
      className: 'jp-CollabDocs-commentPost jp-mod-styled jp-mod-accept',
      text: suggest ? 'Suggest' : 'Comment',
      onClick: () => {
        void this._write(error, post, async () => {
          const thread = suggest
            ? await store.api.create(
                store.docId,
                draft.anchor,
                body.value.trim() || 'Suggested a change',
                proposal.value
              )
            : await store.api.create(store.docId, draft.anchor, body.value);
          const { notifications, ...plain } = thread;
          store.put(plain);
          this._draft = null;
          this.focusThread(thread.id);
          this._showNotifications(store, notifications);
        });
      }
    });
    sendOnCtrlEnter(proposal, post);
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
    this._draftBox.dataset.anchor = draftKey;
    const onCell = draft.anchor.kind === 'cell';
    this._draftBox.append(
      el('div', {
        className: 'jp-CollabDocs-commentDraftTitle',
        text: suggest
          ? onCell
            ? 'Suggest a change to a cell'
            : 'Suggest a change'
          : onCell
            ? 'New comment on a cell'
            : 'New comment'
      }),
      el('blockquote', {
        className: 'jp-CollabDocs-threadQuote',
        text: shortQuote(draft.quote, 300) || '(empty cell)'
      }),
      ...(suggest ? [proposal] : []),
      body,
      mentions,
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
    if (thread.suggestion) {
      node.appendChild(this._renderSuggestion(thread));
    }
    for (const comment of thread.comments) {
      node.appendChild(this._renderComment(store, thread, comment, role, me));
    }
    const error = el('div', { className: 'jp-CollabDocs-commentError' });
    const actions = el('div', { className: 'jp-CollabDocs-threadActions' });
    if (canComment(role)) {
      const reply = el('textarea', {
        className: 'jp-CollabDocs-replyBody',
        attrs: { rows: '1', placeholder: 'Reply… (@name mentions)' }
      });
      const mentions = this._completeMentions(reply);
      const send = el('button', {
        className: 'jp-CollabDocs-replyButton jp-mod-styled',
        text: 'Reply',
        onClick: () => {
          void this._write(error, send, async () => {
            const value = reply.value;
            const { notifications, ...plain } = await store.api.reply(
              store.docId,
              thread.id,
              value
            );
            store.put(plain);
            this._showNotifications(store, notifications);
          });
        }
      });
      sendOnCtrlEnter(reply, send);
      node.appendChild(
        el('div', { className: 'jp-CollabDocs-reply' }, reply, mentions)
      );
      actions.appendChild(send);
    }
    const decide = (
      label: string,
      className: string,
      call: () => Promise<IThread>
    ): void => {
      const button = el('button', {
        className: `${className} jp-mod-styled`,
        text: label,
        onClick: () => {
          void this._write(error, button, async () => {
            try {
              store.put(await call());
            } catch (reason) {
              if (reason instanceof ApiError && reason.status === 409) {
                // Decided elsewhere, or its text changed: say so where it stays (the
                // thread is drawn again), and show the thread as it is now.
                this._showNotice(`${label}: not done. ${reason.message}`);
                void store.reload();
                throw new Error(`Not done: ${reason.message}`);
              }
              throw reason;
            }
          });
        }
      });
      actions.appendChild(button);
    };
    if (canAcceptSuggestion(thread, role)) {
      decide('Accept', 'jp-CollabDocs-acceptSuggestion jp-mod-accept', () =>
        store.api.accept(store.docId, thread.id)
      );
    } else if (
      thread.suggestion?.status === 'pending' &&
      canRejectSuggestion(thread, role)
    ) {
      // Shown disabled, so that an editor sees why it cannot be accepted.
      actions.appendChild(
        el('button', {
          className: 'jp-CollabDocs-acceptSuggestion jp-mod-styled',
          text: 'Accept',
          title: thread.suggestion.why ?? 'It no longer applies',
          attrs: { disabled: '' }
        })
      );
    }
    if (canRejectSuggestion(thread, role)) {
      decide('Reject', 'jp-CollabDocs-rejectSuggestion', () =>
        store.api.reject(store.docId, thread.id)
      );
    } else if (canWithdrawSuggestion(thread, role, me)) {
      decide('Withdraw', 'jp-CollabDocs-withdrawSuggestion', () =>
        store.api.reject(store.docId, thread.id)
      );
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

  /** The proposed change: old text struck through, new text, and its status. */
  private _renderSuggestion(thread: IThread): HTMLElement {
    const suggestion = thread.suggestion!;
    const status = suggestionStatus(
      suggestion,
      name => this._host.nameOf(name),
      thread.author
    );
    const classes = [
      'jp-CollabDocs-suggestionBox',
      `jp-mod-${suggestion.status}`
    ];
    if (!suggestion.applies && suggestion.status === 'pending') {
      classes.push('jp-mod-stale');
    }
    return el(
      'div',
      {
        className: classes.join(' '),
        attrs: { 'data-status': suggestion.status }
      },
      el('div', {
        className: 'jp-CollabDocs-suggestionStatus',
        text: `Suggestion: ${status}`
      }),
      el('del', {
        className: 'jp-CollabDocs-suggestionOld',
        text: suggestion.original,
        title: 'Text it replaces'
      }),
      el('ins', {
        className: 'jp-CollabDocs-suggestionNew',
        text: suggestion.text || '(delete)',
        title: 'Suggested text'
      })
    );
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
  private _mentionNotice: HTMLElement;
  private _decisionNotice: HTMLElement;
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
