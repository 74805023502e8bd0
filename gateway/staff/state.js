// Konsolens tillstånd, delat av modulerna.
// Reasons, priorities and outcomes with their labels come from the gateway at login (/me).
export const state = { me: null, csrf: "", outcomes: {}, reasons: {}, priorities: {}, current: null, detail: null, queue: [], events: null, canned: [],
  acuteSeen: {}, needsTotp: false };
