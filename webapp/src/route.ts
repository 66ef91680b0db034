/** Hash routes: `#/` the list, `#/d/ID` a document, `#/d/ID?link=TOKEN` with a share link. */

export type Route = { page: "list" } | { page: "document"; id: string; link: string | null };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const match = /^\/d\/([^/?]+)(?:\?(.*))?$/.exec(path);
  if (match) {
    let id = match[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as is
    }
    const link = new URLSearchParams(match[2] ?? "").get("link");
    return { page: "document", id, link: link || null };
  }
  return { page: "list" };
}
