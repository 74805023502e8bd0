// Ett ärende på skärmen: fakta, fara, varför assistenten lämnade över, samtalet.
import { state } from "./state.js";
import { $, el, urgent } from "./dom.js";
import { ACTIONS, ROLE, STATUS, clock, language, minutes, priorityLabel, reasonLabel } from "./labels.js";

export function showTicketError(message) {
  const box = $("ticket-error");
  box.hidden = !message;
  box.textContent = message || "";
}

export function renderTicket(detail) {
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
