// Nytt ämne från en fråga i inkorgen: frågan blir ämnets första exempel, redaktören skriver
// fler exempel, rubriker, svar på svenska och engelska och källsidan på karlstad.se.
// Kontrollerna (personuppgifter, testfrågor, dubbletter, namn, källa) görs av servern; antalet
// exempel (minst 15 svenska och 8 engelska) kontrolleras när ändringen skickas in.
import { $ } from "./dom.js";

let current = null;
const lines = (id) => $(id).value.split("\n").map((l) => l.trim()).filter(Boolean);

function count() {
  const first = current && current.language === "en" ? { sv: 0, en: 1 } : { sv: 1, en: 0 };
  const sv = lines("topic-examples-sv").length + first.sv;
  const en = lines("topic-examples-en").length + first.en;
  $("topic-count").textContent = `${sv} svenska exempel (minst 15) och ${en} engelska (minst 8).`;
}

export function openNewTopic(item) {
  current = item;
  const native = item.language === "sv" || item.language === "en";
  $("topic-form").hidden = false;
  $("assign-form").hidden = true;
  $("topic-text").value = native ? item.text : item.text_sv;
  count();
  $("topic-name").focus();
}

export function setupNewTopic(call, saved) {
  for (const id of ["topic-examples-sv", "topic-examples-en"]) $(id).addEventListener("input", count);
  $("topic-cancel").addEventListener("click", () => { $("topic-form").hidden = true; current = null; });
  $("topic-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const value = (id) => $(id).value.trim();
    const body = {
      topic: `faq/${value("topic-name")}`, text: value("topic-text"),
      label_sv: value("topic-label-sv"), label_en: value("topic-label-en"),
      text_sv: value("topic-answer-sv"), text_en: value("topic-answer-en"),
      title: value("topic-title"), url: value("topic-url"), owner: value("topic-owner"),
      examples_sv: lines("topic-examples-sv"), examples_en: lines("topic-examples-en"),
    };
    const done = await call(`/inbox/${current.id}/new-topic`, { method: "POST", body },
      "Det nya ämnet är sparat i ditt utkast.");
    if (done) { $("topic-form").hidden = true; current = null; $("topic-form").reset(); await saved(); }
    else $("topic-name").focus();
  });
}
