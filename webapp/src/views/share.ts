/** The share dialog: who has access, add people or groups, the share link. */

import { type ApiClient, canShare, type DocumentModel, grantableRoles, type PrincipalSuggestion, ROLES, type Role, type Share } from "../api";
import { clear, h, openDialog, toast } from "../dom";
import type { AppContext } from "./context";

const ROLE_NAMES: Record<Role, string> = { viewer: "Viewer", commenter: "Commenter", editor: "Editor", owner: "Owner" };

export function principalLabel(principal: string): { kind: string; name: string } {
  if (principal === "link") return { kind: "Link", name: "Anyone with the link" };
  const colon = principal.indexOf(":");
  const kind = principal.slice(0, colon);
  const name = principal.slice(colon + 1);
  return { kind: kind === "group" ? "Group" : "User", name };
}

/** The page address that opens a document with a share link token. */
export function shareLinkUrl(origin: string, pageUrl: string, docId: string, token: string): string {
  return `${origin}${pageUrl}#/d/${encodeURIComponent(docId)}?link=${encodeURIComponent(token)}`;
}

function roleSelect(roles: Role[], value: Role, label: string, disabled = false): HTMLSelectElement {
  const select = h("select", { attrs: { "aria-label": label, disabled } });
  for (const role of roles.length ? roles : [value]) {
    const option = h("option", { text: ROLE_NAMES[role], attrs: { value: role } });
    option.selected = role === value;
    select.appendChild(option);
  }
  if (!roles.includes(value)) {
    select.appendChild(h("option", { text: ROLE_NAMES[value], attrs: { value, selected: true } }));
  }
  return select;
}

export function openShareDialog(context: AppContext, doc: DocumentModel, link: string | null = null): void {
  const { api } = context;
  const myRole = doc.role;
  const mayShare = canShare(myRole);
  const list = h("ul", { class: "share-list", attrs: { "aria-label": "People with access" } });
  const status = h("p", { class: "form-error", attrs: { role: "alert" } });
  status.hidden = true;
  const linkBox = h("div", { class: "share-link" });
  let shares: Share[] = [];

  const fail = (failure: unknown): void => {
    status.textContent = failure instanceof Error ? failure.message : "That did not work.";
    status.hidden = false;
  };

  async function load(): Promise<void> {
    try {
      shares = await api.shares(doc.id, link);
      status.hidden = true;
      renderList();
    } catch (failure) {
      fail(failure);
    }
  }

  function renderList(): void {
    clear(list);
    for (const share of shares) {
      const { kind, name } = principalLabel(share.principal);
      const isCreator = share.principal === `user:${doc.owner}`;
      const fixed = !mayShare || isCreator || (share.role === "owner" && myRole !== "owner");
      const roles = grantableRoles(myRole, share.principal);
      const select = roleSelect(roles, share.role, `Role of ${name}`, fixed);
      select.addEventListener("change", async () => {
        try {
          await api.setShare(doc.id, share.principal, select.value as Role, link);
          toast(`${name} is now ${ROLE_NAMES[select.value as Role].toLowerCase()}.`);
          await load();
        } catch (failure) {
          fail(failure);
          await load();
        }
      });
      const remove = h("button", {
        class: "button small danger-text",
        text: "Remove",
        attrs: { type: "button", "aria-label": `Remove ${name}`, disabled: fixed },
        on: {
          click: async () => {
            try {
              await api.removeShare(doc.id, share.principal, link);
              await load();
            } catch (failure) {
              fail(failure);
            }
          },
        },
      });
      list.appendChild(
        h(
          "li",
          { class: "share-row", dataset: { principal: share.principal } },
          h("span", { class: `principal-kind kind-${kind.toLowerCase()}`, text: kind }),
          h("span", { class: "principal-name", text: name }, isCreator ? h("span", { class: "muted", text: " (creator)" }) : null),
          select,
          mayShare ? remove : null,
        ),
      );
    }
    renderLink();
  }

  function renderLink(): void {
    clear(linkBox);
    if (!mayShare) return;
    const existing = shares.find((s) => s.principal === "link");
    const roles = grantableRoles(myRole, "link");
    const select = roleSelect(roles, existing?.role ?? "viewer", "Role of link holders");
    const create = h("button", {
      class: "button",
      text: existing ? "New link" : "Create share link",
      attrs: { type: "button" },
      on: {
        click: async () => {
          try {
            if (existing) await api.removeShare(doc.id, "link", link); // a new token
            const share = await api.setShare(doc.id, "link", select.value as Role, link);
            await load();
            if (share.token) showLink(share.token);
          } catch (failure) {
            fail(failure);
          }
        },
      },
    });
    linkBox.append(
      h("h3", { text: "Share link" }),
      h(
        "p",
        { class: "muted", text: existing ? "A link exists. Its address was shown when it was made; make a new one to get an address (the old one stops working)." : "Anyone signed in who has the link can open this document." },
      ),
      h("div", { class: "inline-form" }, h("span", { text: "Link holders are" }), select, create),
    );
  }

  function showLink(token: string): void {
    const url = shareLinkUrl(location.origin, context.config.pageUrl, doc.id, token);
    const input = h("input", { class: "link-url", attrs: { type: "text", readonly: true, "aria-label": "Share link" } });
    input.value = url;
    const copy = h("button", {
      class: "button primary",
      text: "Copy",
      attrs: { type: "button" },
      on: {
        click: async () => {
          input.select();
          try {
            await navigator.clipboard.writeText(url);
            toast("Link copied.");
          } catch {
            document.execCommand("copy");
          }
        },
      },
    });
    linkBox.append(
      h("div", { class: "inline-form link-created" }, input, copy),
      h("p", { class: "muted fineprint", text: "Copy it now: it is shown only once." }),
    );
    input.select();
  }

  // Add a user or group.
  const kind = h(
    "select",
    { attrs: { "aria-label": "Share with" } },
    h("option", { text: "User", attrs: { value: "user" } }),
    h("option", { text: "Group", attrs: { value: "group" } }),
  );
  const name = h("input", {
    attrs: {
      type: "text",
      placeholder: "username or group",
      "aria-label": "Name",
      required: true,
      autocomplete: "off",
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      pattern: "[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}",
    },
  });
  const completion = principalCompleter(api, name, (picked) => {
    const { kind: pickedKind, name: pickedName } = principalLabel(picked.principal);
    kind.value = pickedKind === "Group" ? "group" : "user";
    name.value = pickedName;
  });
  const addRoles = grantableRoles(myRole, "user:x");
  const role = roleSelect(addRoles, "editor", "Role");
  const addForm = h(
    "form",
    { class: "inline-form add-share" },
    kind,
    completion.field,
    role,
    h("button", { class: "button primary", text: "Share", attrs: { type: "submit" } }),
  );
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const who = name.value.trim();
    if (!who) return;
    completion.close();
    try {
      await api.setShare(doc.id, `${kind.value}:${who}`, role.value as Role, link);
      name.value = "";
      toast(`Shared with ${who}.`);
      await load();
    } catch (failure) {
      fail(failure);
    }
  });

  const body = h(
    "div",
    { class: "dialog-body share-dialog" },
    mayShare ? h("div", {}, h("h3", { text: "Add people or groups" }), addForm) : h("p", { class: "muted", text: `You are a ${ROLE_NAMES[myRole].toLowerCase()}: only editors and owners can share.` }),
    status,
    h("h3", { text: "People with access" }),
    list,
    linkBox,
  );
  openDialog(`Share “${doc.name}”`, body, { wide: true, onClose: () => completion.close() });
  void load();
  if (mayShare) name.focus();
  void ROLES;
}

/**
 * Completion of existing users and groups under a name field (`GET principals?q=`):
 * asked after a short pause in typing, only the latest answer shown, every name written
 * as text. Arrow keys move, Enter or a click picks, Escape closes the list only.
 */
function principalCompleter(
  api: ApiClient,
  input: HTMLInputElement,
  pick: (suggestion: PrincipalSuggestion) => void,
): { field: HTMLElement; close(): void } {
  const listId = `completions-${Math.random().toString(36).slice(2)}`;
  const list = h("ul", { class: "completions", attrs: { role: "listbox", id: listId, "aria-label": "Matching users and groups" } });
  list.hidden = true;
  input.setAttribute("aria-controls", listId);
  let suggestions: PrincipalSuggestion[] = [];
  let active = -1;
  let asked = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const close = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    asked += 1; // answers still on their way are dropped
    suggestions = [];
    active = -1;
    list.hidden = true;
    clear(list);
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };

  const choose = (suggestion: PrincipalSuggestion): void => {
    pick(suggestion);
    close();
    input.focus();
  };

  const render = (): void => {
    clear(list);
    suggestions.forEach((suggestion, index) => {
      const { kind, name } = principalLabel(suggestion.principal);
      const detail = suggestion.display_name && suggestion.display_name !== name ? suggestion.display_name : "";
      const item = h(
        "li",
        {
          class: "completion",
          dataset: { principal: suggestion.principal },
          attrs: { role: "option", id: `${listId}-${index}`, "aria-selected": String(index === active) },
        },
        h("span", { class: `principal-kind kind-${kind.toLowerCase()}`, text: kind }),
        h("span", { class: "completion-name", text: name }),
        detail ? h("span", { class: "completion-detail", text: detail }) : null,
      );
      // mousedown, not click: the input keeps the focus.
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(suggestion);
      });
      list.appendChild(item);
    });
    list.hidden = suggestions.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };

  const ask = async (prefix: string): Promise<void> => {
    const ticket = ++asked;
    try {
      const answer = await api.completePrincipals(prefix);
      if (ticket !== asked || input.value.trim() !== prefix) return;
      suggestions = answer.principals;
      active = -1;
      render();
    } catch {
      if (ticket === asked) close(); // completion is a help: the share itself reports errors
    }
  };

  input.addEventListener("input", () => {
    const prefix = input.value.trim();
    if (timer) clearTimeout(timer);
    if (!prefix || prefix.length > 64) {
      close();
      return;
    }
    timer = setTimeout(() => void ask(prefix), 150);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + suggestions.length) % suggestions.length;
      render();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      const suggestion = suggestions[active];
      if (suggestion) choose(suggestion);
    } else if (event.key === "Escape") {
      event.preventDefault(); // close the list, not the dialog
      close();
    }
  });
  input.addEventListener("blur", () =>
    setTimeout(() => {
      if (document.activeElement !== input) close(); // focus back already: keep asking
    }, 100),
  );
  return { field: h("span", { class: "name-field" }, input, list), close };
}
