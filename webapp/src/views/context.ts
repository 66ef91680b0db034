import type { ApiClient, Me } from "../api";
import type { PageConfig } from "../config";
import type { Auth, Session } from "../session";

/** What every view gets from the app. */
export interface AppContext {
  config: PageConfig;
  api: ApiClient;
  me: Me;
  auth: Auth;
  session: Session;
  navigate(hash: string): void;
  /** The sign-in is gone (4401, 401): back to the sign-in form with a message. */
  signOut(message?: string): void;
}

export function documentHash(id: string): string {
  return `#/d/${encodeURIComponent(id)}`;
}
