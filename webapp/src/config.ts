/** The page's configuration, injected by the server (handlers/webapp.py) as JSON. */

export interface PageConfig {
  /** The server's base_url, ending with "/" (e.g. "/" or "/user/alice/"). */
  baseUrl: string;
  /** Where the page itself lives: `${baseUrl}collab-docs/`. */
  pageUrl: string;
  version: string;
  /** True on the standalone server (`jupyter collab-docs`), which issues per-user tokens. */
  standalone: boolean;
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : url + "/";
}

/** Reads the config script; falls back to a page served from `…/collab-docs/`. */
export function readConfig(doc: Document = document): PageConfig {
  const element = doc.getElementById("collab-docs-config");
  let raw: Partial<PageConfig> = {};
  if (element?.textContent) {
    try {
      raw = JSON.parse(element.textContent) as Partial<PageConfig>;
    } catch {
      raw = {};
    }
  }
  const path = doc.location?.pathname ?? "/collab-docs/";
  const guessedBase = path.replace(/collab-docs\/[^/]*$/, "");
  const baseUrl = withSlash(raw.baseUrl ?? guessedBase);
  return {
    baseUrl,
    pageUrl: withSlash(raw.pageUrl ?? baseUrl + "collab-docs/"),
    version: raw.version ?? "",
    standalone: raw.standalone ?? true,
  };
}

/** The room WebSocket's URL prefix for a page at `location`: ws(s)://host{base}api/collab-docs/rooms */
export function roomsUrl(baseUrl: string, location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${withSlash(baseUrl)}api/collab-docs/rooms`;
}
