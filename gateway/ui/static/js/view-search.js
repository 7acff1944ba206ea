// view-search.js: search by every term /v1/search takes, paged with next_after.

import { getJSON } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { entryLink, heading, outcomeText, route, table, vocab, when } from "./ui.js";

/** The search terms of /v1/search (gateway.api.routes SEARCH_PARAMS), in form order. */
export const TERMS = [
  ["event", "text"],
  ["source", "text"],
  ["party", "text"],
  ["type", "text"],
  ["outcome", "text"],
  ["code", "text"],
  ["ca", "text"],
  ["transaction", "text"],
  ["discrepancy", "text"],
  ["itmo", "text"],
  ["from", "text"],
  ["to", "text"],
];

/** The outcomes entries end as (schemas/entries.py), the choices of the outcome term. */
const OUTCOMES = [
  "accepted", "rejected", "recorded", "discrepancy", "dead-lettered", "refused", "parked", "open",
  "acknowledged", "resolved", "consistent", "inconsistent", "unreported", "initiated",
  "totals-inconsistent", "blocks-inconsistent", "completed", "completed-with-manual-intervention",
];

function form(params) {
  const inputs = TERMS.map(([name, type]) => {
    const id = `q-${name}`;
    const hint = `${id}-hint`;
    const value = params.get(name) || "";
    // the outcome: typed as the log writes it, with the choices offered in the reader's language
    const list = name === "outcome" ? "outcomes" : null;
    const control = h("input", { id, name, type, value, list, autocomplete: "off", spellcheck: "false", "aria-describedby": hint });
    return h("div", { class: "field" },
      h("label", { for: id }, t(`term.${name}`)),
      control,
      h("small", { id: hint, class: "hint" }, t(`term.${name}.hint`)));
  });
  const limit = h("div", { class: "field" },
    h("label", { for: "q-limit" }, t("term.limit")),
    h("input", { id: "q-limit", name: "limit", type: "number", min: "1", max: "1000", value: params.get("limit") || "50" }));
  return h(
    "form",
    {
      id: "search-form",
      class: "search-form",
      role: "search",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const q = {};
          for (const [k, v] of new FormData(ev.target).entries()) if (String(v).trim()) q[k] = String(v).trim();
          window.location.hash = route("search", q);
        },
      },
    },
    h("div", { class: "grid" }, inputs, limit),
    h("datalist", { id: "outcomes" }, OUTCOMES.map((o) => h("option", { value: o, label: outcomeText(o) }))),
    h("button", { id: "search-submit", type: "submit" }, t("search.submit")),
  );
}

/** A row of the results: what a person scans for. */
function row(item) {
  let doc = {};
  try {
    doc = JSON.parse(item.body);
  } catch {
    // shown by its index only
  }
  const input = doc.input || {};
  const codes = (doc.results || []).map((r) => r.code).join(", ");
  return h(
    "tr",
    { testid: "search-row", "data-index": item.index },
    h("td", {}, entryLink(item.index)),
    h("td", {}, vocab("kind", doc.entry_type || "")),
    h("td", {}, h("code", {}, input.type || input.action || "")),
    h("td", {}, input.source || input.registry || ""),
    h("td", {}, h("span", { class: `outcome outcome-${doc.outcome}` }, outcomeText(doc.outcome || ""))),
    h("td", {}, codes),
    h("td", {}, when(doc.decided_at)),
  );
}

export async function renderSearch({ params }) {
  const out = [heading("search.title"), form(params)];
  const query = {};
  for (const [k, v] of params.entries()) query[k] = v;
  if (!query.limit) query.limit = "50";
  if (!TERMS.some(([name]) => query[name])) return [...out, h("p", { id: "search-results", class: "hint" }, t("search.help"))];
  const page = await getJSON("/v1/search", query);
  out.push(h("h3", { id: "search-count" }, t("search.count", { n: page.items.length })));
  if (page.items.length) {
    const columns = ["col.index", "col.kind", "col.type", "col.source", "col.outcome", "col.codes", "col.decided"];
    out.push(table({ id: "search-results" }, columns, page.items.map(row), t("search.title")));
  } else {
    out.push(h("p", { id: "search-results", class: "empty" }, t("search.none")));
  }
  const nav = [];
  if (params.get("after")) {
    const first = { ...query };
    delete first.after;
    nav.push(h("a", { id: "search-first", href: route("search", first) }, t("search.first")));
  }
  if (page.next_after !== null && page.next_after !== undefined) {
    nav.push(h("a", { id: "search-next", href: route("search", { ...query, after: page.next_after }) }, t("search.next")));
  }
  if (nav.length) out.push(h("nav", { class: "pager", "aria-label": t("search.pages") }, nav));
  return out;
}
