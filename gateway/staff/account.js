// Mitt konto: tvåstegsverifiering (TOTP), byte av lösenord och, för administratörer, kontolistan
// där ett konto kan inaktiveras (alla dess inloggningar avslutas direkt).
import { state } from "./state.js";
import { $, announce, el } from "./dom.js";
import { api } from "./api.js";

// Set by console.js: what to show when the account page closes, and after enrolment.
export const accountHooks = { close: () => {}, enrolled: (session) => {} };

function showError(message) {
  const error = $("account-error");
  error.hidden = !message;
  error.textContent = message || "";
}

function status(text) { $("account-status").textContent = text; announce(text); }

export async function openAccount(notice) {
  for (const id of ["console-view", "editor-view", "views"]) $(id).hidden = true;
  $("account-view").hidden = false;
  $("account-notice").hidden = !notice;
  $("account-notice").textContent = notice || "";
  $("account-close").hidden = Boolean(state.me && state.needsTotp);
  showError("");
  $("account-status").textContent = "";
  $("totp-form").hidden = true;
  try {
    const account = await api("/account");
    $("totp-state").textContent = account.totp
      ? "Tvåstegsverifiering är aktiverad. Har du bytt telefon: be en administratör återställa den."
      : "Tvåstegsverifiering är inte aktiverad." +
        (["admin", "publisher"].includes(account.role) ? " Din roll kräver den." : "");
    $("totp-begin").hidden = account.totp;
  } catch (error) { showError(error.message); }
  const admin = state.me && state.me.role === "admin" && !state.needsTotp;
  $("admin-users").hidden = !admin;
  if (admin) await loadUsers();
  $("account-title").focus?.();
}

$("totp-begin").addEventListener("click", async () => {
  showError("");
  try {
    const enrolment = await api("/account/totp", { method: "POST" });
    $("totp-secret").textContent = enrolment.secret;
    $("totp-uri").setAttribute("href", enrolment.uri);
    $("totp-form").hidden = false;
    $("totp-begin").hidden = true;
    $("totp-code").focus();
  } catch (error) { showError(error.message); }
});

$("totp-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const code = $("totp-code").value.trim();
  if (!/^[0-9]{6}$/.test(code)) { showError("Skriv de sex siffrorna som appen visar."); return; }
  try {
    const session = await api("/account/totp/confirm", { method: "POST", body: { code } });
    $("totp-code").value = "";
    $("totp-form").hidden = true;
    $("totp-state").textContent = "Tvåstegsverifiering är aktiverad.";
    status("Tvåstegsverifiering är aktiverad. Nästa gång du loggar in med lösenord frågar vi efter koden.");
    accountHooks.enrolled(session);
  } catch (error) { showError(error.message); }
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const body = { old_password: $("old-password").value, new_password: $("new-password").value };
  if (!body.old_password || !body.new_password) { showError("Fyll i både nuvarande och nytt lösenord."); return; }
  try {
    await api("/account/password", { method: "POST", body });
    $("old-password").value = "";
    $("new-password").value = "";
    status("Lösenordet är bytt. Dina andra inloggningar är avslutade.");
  } catch (error) { showError(error.message); }
});

async function loadUsers() {
  try {
    const { accounts } = await api("/admin/users");
    $("user-rows").replaceChildren(...accounts.map((a) => {
      const own = state.me && a.username === state.me.username;
      const button = el("button", { type: "button", "data-user": a.username,
        text: a.active ? `Inaktivera ${a.username}` : `Aktivera ${a.username}`, disabled: own });
      button.addEventListener("click", () => setActive(a.username, !a.active));
      return el("tr", {}, el("td", { text: a.username }), el("td", { text: a.display_name }),
        el("td", { text: a.role }), el("td", { text: a.active ? "ja" : "nej" }),
        el("td", { text: a.totp ? "ja" : "nej" }), el("td", { text: a.sso ? "ja" : "nej" }), el("td", {}, button));
    }));
  } catch (error) { showError(error.message); }
}

async function setActive(username, active) {
  showError("");
  try {
    const result = await api(`/admin/users/${encodeURIComponent(username)}/${active ? "activate" : "deactivate"}`,
      { method: "POST" });
    status(active ? `${username} är aktiverat.`
      : `${username} är inaktiverat; ${result.sessions_ended} inloggning(ar) avslutades.`);
    await loadUsers();
  } catch (error) { showError(error.message); }
}

$("account-close").addEventListener("click", () => { $("account-view").hidden = true; accountHooks.close(); });
