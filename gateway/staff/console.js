// Kontaktcenters chattkö. Ingen byggsteg: ES-moduler mot /staff/api/.
// All text från invånare och personal sätts med textContent, aldrig som HTML.
import { state } from "./state.js";
import { $, announce, el, urgent } from "./dom.js";
import { STATUS, clock, language, minutes, priorityLabel, reasonLabel } from "./labels.js";
import { EVENTS_URL, api, hooks } from "./api.js";
import { renderTicket, showTicketError } from "./ticket.js";
import { startEditor, tablist } from "./editor.js";
import { accountHooks, openAccount } from "./account.js";

// Which views a role sees: the queue (staff), the editors' workspace (editor, publisher), both (admin).
const QUEUE_ROLES = ["staff", "admin"];
const EDITOR_ROLES = ["editor", "publisher", "admin"];
const showView = tablist([$("tab-queue"), $("tab-editor")], (id) => { if (id === "tab-editor") startEditor(); });

// ---- login -------------------------------------------------------------------------
hooks.loggedOut = (message) => showLogin(message);

function showLogin(message) {
  if (state.events) { state.events.close(); state.events = null; }
  state.me = null;
  $("console-view").hidden = true;
  $("editor-view").hidden = true;
  $("account-view").hidden = true;
  $("code-field").hidden = true;
  $("code").value = "";
  $("views").hidden = true;
  $("who").hidden = true;
  $("login-view").hidden = false;
  const error = $("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("username").focus();
}

function signedIn(session) {
  state.me = session.user;
  state.csrf = session.csrf_token;
  state.outcomes = session.outcomes || {};
  state.reasons = session.reasons || {};
  state.priorities = session.priorities || {};
  state.needsTotp = Boolean(session.needs_totp);
  $("who-name").textContent = session.user.display_name;
  $("who").hidden = false;
  $("login-view").hidden = true;
  $("account-view").hidden = true;
  if (state.needsTotp) {
    openAccount("Din roll kräver tvåstegsverifiering. Aktivera den här innan du fortsätter.");
    return;
  }
  const queue = QUEUE_ROLES.includes(session.user.role);
  const editor = EDITOR_ROLES.includes(session.user.role);
  $("views").hidden = !(queue && editor);
  if (!queue) { $("console-view").hidden = true; showView(1); return; }
  showView(0);
  const outcome = $("outcome");
  outcome.replaceChildren(...Object.entries(state.outcomes)
    .filter(([key]) => key !== "returned_to_bot")
    .map(([key, label]) => el("option", { value: key, text: label })));
  loadCanned();
  refreshQueue();
  listen();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  const code = $("code-field").hidden ? "" : $("code").value.trim();
  if (!username || !password) {
    showLogin("Fyll i både användarnamn och lösenord.");
    return;
  }
  try {
    const session = await api("/login", { method: "POST", body: code ? { username, password, code } : { username, password } });
    $("password").value = "";
    $("code").value = "";
    signedIn(session);
    announce(`Inloggad som ${session.user.display_name}.`);
  } catch (error) {
    if (error.code === "totp_required" || (code && error.status === 401 && error.message.startsWith("Koden"))) {
      const message = $("login-error");
      message.hidden = false;
      message.textContent = error.message;
      $("code-field").hidden = false;
      $("code").value = "";
      $("code").focus();
      return;
    }
    showLogin(error.message);
  }
});

// How staff log in here: single sign-on with the municipal account and/or a password.
let ssoMessages = {};
async function loginOptions() {
  try {
    const options = await api("/login-options");
    ssoMessages = options.sso_messages || {};
    $("sso").hidden = !options.sso;
    $("sso-login").textContent = options.sso_label;
    $("sso-login").setAttribute("href", options.sso_url);
    $("login-form").hidden = !options.password;
  } catch (error) { /* the password form still works */ }
}

accountHooks.close = async () => {
  try { signedIn(await api("/me")); } catch (error) { showLogin(error.message); }
};
accountHooks.enrolled = () => { state.needsTotp = false; $("account-close").hidden = false; };
$("account-open").addEventListener("click", () => openAccount(""));

$("logout").addEventListener("click", async () => {
  try { await api("/logout", { method: "POST" }); } catch (e) { /* already logged out */ }
  showLogin("Du är utloggad.");
});

// ---- live updates ------------------------------------------------------------------
function listen() {
  if (state.events) state.events.close();
  const source = new EventSource(EVENTS_URL);
  state.events = source;
  const live = $("live-state");
  source.addEventListener("open", () => { live.textContent = "Live: kön uppdateras automatiskt."; });
  source.addEventListener("error", () => { live.textContent = "Tappade anslutningen – försöker igen…"; });
  source.addEventListener("hello", () => { refreshQueue(); if (state.current) refreshTicket(); });
  source.addEventListener("logged_out", () => showLogin("Din inloggning har gått ut. Logga in igen."));
  for (const type of ["ticket", "citizen_message", "escalated", "claimed", "released", "staff_message", "closed", "note", "callback"]) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      if (type === "ticket") announce(`Nytt ärende i kön.`);
      if (type === "escalated" && event.ticket_id !== state.current) {
        urgent("Akut: en invånare i kön skrev något som tyder på fara. Ärendet ligger nu först i kön.");
      }
      refreshQueue();
      if (state.detail && (event.ticket_id === state.current ||
          event.conversation_id === state.detail.ticket.conversation_id)) {
        if (type === "citizen_message") announce("Invånaren har skrivit ett nytt meddelande.");
        refreshTicket();
      }
    });
  }
}

// ---- queue ---------------------------------------------------------------------------
let queueTimer = null;
async function refreshQueue() {
  window.clearTimeout(queueTimer);
  try {
    const data = await api("/queue");
    state.queue = data.open;
    renderQueue(data.open, $("queue"), true);
    renderQueue(data.recent, $("recent"), false);
    $("queue-count").textContent = `(${data.open.length})`;
    $("queue-empty").hidden = data.open.length > 0;
  } catch (error) {
    $("live-state").textContent = error.message;
  }
  queueTimer = window.setTimeout(refreshQueue, 30000); // waiting times tick on
}

function renderQueue(tickets, list, open) {
  list.replaceChildren(...tickets.map((t) => {
    const status = t.status === "active" && t.claimed_by_name ? `Pågår – ${t.claimed_by_name}` : STATUS[t.status];
    const button = el("button", {
      type: "button", class: "ticket-button", "data-ticket": t.id,
      "aria-current": t.id === state.current ? "true" : null,
    },
      el("span", { class: `badge p${t.priority}`, text: priorityLabel(t.priority) }),
      el("span", { class: "reason", text: reasonLabel(t.reason) }),
      el("span", { class: "meta", text: open
        ? `${language(t.language)} · väntat ${minutes(t.waiting_seconds)} · ${status}` +
          `${t.escalated_at ? " · blev akut under väntan" : ""}${t.callback_requested ? " · vill bli uppringd" : ""}`
        : `${t.claimed_by_name || "–"} · ${state.outcomes[t.outcome] || t.outcome || ""} · ${clock(t.closed_at)}` }));
    button.addEventListener("click", () => openTicket(t.id));
    return el("li", {}, button);
  }));
}

// ---- one ticket ----------------------------------------------------------------------
async function openTicket(id) {
  state.current = id;
  await refreshTicket();
  for (const b of document.querySelectorAll(".ticket-button")) {
    if (b.dataset.ticket === id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  }
  $("arende").focus();
}

async function refreshTicket() {
  if (!state.current) return;
  try {
    state.detail = await api(`/tickets/${state.current}`);
    renderTicket(state.detail);
  } catch (error) {
    showTicketError(error.message);
  }
}

async function act(path, body, done) {
  showTicketError("");
  try {
    await api(`/tickets/${state.current}${path}`, { method: "POST", body });
    if (done) announce(done);
    await refreshTicket();
    refreshQueue();
    return true;
  } catch (error) {
    showTicketError(error.message);
    await refreshTicket().catch(() => {});
    return false;
  }
}

$("claim").addEventListener("click", async () => {
  if (await act("/claim", undefined, "Du har tagit ärendet. Invånaren ser ditt namn.")) $("reply-text").focus();
});
$("release").addEventListener("click", () => act("/release", undefined, "Ärendet ligger i kön igen."));
$("return").addEventListener("click", () => act("/return", undefined, "Samtalet är tillbaka hos assistenten."));
$("close").addEventListener("click", () => act("/close", { outcome: $("outcome").value }, "Ärendet är avslutat."));

async function sendReply() {
  const text = $("reply-text").value.trim();
  if (!text) { showTicketError("Skriv ett svar först."); $("reply-text").focus(); return; }
  $("send").disabled = true;
  if (await act("/messages", { text }, "Svaret är skickat.")) $("reply-text").value = "";
  $("send").disabled = false;
  $("reply-text").focus();
}
$("reply-form").addEventListener("submit", (event) => { event.preventDefault(); sendReply(); });
$("reply-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); sendReply(); }
});

$("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) { showTicketError("Skriv en anteckning först."); return; }
  if (await act("/notes", { text }, "Anteckningen är sparad.")) $("note-text").value = "";
});

async function loadCanned() {
  try {
    state.canned = (await api("/canned")).replies;
    $("canned").replaceChildren(el("option", { value: "", text: "Välj ett färdigt svar…" }),
      ...state.canned.map((r, i) => el("option", { value: String(i), text: r.title })));
  } catch (error) { /* the console works without them */ }
}
$("canned").addEventListener("change", () => {
  const reply = state.canned[Number($("canned").value)];
  if (!reply || $("canned").value === "") return;
  const text = reply.text.replaceAll("{namn}", state.me ? state.me.display_name : "");
  const box = $("reply-text");
  box.value = box.value ? `${box.value}\n${text}` : text;
  $("canned").value = "";
  box.focus();
});

// ---- start -----------------------------------------------------------------------------
(async () => {
  await loginOptions();
  // Back from single sign-on with a refusal: /staff?sso=<code> (the message comes from the gateway).
  const refused = new URLSearchParams(window.location.search).get("sso");
  if (refused) window.history.replaceState(null, "", "/staff");
  try {
    signedIn(await api("/me"));
  } catch (error) {
    const message = refused ? (ssoMessages[refused] || ssoMessages.invalid || "Inloggningen misslyckades.") : "";
    showLogin(error.status === 401 ? message : error.message);
  }
})();
