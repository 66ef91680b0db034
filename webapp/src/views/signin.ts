/** The sign-in form: a per-user API token. */

import { ApiClient, ApiError, type Me } from "../api";
import type { PageConfig } from "../config";
import { h } from "../dom";
import { normalizeToken } from "../session";

export function signInView(
  config: PageConfig,
  message: string | null,
  onSignedIn: (token: string, me: Me) => void,
): HTMLElement {
  const input = h("input", {
    attrs: {
      type: "password",
      name: "token",
      id: "token",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
      placeholder: "cd_…",
    },
  });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  error.hidden = !message;
  error.textContent = message ?? "";
  const submit = h("button", { class: "button primary wide", text: "Sign in", attrs: { type: "submit" } });
  const form = h(
    "form",
    { class: "signin-form" },
    h("label", { class: "field", attrs: { for: "token" } }, h("span", { text: "Your access token" }), input),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = normalizeToken(input.value);
    if (!token) return;
    submit.disabled = true;
    submit.textContent = "Signing in…";
    error.hidden = true;
    try {
      const api = new ApiClient({ baseUrl: config.baseUrl, auth: { kind: "token", token } });
      const me = await api.me(true);
      onSignedIn(token, me);
    } catch (failure) {
      const status = failure instanceof ApiError ? failure.status : 0;
      error.textContent =
        status === 401 || status === 403
          ? "That token was not accepted. Check it and try again."
          : failure instanceof Error
            ? failure.message
            : "Sign-in failed.";
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = "Sign in";
      input.select();
    }
  });
  const help = config.standalone
    ? "Paste the token you were given. An administrator creates it with “jupyter collab-docs users add NAME”, which prints it once."
    : "Paste a Jupyter token for this server, or sign in to Jupyter first and reload this page.";
  const card = h(
    "div",
    { class: "signin-card" },
    h("div", { class: "brand brand-large" }, h("span", { class: "brand-mark", text: "◧" }), h("span", { text: "Collab Docs" })),
    h("h1", { text: "Sign in" }),
    h("p", { class: "muted", text: help }),
    form,
    h("p", { class: "fineprint muted", text: "The token stays in this browser tab only and is forgotten when you sign out or close it." }),
  );
  setTimeout(() => input.focus(), 0);
  return h("main", { class: "signin" }, card);
}
