// ui.js: small pieces every view uses (state badges, links, errors, times).

import { fill, h } from "./dom.js";
import { hasLabel, language, t } from "./i18n.js";

/** The states a check can be in (data-state values). */
export const STATES = ["verified", "not-verified", "unpinned", "unsupported", "fork", "checking"];

/**
 * A verification state: `<p id data-state role=status>` with the state's label and, when
 * given, its reason (a label key) and a technical detail.
 */
export function badge(attrs, check) {
  const el = h("p", { ...attrs, class: "state", role: "status" });
  return setBadge(el, check);
}

export function setBadge(el, check) {
  const { state, reason, detail, vars } = check;
  el.setAttribute("data-state", state);
  fill(
    el,
    h("span", { class: "state-icon", "aria-hidden": "true" }, ICONS[state] || "?"),
    h("strong", { class: "state-label" }, t(`state.${state}`)),
    reason ? h("span", { class: "state-reason" }, t(reason, vars || {})) : null,
    detail ? h("code", { class: "state-detail" }, detail) : null,
  );
  return el;
}

const ICONS = {
  verified: "✓",
  "not-verified": "✗",
  unpinned: "!",
  unsupported: "?",
  fork: "⑂",
  checking: "…",
};

export const checking = () => ({ state: "checking", reason: "reason.checking" });

/**
 * Text recorded in the log or written by the server (a check's message, a finding, a
 * reason): shown as it is, in English, marked so (lang="en") for screen readers.
 */
export const verbatim = (text) => (text ? h("span", { class: "raw verbatim", lang: "en" }, text) : null);

/** A value of a closed vocabulary (an outcome, a status) in the reader's language. */
export const vocab = (kind, value) => (hasLabel(`${kind}.${value}`) ? t(`${kind}.${value}`) : value);

/** An entry's outcome (a decision's, a discrepancy's, a run's) in the reader's language. */
export const outcomeText = (value) => (hasLabel(`outcome.${value}`) ? t(`outcome.${value}`) : vocab("run", value));

/** The Article 6 actions as the log names them, and the step (label step.*) each is. */
export const ACTIONS = {
  Issuance: "issuance",
  "First transfer": "first-transfer",
  Transfer: "transfer",
  Acquisition: "acquisition",
  Use: "use",
  Cancellation: "cancellation",
};

/** An Article 6 action (as the log names it) in the reader's language. */
export const actionText = (action) => (action in ACTIONS ? t(`step.${ACTIONS[action]}`) : action);

/** A link to the chain of custody of a serial range (its text: `text`, else the range). */
export function custodyLink(ca, origin, first, last, text, attrs = {}) {
  const itmo = `${ca}:${origin}:${first}-${last}`;
  return h("a", { ...attrs, href: route("custody", { itmo }) }, text ?? `${ca}:${origin}:${first}–${last}`);
}

/** A link to an entry's view. */
export const entryLink = (index, text) =>
  h("a", { href: `#/entry/${index}`, testid: "entry-link", "data-index": index }, text ?? `#${index}`);

/** A hash route with its parameters. */
export function route(name, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const qs = q.toString();
  return `#/${name}${qs ? `?${qs}` : ""}`;
}

/** An error shown in a view (the API's problem, or what went wrong). */
export function errorBox(err) {
  const status = err && err.status !== undefined ? err.status : null;
  const key = status === 401 ? "error.401" : status === 403 ? "error.403" : status === 404 ? "error.404" : "error.other";
  return h(
    "div",
    { class: "error", role: "alert", testid: "view-error" },
    h("strong", {}, t(key)),
    " ",
    h("code", {}, err && err.message ? err.message : String(err)),
  );
}

/** A time stamp as the reader's locale writes it, with its RFC 3339 text as the title. */
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toLocaleString(language() === "ja" ? "ja-JP" : "en-GB", { timeZone: "UTC", timeZoneName: "short" });
  return h("time", { datetime: iso, title: iso }, text);
}

/** How long ago, in the reader's language. */
export function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return t("age.seconds", { n: s });
  const m = Math.round(s / 60);
  if (m < 120) return t("age.minutes", { n: m });
  const hr = Math.round(m / 60);
  if (hr < 48) return t("age.hours", { n: hr });
  return t("age.days", { n: Math.round(hr / 24) });
}

/** A heading for a view, focused so that a screen reader announces the new view. */
export const heading = (key, vars) => h("h2", { id: "view-title", tabindex: "-1" }, t(key, vars));

/** A table from column label keys and rows of cells; `label` names its scrolling region. */
export function table(attrs, columns, rows, label = t("table.region")) {
  return h(
    "div",
    // focusable: a keyboard user can scroll a wide table sideways (WCAG 2.1.1)
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label },
    h(
      "table",
      attrs,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, rows),
    ),
  );
}
