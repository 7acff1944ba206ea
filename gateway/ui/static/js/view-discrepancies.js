// view-discrepancies.js: discrepancies as they stand and reconciliation runs, with their
// history; each audit entry behind them is checked for inclusion here.

import { getJSON } from "./api.js";
import { latest, proveEntry } from "./checks.js";
import { fields, h } from "./dom.js";
import { t } from "./i18n.js";
import { badge, checking, custodyLink, entryLink, heading, route, setBadge, table, verbatim, vocab, when } from "./ui.js";

const FILTERS = [
  ["status", ["", "open", "acknowledged", "resolved"]],
  ["found_by", ["", "reconciliation", "decision", "delivery"]],
  ["code", null],
  ["registry", null],
];

const choiceText = (name, c) => (c ? vocab(name === "status" ? "outcome" : "found", c) : t("filter.any"));

function filterForm(params) {
  const controls = FILTERS.map(([name, choices]) => {
    const id = `f-${name}`;
    const control = choices
      ? h("select", { id, name }, choices.map((c) => h("option", { value: c, selected: params.get(name) === c }, choiceText(name, c))))
      : h("input", { id, name, value: params.get(name) || "", autocomplete: "off", spellcheck: "false" });
    return h("div", { class: "field" }, h("label", { for: id }, t(`filter.${name}`)), control);
  });
  return h(
    "form",
    {
      id: "discrepancy-filter",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const q = {};
          for (const [k, v] of new FormData(ev.target).entries()) if (v) q[k] = v;
          window.location.hash = route("discrepancies", q);
        },
      },
    },
    h("div", { class: "grid" }, controls),
    h("button", { id: "discrepancy-submit", type: "submit" }, t("filter.apply")),
  );
}

/** A live check of one audit entry's inclusion (the badge says "checking" until done). */
export function entryCheck(index, attrs = { testid: "step-state" }) {
  const el = badge(attrs, checking());
  (async () => {
    try {
      const [{ opened }, entry] = await Promise.all([latest(), getJSON(`/v1/entries/${index}`)]);
      setBadge(el, await proveEntry(entry, opened));
    } catch (e) {
      setBadge(el, { state: "not-verified", reason: "reason.noproof", detail: e.message });
    }
  })();
  return el;
}

export async function renderDiscrepancies({ params }) {
  const query = {};
  for (const [k, v] of params.entries()) query[k] = v;
  const [list, runs] = await Promise.all([getJSON("/v1/discrepancies", query), getJSON("/v1/reconciliations")]);
  const out = [heading("dsc.title"), filterForm(params)];
  out.push(h("h3", {}, t("dsc.list", { n: list.items.length })));
  out.push(
    list.items.length
      ? table({ id: "discrepancy-list" },
        ["dsc.id", "dsc.code", "dsc.severity", "dsc.status", "dsc.registries", "dsc.first_seen", "dsc.summary"],
        list.items.map((d) =>
          h("tr", { testid: "discrepancy-row", "data-code": d.code, "data-status": d.status },
            h("td", {}, h("a", { href: `#/discrepancy/${encodeURIComponent(d.discrepancy_id)}` }, d.discrepancy_id.slice(0, 16) + "…")),
            h("td", {}, d.code),
            h("td", {}, vocab("severity", d.severity)),
            h("td", {}, h("span", { class: `status status-${d.status}` }, vocab("outcome", d.status))),
            h("td", {}, d.registries.join(", ")),
            h("td", {}, when(d.first_seen)),
            h("td", {}, verbatim(d.summary)))), t("dsc.list", { n: list.items.length }))
      : h("p", { id: "discrepancy-list", class: "empty" }, t("dsc.none")),
  );
  out.push(h("h3", {}, t("run.list", { n: runs.items.length })));
  out.push(
    runs.items.length
      ? table({ id: "run-list" }, ["run.id", "run.registry", "run.decided", "run.found", "run.status", "run.discrepancies", "run.pending"],
        runs.items.map((r) =>
          h("tr", { testid: "run-row", "data-status": r.status },
            h("td", {}, h("a", { href: `#/run/${encodeURIComponent(r.run_id)}` }, r.run_id.slice(0, 16) + "…")),
            h("td", {}, r.registry),
            h("td", {}, when(r.decided_at)),
            h("td", {}, vocab("run", r.report_status)),
            h("td", {}, vocab("run", r.status)),
            h("td", {}, String(r.discrepancy_ids.length)),
            h("td", {}, String(r.pending)))), t("run.list", { n: runs.items.length }))
      : h("p", { id: "run-list", class: "empty" }, t("run.none")),
  );
  return out;
}

function discrepancyFields(d) {
  return fields([
    [t("dsc.id"), h("code", {}, d.discrepancy_id)],
    [t("dsc.code"), h("a", { href: route("search", { code: d.code }) }, d.code)],
    [t("dsc.severity"), vocab("severity", d.severity)],
    [t("dsc.status"), vocab("outcome", d.status)],
    [t("dsc.found_by"), vocab("found", d.found_by)],
    [t("dsc.registries"), d.registries.join(", ")],
    [t("dsc.blocks"), d.blocks.map((b) => custodyLink(b.ca_id, b.origin, b.start, b.end, null, { class: "chip" }))],
    [t("dsc.first_seen"), when(d.first_seen)],
    [t("dsc.summary"), verbatim(d.summary)],
    [t("dsc.owner"), d.owner],
    [t("dsc.resolution"), verbatim(d.resolution)],
    [t("dsc.latest"), entryLink(d.latest_index)],
  ]);
}

export async function renderDiscrepancy({ arg }) {
  const found = await getJSON(`/v1/discrepancies/${encodeURIComponent(arg)}`);
  const d = found.discrepancy;
  return [
    heading("dsc.one", { code: d.code }),
    h("section", { id: "discrepancy-detail" }, discrepancyFields(d),
      h("details", { class: "raw" }, h("summary", {}, t("dsc.detail")), h("pre", { class: "json" }, JSON.stringify(d.detail, null, 2)))),
    h("h3", {}, t("dsc.steps")),
    h("ol", { id: "discrepancy-steps", class: "timeline" },
      found.entries.map((s) =>
        h("li", { class: "step", "data-outcome": s.outcome },
          h("h4", {}, vocab("outcome", s.outcome), " ", entryLink(s.index)),
          entryCheck(s.index),
          h("p", {}, [s.codes.join(", "), s.by].filter(Boolean).join(" · "), " ", verbatim(s.message)),
          h("p", { class: "hint" }, when(s.at))))),
  ];
}

export async function renderRun({ arg }) {
  const found = await getJSON(`/v1/reconciliations/${encodeURIComponent(arg)}`);
  const r = found.run;
  return [
    heading("run.one", { registry: r.registry }),
    h("section", { id: "run-detail" },
      entryCheck(r.index),
      fields([
        [t("run.id"), h("code", {}, r.run_id)],
        [t("run.entry"), entryLink(r.index)],
        [t("run.registry"), r.registry],
        [t("run.decided"), when(r.decided_at)],
        [t("run.found"), vocab("run", r.report_status)],
        [t("run.status"), vocab("run", r.status)],
        [t("run.pending"), String(r.pending)],
      ])),
    h("h3", {}, t("run.discrepancies")),
    found.discrepancies.length
      ? h("ul", {}, found.discrepancies.map((d) => h("li", {},
        h("a", { href: `#/discrepancy/${encodeURIComponent(d.discrepancy_id)}` }, `${d.code} · ${vocab("outcome", d.status)}`),
        " ",
        verbatim(d.summary))))
      : h("p", { class: "empty" }, t("dsc.none")),
    h("details", { class: "raw" }, h("summary", {}, t("run.report")), h("pre", { class: "json" }, JSON.stringify(found.report, null, 2))),
  ];
}
