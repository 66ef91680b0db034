/**
 * The share dialog: who has access and with which role; add `user:NAME`,
 * `group:NAME` or the share link, with completion of the server's users and groups
 * (`GET principals?q=`); change roles; remove shares (docs/sharing.md). A name the
 * server does not know is refused by it (404 `no user 'dave' on this server`): the
 * dialog shows that answer and adds nothing.
 */

import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ApiError, CollabDocsClient, IDocumentModel, IShare } from './api';
import { el, select } from './dom';
import {
  canChangeShare,
  completionQuery,
  grantableRoles,
  IPrincipalSuggestion,
  normalizePrincipal,
  permissions,
  Role,
  ROLES,
  usableSuggestions
} from './roles';

/** How long typing pauses before the server is asked for completions (ms). */
const COMPLETION_DELAY = 150;

export class ShareBody extends Widget {
  constructor(
    private _client: CollabDocsClient,
    private _doc: IDocumentModel,
    private _onChange?: () => void
  ) {
    super();
    this.addClass('jp-CollabDocs-share');
    this._list = el('ul', { className: 'jp-CollabDocs-shareList' });
    this._message = el('div', { className: 'jp-CollabDocs-message' });
    const role = this._doc.role;
    this.node.appendChild(
      el('p', {
        className: 'jp-CollabDocs-hint',
        text: `Your role: ${role}.`
      })
    );
    this.node.appendChild(this._list);
    if (permissions(role).share) {
      const input = el('input', {
        className: 'jp-CollabDocs-principal jp-mod-styled',
        attrs: { placeholder: 'user:NAME, group:NAME or link', type: 'text' }
      }) as HTMLInputElement;
      const roles = grantableRoles(role, 'user:x');
      const roleSelect = select(roles, 'viewer', 'jp-CollabDocs-newRole');
      const add = el('button', {
        className: 'jp-Button jp-mod-styled jp-mod-accept jp-CollabDocs-add',
        text: 'Add',
        onClick: () => {
          const principal = normalizePrincipal(input.value);
          if (!principal) {
            this._say(
              'Give user:NAME, group:NAME or link (letters, digits, . _ @ -).',
              true
            );
            return;
          }
          void this._set(principal, roleSelect.value as Role).then(ok => {
            if (ok) {
              input.value = '';
            }
          });
        }
      });
      input.addEventListener('keydown', event => {
        if (event.key === 'Enter') {
          event.preventDefault();
          event.stopPropagation();
          this._showSuggestions([]);
          add.click();
        } else if (event.key === 'ArrowDown') {
          const first = this._suggestions.querySelector('button');
          if (first) {
            event.preventDefault();
            first.focus();
          }
        } else if (
          event.key === 'Escape' &&
          this._suggestions.childElementCount
        ) {
          event.stopPropagation(); // close the suggestions, not the dialog
          this._showSuggestions([]);
        }
      });
      input.addEventListener('input', () => this._complete(input));
      this._input = input;
      this.node.appendChild(
        el(
          'div',
          { className: 'jp-CollabDocs-shareAdd' },
          input,
          roleSelect,
          add
        )
      );
      this.node.appendChild(this._suggestions);
    }
    this.node.appendChild(this._message);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    let shares: IShare[];
    try {
      shares = await this._client.listShares(this._doc.id);
    } catch (error) {
      this._say((error as Error).message, true);
      return;
    }
    this._list.textContent = '';
    this._shared = new Set(shares.map(share => share.principal));
    const role = this._doc.role;
    for (const share of shares) {
      const row = el('li', {
        className: 'jp-CollabDocs-shareRow',
        attrs: { 'data-principal': share.principal }
      });
      row.appendChild(
        el('span', {
          className: 'jp-CollabDocs-sharePrincipal',
          text:
            share.principal === 'link'
              ? 'Anyone with the link'
              : share.principal
        })
      );
      const changeable =
        canChangeShare(role, share.role) &&
        share.principal !== `user:${this._doc.owner}`;
      if (changeable) {
        const options = grantableRoles(role, share.principal);
        const roleSelect = select(
          options.includes(share.role) ? options : [share.role, ...options],
          share.role,
          'jp-CollabDocs-shareRole'
        );
        roleSelect.addEventListener('change', () => {
          void this._set(share.principal, roleSelect.value as Role);
        });
        row.appendChild(roleSelect);
        row.appendChild(
          el('button', {
            className:
              'jp-Button jp-mod-styled jp-mod-warn jp-CollabDocs-remove',
            text: 'Remove',
            onClick: () => void this._remove(share.principal)
          })
        );
      } else {
        row.appendChild(
          el('span', {
            className: 'jp-CollabDocs-shareRoleText',
            text: share.role
          })
        );
      }
      this._list.appendChild(row);
    }
  }

  private async _set(principal: string, role: Role): Promise<boolean> {
    if (!ROLES.includes(role)) {
      return false;
    }
    try {
      const share = await this._client.setShare(this._doc.id, principal, role);
      if (share.token) {
        this._showLink(share.token);
      } else {
        this._say(`${principal} is now ${role}.`);
      }
      this._showSuggestions([]);
      this._onChange?.();
      await this.refresh();
      return true;
    } catch (error) {
      this._say(describe(error), true);
      return false;
    }
  }

  private async _remove(principal: string): Promise<void> {
    try {
      await this._client.removeShare(this._doc.id, principal);
      this._say(`${principal} removed.`);
      this._onChange?.();
      await this.refresh();
    } catch (error) {
      this._say(describe(error), true);
    }
  }

  private _showLink(token: string): void {
    this._message.textContent = '';
    this._message.classList.remove('jp-mod-error');
    const code = el('code', {
      className: 'jp-CollabDocs-linkToken',
      text: token
    });
    const copy = el('button', {
      className: 'jp-Button jp-mod-styled jp-CollabDocs-copyLink',
      text: 'Copy',
      onClick: () => Clipboard.copyToSystem(token)
    });
    this._message.append(
      'Share link created. Its token is shown only once: ',
      code,
      ' ',
      copy
    );
  }

  private _say(text: string, error = false): void {
    this._message.textContent = text;
    this._message.classList.toggle('jp-mod-error', error);
  }

  /** Ask the server for users and groups starting with what is typed. */
  private _complete(input: HTMLInputElement): void {
    window.clearTimeout(this._completionTimer);
    const query = completionQuery(input.value);
    const asked = ++this._completionRequest;
    if (query === null) {
      this._showSuggestions([]);
      return;
    }
    this._completionTimer = window.setTimeout(() => {
      this._client
        .request<{ principals: IPrincipalSuggestion[] }>(
          'GET',
          `principals?q=${encodeURIComponent(query)}`
        )
        .then(reply => {
          if (asked === this._completionRequest && !this.isDisposed) {
            this._showSuggestions(
              usableSuggestions(reply.principals ?? [], this._shared)
            );
          }
        })
        .catch(() => {
          // No completion (an older server, a refusal): typing still works.
          if (asked === this._completionRequest) {
            this._showSuggestions([]);
          }
        });
    }, COMPLETION_DELAY);
  }

  private _showSuggestions(suggestions: IPrincipalSuggestion[]): void {
    this._suggestions.textContent = '';
    for (const suggestion of suggestions) {
      const name = suggestion.display_name;
      const choose = el(
        'button',
        {
          className: 'jp-CollabDocs-suggestion',
          attrs: { type: 'button', 'data-principal': suggestion.principal },
          onClick: () => {
            if (this._input) {
              this._input.value = suggestion.principal;
              this._input.focus();
            }
            this._showSuggestions([]);
          }
        },
        el('span', {
          className: 'jp-CollabDocs-suggestionPrincipal',
          text: suggestion.principal
        })
      );
      if (name) {
        choose.appendChild(
          el('span', { className: 'jp-CollabDocs-suggestionName', text: name })
        );
      }
      this._suggestions.appendChild(el('li', {}, choose));
    }
  }

  private _list: HTMLUListElement;
  private _message: HTMLDivElement;
  private _input: HTMLInputElement | null = null;
  private _suggestions = el('ul', {
    className: 'jp-CollabDocs-suggestions',
    attrs: { role: 'listbox', 'aria-label': 'Users and groups' }
  });
  private _shared = new Set<string>();
  private _completionTimer = 0;
  private _completionRequest = 0;
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      return `Not allowed: ${error.message}`;
    }
    return error.message;
  }
  return String(error);
}

/** Show the share dialog of a document. */
export async function showShareDialog(
  client: CollabDocsClient,
  doc: IDocumentModel,
  onChange?: () => void
): Promise<void> {
  const body = new ShareBody(client, doc, onChange);
  await showDialog({
    title: `Share “${doc.name}”`,
    body,
    buttons: [Dialog.okButton({ label: 'Done' })],
    hasClose: true
  });
}
