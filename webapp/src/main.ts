/** The Collab Docs web page: sign-in, the document list, the editors. */

import "./styles.css";

import { ApiClient, ApiError, type Me } from "./api";
import { readConfig } from "./config";
import { avatar, clear, h } from "./dom";
import { parseRoute } from "./route";
import { type Auth, Session } from "./session";
import type { AppContext } from "./views/context";
import { documentView } from "./views/document";
import { listView } from "./views/list";
import { signInView } from "./views/signin";

class App {
  private readonly config = readConfig();
  private readonly session = new Session(window.sessionStorage);
  private readonly root: HTMLElement;
  private current: { destroy(): void } | null = null;
  private context: AppContext | null = null;

  constructor(root: HTMLElement) {
    this.root = root;
    window.addEventListener("hashchange", () => this.route());
  }

  async start(): Promise<void> {
    this.show(h("main", { class: "splash muted", text: "Loading…" }));
    const token = this.session.token;
    if (token) {
      try {
        const me = await this.client({ kind: "token", token }).me(true);
        this.signedIn({ kind: "token", token }, me);
        return;
      } catch (failure) {
        if (failure instanceof ApiError && (failure.status === 401 || failure.status === 403)) {
          this.session.clear();
          this.showSignIn("Your sign-in has expired: sign in again.");
        } else {
          this.showError(failure);
        }
        return;
      }
    }
    // Opened from a signed-in Jupyter (JupyterLab, JupyterHub): its login cookie works.
    try {
      const me = await this.client({ kind: "cookie" }).me(true);
      this.signedIn({ kind: "cookie" }, me);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status !== 0 && failure.status < 500) {
        this.showSignIn(null);
      } else {
        this.showError(failure);
      }
    }
  }

  private client(auth: Auth): ApiClient {
    return new ApiClient({
      baseUrl: this.config.baseUrl,
      auth,
      onUnauthenticated: () => this.signOut("Your sign-in is no longer valid: sign in again."),
    });
  }

  private show(element: HTMLElement, header: HTMLElement | null = null): void {
    this.current?.destroy();
    this.current = null;
    clear(this.root);
    if (header) this.root.appendChild(header);
    this.root.appendChild(element);
  }

  private showError(failure: unknown): void {
    const message = failure instanceof Error ? failure.message : "Something went wrong.";
    this.show(
      h(
        "main",
        { class: "signin" },
        h(
          "div",
          { class: "signin-card" },
          h("h1", { text: "Cannot reach the server" }),
          h("p", { class: "muted", text: message }),
          h("button", { class: "button primary", text: "Try again", attrs: { type: "button" }, on: { click: () => void this.start() } }),
        ),
      ),
    );
  }

  private showSignIn(message: string | null): void {
    this.context = null;
    document.title = "Sign in · Collab Docs";
    this.show(
      signInView(this.config, message, (token, me) => {
        this.session.saveToken(token);
        this.signedIn({ kind: "token", token }, me);
      }),
    );
  }

  private signedIn(auth: Auth, me: Me): void {
    const api = this.client(auth);
    this.context = {
      config: this.config,
      api,
      me,
      auth,
      session: this.session,
      navigate: (hash) => {
        if (location.hash === hash) this.route();
        else location.hash = hash;
      },
      signOut: (message) => this.signOut(message),
    };
    this.route();
  }

  signOut(message?: string): void {
    if (!this.context && !message) return;
    const wasToken = this.context?.auth.kind === "token" || this.session.token !== null;
    this.session.clear();
    this.context = null;
    // Jupyter also set its login cookie when the token was accepted: clear it too, or
    // the next visit would be signed in without a token.
    if (!message || wasToken) {
      void fetch(`${this.config.baseUrl}logout`, { credentials: "same-origin", redirect: "manual" }).catch(() => undefined);
    }
    this.showSignIn(message ?? null);
  }

  private header(context: AppContext): HTMLElement {
    const { me } = context;
    return h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", attrs: { href: "#/" } }, h("span", { class: "brand-mark", text: "◧" }), h("span", { text: "Collab Docs" })),
      h(
        "div",
        { class: "topbar-user" },
        avatar(me.initials, me.color, me.display_name),
        h("span", { class: "user-name", text: me.display_name, title: me.username }),
        h("button", { class: "button small", text: "Sign out", attrs: { type: "button" }, on: { click: () => this.signOut() } }),
      ),
    );
  }

  private route(): void {
    const context = this.context;
    if (!context) return;
    const route = parseRoute(location.hash);
    if (route.page === "document") {
      if (route.link) {
        // Keep the share link for this tab, out of the address bar.
        this.session.saveLink(route.id, route.link);
        history.replaceState(null, "", `#/d/${encodeURIComponent(route.id)}`);
      }
      const view = documentView(context, route.id);
      this.show(view.element, this.header(context));
      this.current = view;
    } else {
      document.title = "Documents · Collab Docs";
      const view = listView(context);
      this.show(view.element, this.header(context));
      this.current = view;
    }
  }
}

const root = document.getElementById("app");
if (root) void new App(root).start();
