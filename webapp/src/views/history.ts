/**
 * A document's history: its versions, saving a named one and restoring one (editors),
 * and what changed between two versions or a version and now, and who changed it.
 * Everything a document holds is shown as text (textContent), never parsed as HTML.
 */

import { canWrite, type CellChange, type DocumentModel, type KeyChanges, type LineHunks, type Version, type VersionComparison } from "../api";
import { clear, confirmDialog, h, openDialog, relativeTime, toast } from "../dom";
import type { AppContext } from "./context";

const MARKS: Record<string, string> = { added: "+", removed: "-", context: " " };

/** A line diff as `+`/`-`/` ` lines. */
export function renderHunks(diff: LineHunks): HTMLElement {
  const box = h("div", { class: "diff-hunks" });
  for (const hunk of diff.hunks) {
    box.appendChild(h("div", { class: "diff-hunk-header", text: `@@ -${hunk.old_start},${hunk.old_lines} +${hunk.new_start},${hunk.new_lines} @@` }));
    const lines = h("pre", { class: "diff-lines" });
    for (const line of hunk.lines) {
      lines.appendChild(h("div", { class: `diff-line diff-${line.kind}`, text: `${MARKS[line.kind] ?? " "} ${line.text}`, dataset: { kind: line.kind } }));
    }
    box.appendChild(lines);
  }
  if (diff.truncated) box.appendChild(h("p", { class: "muted", text: "… (diff cut short)" }));
  return box;
}

function keyChanges(keys: KeyChanges): string {
  const parts: string[] = [];
  if (keys.added.length) parts.push(`added ${keys.added.join(", ")}`);
  if (keys.removed.length) parts.push(`removed ${keys.removed.join(", ")}`);
  if (keys.changed.length) parts.push(`changed ${keys.changed.join(", ")}`);
  return parts.join("; ");
}

function describeCell(cell: CellChange): string {
  const where = cell.status === "removed" ? `was cell ${(cell.old_index ?? 0) + 1}` : `cell ${(cell.new_index ?? 0) + 1}`;
  const what = cell.status === "changed" && cell.moved ? "changed, moved" : cell.status;
  const from = cell.moved && cell.old_index !== null ? ` (was cell ${cell.old_index + 1})` : "";
  return `${what}: ${where}${from}, ${cell.cell_type}`;
}

/** " · by Alice Liddell, bob": who touched a cell, by display name. */
function byLine(cell: CellChange, names: Map<string, string>): string {
  const people = (cell.by ?? []).map((user) => names.get(user) ?? user);
  return people.length ? ` · by ${people.join(", ")}` : "";
}

function renderCell(cell: CellChange, names: Map<string, string>): HTMLElement {
  const box = h("div", { class: `cell-diff cell-diff-${cell.status}`, dataset: { status: cell.status, cellId: cell.id ?? "" } }, h("div", { class: "cell-diff-title", text: describeCell(cell) + byLine(cell, names) }));
  if (cell.cell_type_change) box.appendChild(h("div", { text: `type: ${cell.cell_type_change.from} → ${cell.cell_type_change.to}` }));
  if (cell.source.hunks.length) box.appendChild(renderHunks(cell.source));
  for (const output of cell.outputs) {
    const kinds = output.mime_types.length ? ` (${output.mime_types.join(", ")})` : "";
    const name = output.name ? ` ${output.name}` : "";
    box.appendChild(h("div", { class: "output-diff", dataset: { change: output.change }, text: `output ${output.index + 1} ${output.change}: ${output.output_type}${name}${kinds}` }));
  }
  if (cell.metadata) box.appendChild(h("div", { text: `metadata: ${keyChanges(cell.metadata)}` }));
  return box;
}

/** Who changed the document, then what changed. */
export function renderComparison(result: VersionComparison): HTMLElement {
  const authors = h("ul", { class: "diff-authors" });
  for (const author of result.authors) {
    const name = author.display_name && author.display_name !== author.username ? `${author.display_name} (${author.username})` : author.username;
    authors.appendChild(h("li", { class: "diff-author", dataset: { username: author.username }, text: `${name}: ${author.updates} change${author.updates === 1 ? "" : "s"}` }));
  }
  const box = h("div", { class: "diff" }, h("div", { class: "muted", text: result.authors.length ? "Changed by:" : "No recorded authors." }), authors);
  const names = new Map(result.authors.map((author) => [author.username, author.display_name]));
  const changes = result.changes;
  if (changes.type === "notebook") {
    const s = changes.summary;
    box.appendChild(h("p", { class: "diff-summary", text: `${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.moved} moved` }));
    if (changes.metadata) box.appendChild(h("p", { text: `notebook metadata: ${keyChanges(changes.metadata)}` }));
    for (const cell of changes.cells) box.appendChild(renderCell(cell, names));
  } else {
    box.appendChild(h("p", { class: "diff-summary", text: `${changes.added} line${changes.added === 1 ? "" : "s"} added, ${changes.removed} removed` }));
    box.appendChild(renderHunks(changes));
  }
  return box;
}

function versionName(version: Version): string {
  return version.label || (version.auto ? "Automatic version" : "Unnamed");
}

/** The History dialog of an open document. */
export function openHistory(context: AppContext, doc: DocumentModel, link: string | null): void {
  const api = context.api;
  const editor = canWrite(doc.role);
  const list = h("ul", { class: "version-list" });
  const view = h("div", { class: "version-view", attrs: { "aria-live": "polite" } });
  const from = h("select", { class: "compare-from", attrs: { "aria-label": "Compare from" } });
  const to = h("select", { class: "compare-to", attrs: { "aria-label": "Compare to" } });
  let versions: Version[] = [];

  const say = (failure: unknown, fallback: string): void => toast(failure instanceof Error ? failure.message : fallback, "error");
  const nameOf = (id: string): string => (id === "current" ? "now" : versionName(versions.find((v) => v.id === id) ?? ({ id, label: id } as Version)));

  async function compare(fromId: string, toId: string): Promise<void> {
    if (!fromId) return;
    try {
      const result = await api.compareVersions(doc.id, fromId, toId, link);
      clear(view);
      view.append(h("h3", { text: `Changes from “${nameOf(fromId)}” to “${nameOf(toId)}”` }), renderComparison(result));
    } catch (failure) {
      say(failure, "Could not compare.");
    }
  }

  async function restore(version: Version): Promise<void> {
    const name = versionName(version);
    const ok = await confirmDialog("Restore this version?", `“${name}” becomes the current content, for everyone editing it. The current state stays in the history.`, "Restore");
    if (!ok) return;
    try {
      await api.restoreVersion(doc.id, version.id, link);
      toast(`Restored “${name}”.`);
      await refresh();
    } catch (failure) {
      say(failure, "Could not restore.");
    }
  }

  function option(value: string, text: string): HTMLOptionElement {
    return h("option", { text, attrs: { value } });
  }

  async function refresh(): Promise<void> {
    try {
      versions = await api.listVersions(doc.id, link);
    } catch (failure) {
      say(failure, "Could not read the history.");
      return;
    }
    const keep = [from.value, to.value];
    clear(list);
    clear(from);
    clear(to);
    to.appendChild(option("current", "Now"));
    if (versions.length === 0) list.appendChild(h("li", { class: "muted", text: "No versions yet." }));
    for (const version of versions) {
      const label = `${versionName(version)} · ${relativeTime(version.created)}`;
      from.appendChild(option(version.id, label));
      to.appendChild(option(version.id, label));
      list.appendChild(
        h(
          "li",
          { class: "version", dataset: { version: version.id } },
          h("span", { class: "version-name", text: versionName(version) }),
          h("span", { class: "muted", text: ` ${relativeTime(version.created)}${version.created_by ? ` · ${version.created_by}` : ""} ` }),
          h("button", { class: "button small compare-now", text: "Changes since", attrs: { type: "button" }, on: { click: () => void compare(version.id, "current") } }),
          editor ? h("button", { class: "button small danger-text restore", text: "Restore", attrs: { type: "button" }, on: { click: () => void restore(version) } }) : null,
        ),
      );
    }
    if (keep[0] && versions.some((v) => v.id === keep[0])) from.value = keep[0];
    if (keep[1]) to.value = keep[1];
  }

  const label = h("input", { class: "version-label", attrs: { type: "text", placeholder: "Name this version", "aria-label": "Version name" } });
  const save = h("form", { class: "version-save" }, label, h("button", { class: "button primary small", text: "Save version", attrs: { type: "submit" } }));
  save.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = label.value.trim();
    void api
      .createVersion(doc.id, text, link)
      .then(() => {
        label.value = "";
        toast(`Version “${text || "unnamed"}” saved.`);
        return refresh();
      })
      .catch((failure) => say(failure, "Could not save the version."));
  });
  const compareBar = h(
    "div",
    { class: "compare-bar" },
    h("span", { text: "Compare " }),
    from,
    h("span", { text: " with " }),
    to,
    h("button", { class: "button small compare", text: "Compare", attrs: { type: "button" }, on: { click: () => void compare(from.value, to.value) } }),
  );
  const body = h("div", { class: "dialog-body history" }, editor ? save : null, compareBar, list, view);
  openDialog(`History of “${doc.name}”`, body, { wide: true });
  void refresh();
}
