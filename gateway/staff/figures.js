// Släppkontrollens siffror (scripts/gate.py) som en tabell för den som granskar och publicerar.
// Alla siffror finns också som JSON under "Alla siffror".
import { el } from "./dom.js";

const pct = (x) => (typeof x === "number" ? `${(x * 100).toFixed(1).replace(".", ",")} %` : "–");

function list(title, items) {
  if (!items || !items.length) return null;
  return el("div", {}, el("h6", { text: title }), el("ul", {}, ...items.map((t) => el("li", { text: t }))));
}

export function figuresView(f) {
  if (!f || typeof f !== "object" || f.faq_topic_accuracy === undefined) {
    return [el("p", { text: f ? "Siffrorna har ett okänt format; se JSON nedan." : "Inga siffror än." }),
      ...(f ? [raw(f)] : [])];
  }
  const b = f.baseline || {};
  const was = (key) => (b[key] ? pct(b[key].baseline) : "–");
  const reaches = f.acute_reaches_person ?? f.acute_sensitive_recall;
  const extras = f.extras || { total: 0, correct: 0, wrong: [] };
  const rows = [
    ["Rätt ämne på testfrågorna (vanliga frågor)", pct(f.faq_topic_accuracy), was("faq_topic_accuracy"), "minst 95 %"],
    ["Akuta meddelanden som når en människa", pct(reaches), was("acute_reaches_person"), "100 %"],
    ["… varav modellen själv känner igen", pct(f.acute_sensitive_recall), was("acute_sensitive_recall"),
      "högst en färre än live"],
    ["Vanliga frågor som felaktigt går till en människa", pct(f.faq_false_handoff_rate), was("faq_false_handoff_rate"),
      "högst 3 %"],
    ["Frågor som redaktörerna har lagt till (måste bli rätt)", `${extras.correct} av ${extras.total}`, "–", "alla"],
  ];
  const table = el("table", { class: "figures-table" },
    el("caption", { text: `Testat på ${f.paraphrases} frågor som modellen inte tränats på` }),
    el("thead", {}, el("tr", {}, ...["Mått", "Den nya modellen", "Modellen som är live", "Krav"]
      .map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map(([name, now, before, need]) => el("tr", {},
      el("th", { scope: "row", text: name }), el("td", { class: "num", text: now }),
      el("td", { class: "num", text: before }), el("td", { text: need })))));
  const topic = (w) => `${w.topic}: ${w.baseline} → ${w.model}`;
  return [
    table,
    list("Skäl till att testet inte godkände modellen", f.reasons),
    list("Akuta meddelanden som bara säkerhetsordlistan fångar (de går ändå till en människa)",
      f.acute_caught_only_by_safety_lexicon),
    list("Redaktörernas frågor som blev fel", (extras.wrong || []).map((w) => `${w.text} (väntat ${w.gold}, fick ${w.label})`)),
    list("Ämnen som blev sämre än live", (b.topics_worse || []).map(topic)),
    list("Ämnen som blev bättre än live", (b.topics_better || []).map(topic)),
    raw(f),
  ].filter(Boolean);
}

function raw(f) {
  return el("details", {}, el("summary", { text: "Alla siffror (JSON)" }),
    el("pre", { class: "figures", tabindex: "0", text: JSON.stringify(f, null, 2) }));
}
