/**
 * Markdown cells as HTML, for display when they are not being edited: CommonMark's common
 * blocks (headings, paragraphs, fenced and indented code, lists, block quotes, rules,
 * pipe tables) and inlines (code, emphasis, links, images).
 *
 * Like Jupyter, raw HTML written in a cell passes through; the result is NOT safe as is:
 * the caller rebuilds it from the outputs' allow-list (views/outputs.ts sanitizeHtml),
 * which is the defence. Only code is escaped here, because code is shown literally.
 */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/'/g, "&#39;");
}

/** Inline markup of one paragraph's text. */
export function renderInline(text: string): string {
  // Code spans first: their content is literal.
  const parts = text.split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/);
  let html = "";
  for (let i = 0; i < parts.length; i += 3) {
    html += inlineMarkup(parts[i] ?? "");
    if (i + 2 < parts.length) html += `<code>${escapeHtml((parts[i + 2] ?? "").trim())}</code>`;
  }
  return html;
}

function inlineMarkup(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"([^"]*)")?\s*\)/g, (_, alt: string, src: string, title?: string) =>
      `<img src="${escapeAttribute(src)}" alt="${escapeAttribute(alt)}"${title ? ` title="${escapeAttribute(title)}"` : ""}>`,
    )
    .replace(/\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+"([^"]*)")?\s*\)/g, (_, label: string, href: string, title?: string) =>
      `<a href="${escapeAttribute(href)}"${title ? ` title="${escapeAttribute(title)}"` : ""}>${label}</a>`,
    )
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>")
    .replace(/(^|[^\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w_])_(?=[^\s_])([^_]*?[^\s_])_(?![\w_])/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>")
    .replace(/ {2,}\n|\\\n/g, "<br>");
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|(\d{1,9})[.)])[ \t]+(.*)$/;
const TABLE_RULE = /^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$/;

function tableCells(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim());
}

/** A Markdown document as HTML (to be sanitized by the caller). */
export function markdownToHtml(source: string, depth = 0): string {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = (): void => {
    if (paragraph.length) out.push(`<p>${renderInline(paragraph.join("\n").trim())}</p>`);
    paragraph = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1] ?? "```";
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !(lines[i] ?? "").trimStart().startsWith(marker)) code.push(lines[i++] ?? "");
      i += 1; // the closing fence
      const language = fence[2] ? ` class="language-${escapeAttribute(fence[2])}"` : "";
      out.push(`<pre><code${language}>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    if (!line.trim()) {
      flush();
      i += 1;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const level = (heading[1] ?? "#").length;
      out.push(`<h${level}>${renderInline(heading[2] ?? "")}</h${level}>`);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      flush();
      out.push("<hr>");
      i += 1;
      continue;
    }
    if (QUOTE.test(line) && depth < 8) {
      flush();
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i] ?? "")) quoted.push(QUOTE.exec(lines[i++] ?? "")?.[1] ?? "");
      out.push(`<blockquote>${markdownToHtml(quoted.join("\n"), depth + 1)}</blockquote>`);
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      flush();
      const ordered = item[3] !== undefined;
      const items: string[] = [];
      let current: string[] = [];
      while (i < lines.length) {
        const next = lines[i] ?? "";
        const match = ITEM.exec(next);
        if (match && (match[3] !== undefined) === ordered) {
          if (current.length) items.push(current.join("\n"));
          current = [match[4] ?? ""];
        } else if (next.trim() && /^\s/.test(next)) {
          current.push(next.trim()); // a continuation line
        } else {
          break;
        }
        i += 1;
      }
      items.push(current.join("\n"));
      const start = ordered && item[3] !== "1" ? ` start="${Number(item[3])}"` : "";
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}${start}>${items.map((text) => `<li>${renderInline(text)}</li>`).join("")}</${tag}>`);
      continue;
    }
    if (line.includes("|") && TABLE_RULE.test(lines[i + 1] ?? "") && !paragraph.length) {
      const header = tableCells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && (lines[i] ?? "").includes("|") && (lines[i] ?? "").trim()) rows.push(tableCells(lines[i++] ?? ""));
      out.push(
        `<table><thead><tr>${header.map((cell) => `<th>${renderInline(cell)}</th>`).join("")}</tr></thead>` +
          `<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${renderInline(cell)}</td>`).join("")}</tr>`).join("")}</tbody></table>`,
      );
      continue;
    }
    if (/^( {4}|\t)/.test(line) && !paragraph.length) {
      const code: string[] = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i] ?? "") || !(lines[i] ?? "").trim())) {
        code.push((lines[i++] ?? "").replace(/^( {4}|\t)/, ""));
      }
      while (code.length && !code[code.length - 1]?.trim()) code.pop();
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    paragraph.push(line);
    i += 1;
  }
  flush();
  return out.join("\n");
}
