// Redaktörernas arbetsyta: inkorg, ändringar, svar och releaser mot /staff/api/editor/.
// All text från invånare och redaktörer sätts med textContent, aldrig som HTML.
import { state } from "./state.js";
import { $, announce, el } from "./dom.js";
import { clock, language } from "./labels.js";
import { api } from "./api.js";
import { figuresView } from "./figures.js";
import { openNewTopic, setupNewTopic } from "./newtopic.js";

const E = "/editor";
const ed = { inbox: [], reasons: {}, topics: [], item: null, change: null, answers: [], answer: null, started: false };

function showError(message) {
  const box = $("editor-error");
  box.hidden = !message;
  box.textContent = message || "";
}

async function call(path, options, done) {
  showError("");
  try {
    const result = await api(E + path, options);
    if (done) announce(done);
    return result;
  } catch (error) {
    showError(error.message);
    return null;
  }
}

// ---- tabs (piltangenter flyttar mellan flikarna) ----------------------------------------
export function tablist(tabs, onSelect) {
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(index));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (event.key === "Home") { event.preventDefault(); select(0, true); }
      else if (event.key === "End") { event.preventDefault(); select(tabs.length - 1, true); }
      else if (step) { event.preventDefault(); select((index + step + tabs.length) % tabs.length, true); }
    });
  });
  function select(index, focus) {
    tabs.forEach((tab, i) => {
      const on = i === index;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !on;
    });
    if (focus) tabs[index].focus();
    onSelect(tabs[index].id);
  }
  return select;
}

// ---- inbox ------------------------------------------------------------------------------
async function loadInbox() {
  const params = new URLSearchParams({ days: $("f-days").value });
  for (const [key, id] of [["language", "f-language"], ["reason", "f-reason"], ["topic", "f-topic"]]) {
    if ($(id).value) params.set(key, $(id).value);
  }
  const data = await call(`/inbox?${params}`);
  if (!data) return;
  ed.inbox = data.items;
  ed.reasons = data.reasons || {};
  fillSelect($("f-reason"), Object.entries(ed.reasons), "Alla");
  renderInbox();
}

function fillSelect(select, pairs, allLabel) {
  const chosen = select.value;
  select.replaceChildren(...(allLabel !== null ? [el("option", { value: "", text: allLabel })] : []),
    ...pairs.map(([value, label]) => el("option", { value, text: label })));
  select.value = pairs.some(([value]) => value === chosen) ? chosen : (allLabel !== null ? "" : (pairs[0] || [""])[0]);
}

function renderInbox() {
  $("inbox-caption").textContent = `Inkorgen: ${ed.inbox.length} ${ed.inbox.length === 1 ? "fråga" : "frågor"}`;
  $("inbox-empty").hidden = ed.inbox.length > 0;
  $("inbox-rows").replaceChildren(...ed.inbox.map((item) => {
    const assign = el("button", { type: "button", text: "Lägg till som exempel", "aria-label": `Lägg till som exempel: ${item.text_sv}` });
    assign.addEventListener("click", () => openAssign(item));
    const topic = el("button", { type: "button", text: "Nytt ämne", "aria-label": `Nytt ämne: ${item.text_sv}` });
    topic.addEventListener("click", () => openNewTopic(item));
    const outOfScope = el("button", { type: "button", text: "Utanför uppdraget", "aria-label": `Utanför uppdraget: ${item.text_sv}` });
    outOfScope.addEventListener("click", () => dismiss(item, "out_of_scope"));
    const noise = el("button", { type: "button", text: "Släng", "aria-label": `Släng: ${item.text_sv}` });
    noise.addEventListener("click", () => dismiss(item, "noise"));
    return el("tr", {},
      el("td", { lang: item.language, text: item.text }),
      el("td", { lang: "sv", text: item.language === "sv" ? "–" : item.text_sv }),
      el("td", { text: language(item.language) }),
      el("td", { text: (item.reasons || [item.reason]).map((r) => ed.reasons[r] || r).join(", ") }),
      el("td", { class: "num", text: String(item.count) }),
      el("td", { text: item.predicted_topic || "–" }),
      el("td", { class: "num", text: item.confidence === null ? "–" : `${Math.round(item.confidence * 100)} %` }),
      el("td", { class: "row-actions" }, assign, topic, outOfScope, noise));
  }));
}

function openAssign(item) {
  ed.item = item;
  const form = $("assign-form");
  form.hidden = false;
  $("topic-form").hidden = true;
  const native = item.language === "sv" || item.language === "en";
  $("assign-text").value = native ? item.text : item.text_sv;
  $("assign-language").value = native ? item.language : "sv";
  fillSelect($("assign-topic"), ed.topics.map((t) => [t, t]), null);
  if (item.predicted_topic && ed.topics.includes(item.predicted_topic)) $("assign-topic").value = item.predicted_topic;
  $("assign-text").focus();
}

setupNewTopic(call, () => loadInbox());
$("assign-cancel").addEventListener("click", () => { $("assign-form").hidden = true; ed.item = null; });
$("assign-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!ed.item) return;
  const body = { topic: $("assign-topic").value, text: $("assign-text").value.trim(), language: $("assign-language").value };
  const saved = await call(`/inbox/${ed.item.id}/assign`, { method: "POST", body },
    "Exemplet är sparat i ditt utkast.");
  if (saved) { $("assign-form").hidden = true; ed.item = null; await loadInbox(); }
  else $("assign-text").focus();
});

async function dismiss(item, why) {
  const done = why === "out_of_scope" ? "Markerad som utanför uppdraget." : "Frågan är slängd.";
  if (await call(`/inbox/${item.id}/dismiss`, { method: "POST", body: { why } }, done)) await loadInbox();
}

$("inbox-filter").addEventListener("submit", (event) => { event.preventDefault(); loadInbox(); });

// ---- change sets ------------------------------------------------------------------------
const isPublisher = () => state.me && (state.me.role === "publisher" || state.me.role === "admin");
let pollTimer = null;

async function loadChanges() {
  const data = await call("/changes");
  if (!data) return;
  $("change-rows").replaceChildren(...data.items.map((c) => {
    const open = el("button", { type: "button", text: "Visa", "aria-label": `Visa ändring ${c.id}` });
    open.addEventListener("click", () => openChange(c.id));
    return el("tr", {}, el("td", { class: "num", text: String(c.id) }),
      el("td", { text: c.state_label + (c.reason ? `: ${c.reason.slice(0, 80)}` : "") }),
      el("td", { text: c.author }), el("td", { text: clock(c.updated_at) }), el("td", {}, open));
  }));
}

async function openChange(id) {
  window.clearTimeout(pollTimer);
  const c = await call(`/changes/${id}`);
  if (!c) return;
  ed.change = c;
  $("change-detail").hidden = false;
  $("change-title").textContent = `Ändring ${c.id} – ${c.state_label}`;
  const facts = [["Författare", c.author], ["Status", c.state_label], ["Skäl", c.reason || "–"],
    ["Publicerad av", c.publisher || "–"], ["Commit", c.commit || "–"]];
  $("change-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  $("change-examples").replaceChildren(...c.examples.map((x) => el("li", { lang: x.language, text: `${x.topic}: ${x.text}` })),
    ...c.answers.map((a) => el("li", { text: `Svar ändrat: ${a.topic}` })),
    ...(c.new_topics || []).map((t) => el("li", { text: `Nytt ämne: ${t.topic} (${t.label_sv}), källa ${t.url}` })));
  $("change-figures").replaceChildren(...figuresView(c.figures));
  $("change-diff").textContent = c.diff || "Ingen skillnad att visa än (skicka in för att se den).";
  const mine = state.me && c.author_id === state.me.id;
  $("change-submit").hidden = !(mine && (c.state === "draft" || c.state === "failed"));
  $("change-publish").hidden = !(isPublisher() && !mine && c.state === "ready");
  if (["queued", "training", "testing"].includes(c.state)) {
    pollTimer = window.setTimeout(() => { openChange(id); loadChanges(); }, 3000);
  }
}

$("change-submit").addEventListener("click", async () => {
  if (!ed.change) return;
  if (await call(`/changes/${ed.change.id}/submit`, { method: "POST" }, "Ändringen är inskickad. Den tränas och testas nu.")) {
    await openChange(ed.change.id); await loadChanges();
  }
});
$("change-publish").addEventListener("click", async () => {
  if (!ed.change) return;
  if (await call(`/changes/${ed.change.id}/publish`, { method: "POST" }, "Ändringen är publicerad och modellen är live.")) {
    await openChange(ed.change.id); await loadChanges();
  }
});

// ---- answers ----------------------------------------------------------------------------
async function loadAnswers() {
  const data = await call(`/answers${$("answers-overdue").checked ? "?overdue=true" : ""}`);
  if (!data) return;
  ed.answers = data.items;
  $("answer-rows").replaceChildren(...data.items.map((a) => {
    const edit = el("button", { type: "button", text: "Ändra", "aria-label": `Ändra svaret för ${a.label}` });
    edit.addEventListener("click", () => openAnswer(a));
    return el("tr", { class: a.overdue ? "overdue" : null }, el("td", { text: `${a.label} (${a.topic})` }),
      el("td", { text: a.owner || "ingen ännu" }), el("td", { text: a.checked || "–" }),
      el("td", { text: (a.review_due || "–") + (a.overdue ? " – ska ses över" : "") }), el("td", {}, edit));
  }));
}
$("answers-overdue").addEventListener("change", loadAnswers);

function openAnswer(a) {
  ed.answer = a;
  $("answer-form").hidden = false;
  $("answer-result").hidden = true;
  $("answer-title").textContent = `Svaret för ${a.label}`;
  $("answer-sv").value = a.text_sv; $("answer-en").value = a.text_en;
  $("answer-url").value = a.url; $("answer-owner").value = a.owner; $("answer-checked").value = a.checked;
  $("answer-sv").focus();
}

function answerBody() {
  const a = ed.answer;
  const body = { topic: a.topic };
  const fields = { text_sv: "answer-sv", text_en: "answer-en", url: "answer-url", owner: "answer-owner", checked: "answer-checked" };
  for (const [key, id] of Object.entries(fields)) {
    const value = $(id).value.trim();
    if (value !== (a[key] || "")) body[key] = value;
  }
  return body;
}

function showAnswerResult(result) {
  $("answer-result").hidden = false;
  $("answer-bubbles").replaceChildren(...["sv", "en"].map((lang) => {
    const p = result.preview[lang];
    return el("div", { class: "bubble", lang },
      el("p", { text: p.text }),
      el("p", { class: "source" }, el("span", { text: lang === "sv" ? "Källa: " : "Source: " }),
        el("a", { href: p.source.url, text: p.source.title || p.source.url })));
  }));
  $("answer-diff").textContent = result.diff || "Ingen skillnad.";
}

$("answer-preview").addEventListener("click", async () => {
  if (!ed.answer) return;
  const result = await call("/answers/preview", { method: "POST", body: answerBody() });
  if (result) { showAnswerResult(result); announce("Förhandsgranskningen visas under formuläret."); }
});
$("answer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!ed.answer) return;
  const result = await call("/answers", { method: "POST", body: answerBody() }, "Svaret är sparat i ditt utkast.");
  if (result) showAnswerResult(result);
});

// ---- releases ---------------------------------------------------------------------------
async function loadReleases() {
  const data = await call("/releases");
  if (!data) return;
  $("release-rows").replaceChildren(...data.items.map((r) => {
    const cell = el("td", {});
    if (isPublisher() && !r.active) {
      const back = el("button", { type: "button", text: "Återställ hit", "aria-label": `Återställ till release ${r.id}` });
      back.addEventListener("click", async () => {
        if (await call(`/releases/${r.id}/rollback`, { method: "POST" }, `Release ${r.id} är live igen.`)) loadReleases();
      });
      cell.append(back);
    }
    return el("tr", {}, el("td", { class: "num", text: String(r.id) }), el("td", { text: r.active ? "Ja" : "" }),
      el("td", { text: r.change_set_id ? String(r.change_set_id) : "–" }), el("td", { text: r.author || "–" }),
      el("td", { text: r.publisher || "–" }), el("td", { text: (r.commit || "–").slice(0, 10) }),
      el("td", { text: clock(r.created_at) }), cell);
  }));
}

// ---- quality ----------------------------------------------------------------------------
async function loadQuality() {
  const data = await call(`/quality?days=${$("q-days").value}`);
  if (!data) return;
  $("quality-rows").replaceChildren(...data.items.map((r) => {
    const share = Math.round(r.miss_share * 100);
    const bar = el("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${share}%`;
    const open = el("button", { type: "button", text: "Visa frågorna", "aria-label": `Visa frågorna om ${r.topic} på ${language(r.language)} i inkorgen` });
    open.addEventListener("click", () => {
      $("f-days").value = $("q-days").value;
      $("f-topic").value = [...$("f-topic").options].some((o) => o.value === r.topic) ? r.topic : "";
      $("f-language").value = [...$("f-language").options].some((o) => o.value === r.language) ? r.language : "";
      $("f-reason").value = "";
      selectPanel(0, true);
    });
    return el("tr", {}, el("td", { text: r.topic === "-" ? "inget ämne" : r.topic }), el("td", { text: language(r.language) }),
      ...["answers", "fallbacks", "did_you_mean", "low_confidence", "thumbs_up", "thumbs_down", "handoffs"]
        .map((k) => el("td", { class: "num", text: String(r[k]) })),
      el("td", { class: "share" }, el("span", { class: "bar-track" }, bar), el("span", { text: `${share} %` })),
      el("td", {}, open));
  }));
}
$("quality-filter").addEventListener("submit", (event) => { event.preventDefault(); loadQuality(); });

// ---- start ------------------------------------------------------------------------------
const panels = { "etab-inbox": loadInbox, "etab-changes": loadChanges, "etab-answers": loadAnswers,
  "etab-releases": loadReleases, "etab-quality": loadQuality };
let selectPanel = () => {};

export async function startEditor() {
  if (ed.started) { loadInbox(); return; }
  ed.started = true;
  selectPanel = tablist(["etab-inbox", "etab-changes", "etab-answers", "etab-releases", "etab-quality"].map($),
    (id) => panels[id]());
  const answers = await call("/answers");
  ed.topics = answers ? answers.items.map((a) => a.topic) : [];
  fillSelect($("f-topic"), ed.topics.map((t) => [t, t]), "Alla");
  await loadInbox();
}
