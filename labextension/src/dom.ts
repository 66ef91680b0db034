/** Tiny DOM helpers for the extension's plain (non-React) widgets. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: {
    className?: string;
    text?: string;
    title?: string;
    attrs?: Record<string, string>;
    onClick?: (event: MouseEvent) => void;
  } = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.text !== undefined) {
    node.textContent = props.text;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [key, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(key, value);
  }
  if (props.onClick) {
    node.addEventListener('click', props.onClick as EventListener);
  }
  for (const child of children) {
    if (child === null || child === undefined) {
      continue;
    }
    node.appendChild(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
  return node;
}

/** A `<select>` of options, with `value` selected. */
export function select(
  options: readonly string[],
  value: string,
  className?: string
): HTMLSelectElement {
  const node = el('select', { className });
  for (const option of options) {
    const item = el('option', { text: option, attrs: { value: option } });
    if (option === value) {
      item.selected = true;
    }
    node.appendChild(item);
  }
  return node;
}

/** A date for people: local date and time. */
export function when(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  return isNaN(date.getTime()) ? iso : date.toLocaleString();
}
