/** Read-only rendering of notebook outputs. HTML outputs are rebuilt from an allow-list
 * (no scripts, no event handlers, no styles, only http(s) links and data: images). */

import { h } from "../dom";
import type { OutputView } from "../notebook";

const DROPPED = new Set(["script", "style", "iframe", "frame", "frameset", "object", "embed", "template", "noscript", "link", "meta", "base", "form", "input", "button", "select", "textarea", "svg", "math", "audio", "video", "canvas"]);

const ALLOWED = new Set([
  "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div", "dl", "dt",
  "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
  "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
  "th", "thead", "tr", "u", "ul", "var",
]);

const ATTRIBUTES: Record<string, string[]> = {
  a: ["href", "title"],
  img: ["src", "alt", "title", "width", "height"],
  td: ["colspan", "rowspan", "align"],
  th: ["colspan", "rowspan", "align", "scope"],
  col: ["span"],
  colgroup: ["span"],
  ol: ["start", "type"],
  abbr: ["title"],
  details: ["open"],
};

function safeUrl(tag: string, name: string, value: string): boolean {
  const v = value.trim();
  if (tag === "a" && name === "href") return /^(https?:|mailto:|#)/i.test(v);
  if (tag === "img" && name === "src") return /^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i.test(v);
  return true;
}

function copyInto(from: Node, to: Node, depth: number): void {
  if (depth > 64) return;
  from.childNodes.forEach((child) => {
    if (child.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(child.textContent ?? ""));
      return;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) return;
    const source = child as Element;
    const tag = source.tagName.toLowerCase();
    if (DROPPED.has(tag)) return;
    if (!ALLOWED.has(tag)) {
      copyInto(source, to, depth + 1); // unknown element: keep its text
      return;
    }
    if (tag === "img" && !safeUrl("img", "src", source.getAttribute("src") ?? "")) return;
    const element = document.createElement(tag);
    for (const name of ATTRIBUTES[tag] ?? []) {
      const value = source.getAttribute(name);
      if (value !== null && safeUrl(tag, name, value)) element.setAttribute(name, value);
    }
    if (tag === "a") {
      element.setAttribute("target", "_blank");
      element.setAttribute("rel", "noopener noreferrer nofollow");
    }
    copyInto(source, element, depth + 1);
    to.appendChild(element);
  });
}

/** HTML from a notebook output as safe DOM nodes. The parsed document is inert (nothing
 * runs or loads in it) and only allow-listed attributes are copied, never an `on*` one:
 * the page's CSP is a second line, not the only one. Chromium still logs a CSP
 * "inline event handler" report when the parser meets an `on*` attribute of a hostile
 * output; nothing was about to run (tests/browser/test_webapp_outputs_without_csp.py). */
export function sanitizeHtml(html: string): DocumentFragment {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const fragment = document.createDocumentFragment();
  copyInto(parsed.body, fragment, 0);
  return fragment;
}

export function renderOutput(output: OutputView): HTMLElement {
  switch (output.kind) {
    case "stream":
      return h("pre", { class: `output output-stream output-${output.name === "stderr" ? "stderr" : "stdout"}`, text: output.text });
    case "error":
      return h(
        "div",
        { class: "output output-error" },
        h("pre", { text: output.traceback || `${output.ename}: ${output.evalue}` }),
      );
    case "image":
      return h("div", { class: "output output-image" }, h("img", { attrs: { src: output.src, alt: `${output.mime} output` } }));
    case "html": {
      const element = h("div", { class: "output output-html" });
      element.appendChild(sanitizeHtml(output.html));
      return element;
    }
    case "text":
      return h("pre", { class: "output output-text", text: output.text });
    case "unsupported":
      return h("div", { class: "output output-unsupported", text: `Output not shown here (${output.mimes.join(", ")})` });
  }
}
