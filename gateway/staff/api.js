// Anrop till /staff/api/ med sessionens CSRF-token; 401 visar inloggningen igen.
import { state } from "./state.js";

const API = "/staff/api";
export const EVENTS_URL = API + "/events";
// Set by console.js: what to do when the session has ended.
export const hooks = { loggedOut: (message) => {} };

export class ApiError extends Error {
  constructor(status, message, code) { super(message); this.status = status; this.code = code; }
}

export async function api(path, options) {
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
    if (response.status === 401 && path !== "/login") hooks.loggedOut("Du är utloggad. Logga in igen.");
    throw new ApiError(response.status, message, data && data.error ? data.error.code : "");
  }
  return data;
}
