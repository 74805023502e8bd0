// Svenska etiketter för personalen. Skälen till överlämning, prioriteterna och utfallen
// kommer från gatewayen vid inloggningen (state); här finns bara konsolens egna ord.
import { state } from "./state.js";

export const STATUS = { waiting: "Väntar", active: "Pågår", after_hours: "Utanför öppettid – ring upp", closed: "Avslutat" };
export const ROLE = { citizen: "Invånaren", bot: "Assistenten", staff: "Personal", system: "Meddelande" };
export const ACTIONS = {
  "ticket.claim": "tog ärendet", "ticket.release": "lade tillbaka i kön", "ticket.reply": "svarade",
  "ticket.note": "skrev en anteckning", "ticket.close": "avslutade", "ticket.callback_requested": "bad om att bli uppringd",
  "ticket.escalate": "skrev något som tyder på fara – ärendet blev akut",
};
const languageNames = (() => {
  try { return new Intl.DisplayNames(["sv"], { type: "language" }); } catch (e) { return null; }
})();

export function language(code) {
  if (!code) return "okänt språk";
  const name = languageNames ? languageNames.of(code) : null;
  return name && name !== code ? `${name} (${code})` : code;
}

export function reasonLabel(code) {
  const known = state.reasons[code];
  return known ? known.label : code;
}

export function priorityLabel(level) {
  return state.priorities[String(level)] || String(level);
}

export function minutes(seconds) {
  if (seconds < 60) return "mindre än en minut";
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("sv-SE", { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });
}
