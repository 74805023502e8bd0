// Kontaktcenters chattkö. Ingen byggsteg: ren JavaScript mot /staff/api/.
// All text från invånare och personal sätts med textContent, aldrig som HTML.
"use strict";

(function () {
  const API = "/staff/api";
  const STATUS = { waiting: "Väntar", active: "Pågår", after_hours: "Utanför öppettid – ring upp", closed: "Avslutat" };
  const ROLE = { citizen: "Invånaren", bot: "Assistenten", staff: "Personal", system: "Meddelande" };
  const ACTIONS = {
    "ticket.claim": "tog ärendet", "ticket.release": "lade tillbaka i kön", "ticket.reply": "svarade",
    "ticket.note": "skrev en anteckning", "ticket.close": "avslutade", "ticket.callback_requested": "bad om att bli uppringd",
    "ticket.escalate": "skrev något som tyder på fara – ärendet blev akut",
  };
  const languageNames = (() => {
    try { return new Intl.DisplayNames(["sv"], { type: "language" }); } catch (e) { return null; }
  })();

  // Reasons, priorities and outcomes with their labels come from the gateway at login (/me).
  const state = { me: null, csrf: "", outcomes: {}, reasons: {}, priorities: {}, current: null, detail: null, queue: [], events: null, canned: [],
    acuteSeen: {} };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function language(code) {
    if (!code) return "okänt språk";
    const name = languageNames ? languageNames.of(code) : null;
    return name && name !== code ? `${name} (${code})` : code;
  }

  function reasonLabel(code) {
    const known = state.reasons[code];
    return known ? known.label : code;
  }

  function priorityLabel(level) {
    return state.priorities[String(level)] || String(level);
  }

  function minutes(seconds) {
    if (seconds < 60) return "mindre än en minut";
    const m = Math.round(seconds / 60);
    if (m < 60) return `${m} min`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("sv-SE", { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });
  }

  function announce(text) {
    const region = $("announcer");
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  // Danger: said at once (role="alert"), interrupting whatever the screen reader is reading.
  function urgent(text) {
    const region = $("urgent");
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, options) {
    const opts = Object.assign({ method: "GET", credentials: "same-origin", headers: {} }, options || {});
    if (opts.body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.body);
    }
    if (opts.method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf;
    const response = await fetch(API + path, opts);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : `Något gick fel (${response.status}).`;
      if (response.status === 401 && path !== "/login") showLogin("Du är utloggad. Logga in igen.");
      throw new ApiError(response.status, message);
    }
    return data;
  }

  // ---- login -------------------------------------------------------------------------
  function showLogin(message) {
    if (state.events) { state.events.close(); state.events = null; }
    state.me = null;
    $("console-view").hidden = true;
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
    $("who-name").textContent = session.user.display_name;
    $("who").hidden = false;
    $("login-view").hidden = true;
    $("console-view").hidden = false;
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
    if (!username || !password) {
      showLogin("Fyll i både användarnamn och lösenord.");
      return;
    }
    try {
      const session = await api("/login", { method: "POST", body: { username, password } });
      $("password").value = "";
      signedIn(session);
      announce(`Inloggad som ${session.user.display_name}.`);
    } catch (error) {
      showLogin(error.message);
    }
  });

  $("logout").addEventListener("click", async () => {
    try { await api("/logout", { method: "POST" }); } catch (e) { /* already logged out */ }
    showLogin("Du är utloggad.");
  });

  // ---- live updates ------------------------------------------------------------------
  function listen() {
    if (state.events) state.events.close();
    const source = new EventSource(API + "/events");
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

  function showTicketError(message) {
    const box = $("ticket-error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  function renderTicket(detail) {
    const t = detail.ticket;
    $("ticket-empty").hidden = true;
    $("ticket").hidden = false;
    showTicketError("");
    $("ticket-title").textContent = `${priorityLabel(t.priority)}: ${reasonLabel(t.reason)}`;
    const mine = t.status === "active" && state.me && t.claimed_by === state.me.id;
    const open = t.status !== "closed";
    const facts = [
      ["Status", t.status === "active" ? `Pågår – ${t.claimed_by_name || ""}` : STATUS[t.status] +
        (t.outcome ? ` (${state.outcomes[t.outcome] || t.outcome})` : "")],
      ["Språk", language(t.language)],
      ["Skapat", `${clock(t.created_at)} (väntat ${minutes(t.waiting_seconds)})`],
    ];
    // The call-back details come only to the one who holds the ticket (the gateway decides).
    if (t.callback) {
      facts.push(["Ring upp", el("span", { class: "callback" },
        ...[t.callback.name, t.callback.phone, t.callback.preferred_time && `helst ${t.callback.preferred_time}`]
          .filter(Boolean).flatMap((part, i) => (i ? [" · ", part] : [part])))]);
    } else if (t.callback_requested) {
      facts.push(["Ring upp", el("span", { class: "callback-hidden",
        text: "Invånaren vill bli uppringd. Numret visas för den som har tagit ärendet." })]);
    }
    $("ticket-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
    renderAcute(detail);

    $("claim").hidden = !open || t.status === "active";
    $("release").hidden = !mine;
    $("return").hidden = !mine;
    $("close").parentElement.hidden = !open || (t.status === "active" && !mine);
    $("reply-form").hidden = !mine;
    $("reply-hint").textContent = t.language === "sv"
      ? "(invånaren skriver svenska)"
      : `(översätts automatiskt till ${language(t.language)} och märks som maskinöversatt)`;

    renderReasoning(t.reasoning || {});
    renderTranscript(detail.messages, t.language);
    $("notes").replaceChildren(...detail.notes.map((n) =>
      el("li", {}, el("span", { class: "meta", text: `${n.author}, ${clock(n.created_at)}: ` }), el("span", { text: n.text }))));
    $("history").replaceChildren(...detail.history.map((h) =>
      el("li", { text: `${clock(h.created_at)} – ${h.actor} ${ACTIONS[h.action] || h.action}` +
        (h.detail && h.detail.outcome ? ` (${state.outcomes[h.detail.outcome] || h.detail.outcome})` : "") })));
  }

  // Messages that showed danger: a note under the title, a mark in the transcript, and, when
  // a new one arrives while the ticket is open on screen, an alert for screen readers.
  function renderAcute(detail) {
    const t = detail.ticket;
    const marked = detail.messages.filter((m) => m.acute);
    const note = $("ticket-acute");
    note.hidden = !marked.length;
    if (marked.length) {
      const last = marked[marked.length - 1];
      note.textContent = `Fara: invånaren skrev något som tyder på ${reasonLabel(last.acute.reason).toLowerCase()}` +
        ` (${clock(last.created_at)}). Invånaren fick säkerhetsinformationen (112, Självmordslinjen, Kvinnofridslinjen, 1177)` +
        ` direkt. Meddelandet är markerat i samtalet.`;
    }
    const known = state.acuteSeen[t.id];
    const fresh = known ? marked.filter((m) => !known.has(m.id)) : [];
    state.acuteSeen[t.id] = new Set(marked.map((m) => m.id));
    if (fresh.length) {
      urgent(`Akut: invånaren i ärendet du har öppet skrev något som tyder på fara ` +
        `(${reasonLabel(fresh[0].acute.reason)}). Meddelandet är markerat i samtalet.`);
    }
  }

  function renderReasoning(reasoning) {
    const box = $("reasoning");
    const items = [];
    if (reasoning.escalated_at) {
      const before = reasoning.reason_before ? ` Ärendet gällde först: ${reasonLabel(reasoning.reason_before)}.` : "";
      items.push(el("p", { class: "acute-reason", text: `Ärendet blev akut ${clock(reasoning.escalated_at)}: ` +
        "säkerhetsordlistan reagerade på ett meddelande medan invånaren väntade eller pratade med er." + before }));
    }
    if (reasoning.safety_lexicon) {
      items.push(el("p", { text: `Säkerhetsordlistan reagerade på ett uttryck för: ${reasonLabel(reasoning.safety_lexicon)}.` }));
    }
    const ranking = (reasoning.intent_ranking || []).slice(0, 3);
    if (ranking.length) {
      items.push(el("p", { text: "Det assistenten trodde att frågan gällde:" }));
      items.push(el("ul", {}, ...ranking.map((r) =>
        el("li", { text: `${r.name} – ${Math.round((r.confidence || 0) * 100)} %` }))));
    }
    if (reasoning.topic) items.push(el("p", { text: `Närmaste ämne: ${reasoning.topic}` }));
    const sources = (reasoning.sources_shown || []).filter((s, i, all) => all.findIndex((o) => o.url === s.url) === i);
    if (sources.length) {
      items.push(el("p", { text: "Källor som visades för invånaren:" }));
      items.push(el("ul", {}, ...sources.map((s) =>
        el("li", {}, el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: s.title || s.url })))));
    }
    if (!items.length) items.push(el("p", { text: "Ingen tolkning sparades (invånaren bad om en person)." }));
    box.replaceChildren(...items);
  }

  function renderTranscript(messages, citizenLanguage) {
    const box = $("transcript");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    box.replaceChildren(el("div", { class: "row head", "aria-hidden": "true" },
      el("span", { text: "" }), el("span", { text: `Original (${language(citizenLanguage)})` }), el("span", { text: "Svenska" })));
    for (const m of messages) {
      const who = m.role === "staff" ? `${m.author || "Personal"}` : ROLE[m.role] || m.role;
      const original = el("p", { class: "original", lang: m.language, dir: "auto", text: m.text });
      const swedish = m.text_sv && m.text_sv !== m.text
        ? el("p", { class: "swedish", lang: "sv", text: m.text_sv })
        : el("p", { class: "swedish same", lang: "sv", text: m.language === "sv" ? "(samma)" : "(ingen svensk översättning)" });
      const labels = [];
      if (m.machine_translated) labels.push("maskinöversatt till invånaren");
      if (m.text_sv_machine) labels.push("svenskan maskinöversatt för dig");
      const danger = m.acute
        ? el("span", { class: "acute-label", text: `Fara: ${reasonLabel(m.acute.reason)}` })
        : null;
      box.append(el("div", { class: `row ${m.role}${m.acute ? " acute" : ""}`, "data-message": m.id },
        el("div", { class: "speaker" }, el("strong", { text: who }), el("span", { class: "meta", text: clock(m.created_at) }), danger),
        original,
        el("div", {}, swedish, labels.length ? el("span", { class: "label", text: labels.join(", ") }) : null)));
    }
    if (atBottom || box.dataset.ticket !== state.current) box.scrollTop = box.scrollHeight;
    box.dataset.ticket = state.current;
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
    try {
      signedIn(await api("/me"));
    } catch (error) {
      showLogin(error.status === 401 ? "" : error.message);
    }
  })();
})();
