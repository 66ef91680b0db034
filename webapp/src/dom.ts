/** A tiny DOM builder. Text is always set as text (never parsed as HTML). */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string | boolean | undefined>;
  dataset?: Record<string, string>;
  style?: Partial<Record<"backgroundColor" | "color" | "borderColor", string>>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.text !== undefined) element.textContent = props.text;
  if (props.title !== undefined) element.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : value);
  }
  for (const [name, value] of Object.entries(props.dataset ?? {})) element.dataset[name] = value;
  for (const [name, value] of Object.entries(props.style ?? {})) {
    if (value) element.style[name as "color"] = value;
  }
  for (const [name, handler] of Object.entries(props.on ?? {})) {
    element.addEventListener(name, handler as EventListener);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

/** "3 minutes ago", "yesterday", or a date. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "";
  const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  return then.toLocaleDateString();
}

/** A round avatar with initials, in the user's colour. */
export function avatar(initials: string, color: string, title: string, small = false): HTMLElement {
  return h("span", {
    class: small ? "avatar avatar-small" : "avatar",
    text: initials,
    title,
    style: { backgroundColor: color },
    attrs: { "aria-label": title, role: "img" },
  });
}

/** A modal dialog (native <dialog>); resolves when it closes. */
export function openDialog(
  title: string,
  body: Node,
  options: { wide?: boolean; onClose?: () => void } = {},
): { dialog: HTMLDialogElement; close: () => void } {
  const closeButton = h("button", { class: "icon-button", text: "×", title: "Close", attrs: { "aria-label": "Close", type: "button" } });
  const dialog = h(
    "dialog",
    { class: options.wide ? "dialog dialog-wide" : "dialog" },
    h("header", { class: "dialog-header" }, h("h2", { text: title }), closeButton),
    body,
  );
  const close = (): void => {
    if (dialog.open) dialog.close();
  };
  closeButton.addEventListener("click", close);
  dialog.addEventListener("close", () => {
    dialog.remove();
    options.onClose?.();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks for a line of text; resolves to null when cancelled. */
export function promptDialog(
  title: string,
  label: string,
  initial: string,
  submitLabel: string,
): Promise<string | null> {
  return new Promise((resolve) => {
    let result: string | null = null;
    // No maxlength: a browser would cut a long name silently; the server says what is too long.
    const input = h("input", { attrs: { type: "text", required: true, "aria-label": label } });
    input.value = initial;
    const form = h(
      "form",
      { class: "dialog-body" },
      h("label", { class: "field" }, h("span", { text: label }), input),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "button", text: "Cancel", attrs: { type: "button", value: "cancel" }, on: { click: () => close() } }),
        h("button", { class: "button primary", text: submitLabel, attrs: { type: "submit" } }),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      result = value;
      close();
    });
    const { close } = openDialog(title, form, { onClose: () => resolve(result) });
    input.focus();
    input.select();
  });
}

export function confirmDialog(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let confirmed = false;
    const body = h(
      "div",
      { class: "dialog-body" },
      h("p", { text: message }),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "button", text: "Cancel", attrs: { type: "button" }, on: { click: () => close() } }),
        h("button", {
          class: "button danger",
          text: confirmLabel,
          attrs: { type: "button" },
          on: {
            click: () => {
              confirmed = true;
              close();
            },
          },
        }),
      ),
    );
    const { close } = openDialog(title, body, { onClose: () => resolve(confirmed) });
  });
}

/** A transient message at the bottom of the page. */
export function toast(message: string, tone: "info" | "error" = "info"): void {
  let host = document.getElementById("toasts");
  if (!host) {
    host = h("div", { attrs: { id: "toasts", role: "status", "aria-live": "polite" } });
    document.body.appendChild(host);
  }
  const item = h("div", { class: `toast toast-${tone}`, text: message });
  host.appendChild(item);
  setTimeout(() => item.remove(), tone === "error" ? 6000 : 3000);
}
