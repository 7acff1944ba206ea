// api.js: the auditors' API, same origin, absolute /v1/ paths.
//
// The token the auditor pastes is kept in session storage (key "a6gw.token") and sent as
// "Authorization: Bearer <token>"; without one the browser's client certificate (if any)
// is what authenticates. Answers are only data: every proof is checked by merkle.js and
// note.js, never taken from a verdict of the server.

export const TOKEN_KEY = "a6gw.token";

export const getToken = () => sessionStorage.getItem(TOKEN_KEY) || "";

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer that is not a success: the RFC 9457 problem's status, code and detail. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${status}${code ? ` ${code}` : ""}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** The URL of an API path on this origin, with the non-empty parameters. */
export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  return url;
}

async function call(path, params, accept) {
  const headers = { Accept: accept };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(apiUrl(path, params), { headers, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "network", e.message);
  }
  if (!res.ok) {
    let code = "";
    let detail = res.statusText;
    try {
      const p = await res.json();
      code = p.code || "";
      detail = p.detail || p.title || detail;
    } catch {
      // not a problem document: the status says it
    }
    throw new ApiError(res.status, code, detail);
  }
  return res;
}

/** GET a JSON answer. @throws {ApiError} */
export async function getJSON(path, params = {}) {
  const res = await call(path, params, "application/json");
  return res.json();
}

/** GET a file: its bytes and the name the server gives it. @throws {ApiError} */
export async function getFile(path, params = {}) {
  const res = await call(path, params, "*/*");
  const disposition = res.headers.get("Content-Disposition") || "";
  const m = /filename="([^"]+)"/.exec(disposition);
  return { blob: await res.blob(), name: m ? m[1] : null, type: res.headers.get("Content-Type") };
}
