/**
 * How the page proves who the user is.
 *
 * - "token": a per-user API token typed in the sign-in form, kept in sessionStorage (per
 *   tab, gone when the tab closes), sent as `Authorization: token T` on REST and as
 *   `?token=T` on the room WebSocket, and nowhere else.
 * - "cookie": Jupyter's login cookie (the page was opened from a signed-in Jupyter): REST
 *   calls send the cookie and echo the `_xsrf` cookie as `X-XSRFToken`.
 */

export type Auth = { kind: "token"; token: string } | { kind: "cookie" };

export const TOKEN_KEY = "collab-docs:token";
const LINK_PREFIX = "collab-docs:link:";

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A token as typed or pasted: trimmed, and "token " or "Authorization: token " dropped. */
export function normalizeToken(input: string): string {
  let token = input.trim();
  token = token.replace(/^authorization:\s*/i, "").replace(/^(token|bearer)\s+/i, "");
  return token.trim();
}

export class Session {
  constructor(private readonly storage: KeyValueStore) {}

  get token(): string | null {
    try {
      return this.storage.getItem(TOKEN_KEY) || null;
    } catch {
      return null;
    }
  }

  saveToken(token: string): void {
    this.storage.setItem(TOKEN_KEY, token);
  }

  clear(): void {
    this.storage.removeItem(TOKEN_KEY);
  }

  /** A document's share link token (from a `#/d/ID?link=…` address), for this tab. */
  linkFor(docId: string): string | null {
    try {
      return this.storage.getItem(LINK_PREFIX + docId);
    } catch {
      return null;
    }
  }

  saveLink(docId: string, link: string): void {
    this.storage.setItem(LINK_PREFIX + docId, link);
  }
}

/** The value of one cookie, or null. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/** Headers that authenticate a REST request. */
export function authHeaders(auth: Auth, cookies: string): Record<string, string> {
  if (auth.kind === "token") {
    return { Authorization: `token ${auth.token}` };
  }
  const xsrf = readCookie(cookies, "_xsrf");
  return xsrf ? { "X-XSRFToken": xsrf } : {};
}

/** Query parameters of the room WebSocket (the only URL a token ever goes into). */
export function roomParams(auth: Auth, link: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (auth.kind === "token") params.token = auth.token;
  if (link) params.link = link;
  return params;
}
