// Sign in with a platform account and its password. The answer sets an HttpOnly cookie that
// scripts cannot read; everything after (fetch, EventSource) carries it by itself.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { LANGUAGES, language, setLanguage, t } from "./i18n.js";

export function languageSelect({ reload = true } = {}) {
  const select = h(
    "select",
    { class: "lang-select", "aria-label": t("common.language") },
    LANGUAGES.map(([code, name]) => h("option", { value: code, selected: code === language() }, name)),
  );
  select.addEventListener("change", () => {
    setLanguage(select.value);
    if (reload) location.reload();
  });
  return select;
}

export function showSignIn(root, { title, onSignedIn }) {
  const account = h("input", { id: "signin-account", name: "account", autocomplete: "username", required: true, value: localStorage.getItem("cw.account") || "" });
  const password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "signin-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("signin.submit"));
  const form = h(
    "form",
    { class: "signin-card", "aria-labelledby": "signin-title" },
    h("div", { class: "signin-brand" }, h("span", { class: "logo", "aria-hidden": "true" }), "Commonwatch"),
    h("h1", { id: "signin-title" }, title),
    h("label", { for: "signin-account" }, t("signin.account")),
    account,
    h("label", { for: "signin-password" }, t("signin.password")),
    password,
    error,
    submit,
    h("div", { class: "signin-foot" }, languageSelect({ reload: false })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const who = await api("/api/v1/session", { method: "POST", body: { account: account.value.trim(), password: password.value } });
      password.value = "";
      localStorage.setItem("cw.account", who.account_id);
      onSignedIn(who);
    } catch (e) {
      error.textContent = e.status === 401 ? t("signin.wrong") : e.detail || e.message;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, h("div", { class: "signin-wrap" }, form));
  root.hidden = false;
  (account.value ? password : account).focus();
}

export async function signOut() {
  await api("/api/v1/session", { method: "DELETE" }).catch(() => null);
  location.reload();
}
