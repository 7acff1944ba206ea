// view-summary.js: a Party's structured summary (CTF Table 4 rows 5, 7-14) by year, the
// check against what it reported, drill-down from a row to its blocks and their entries
// (each entry's inclusion checked here), the chart, and the AEF download.

import { getFile, getJSON } from "./api.js";
import { latest } from "./checks.js";
import { balanceChart } from "./chart.js";
import { fields, fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { checkCell } from "./summary-math.js";
import { entryCheck } from "./view-discrepancies.js";
import { actionText, badge, custodyLink, entryLink, heading, route, table, verbatim } from "./ui.js";

export const ROWS = ["R5", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14"];
const MAX_CHECKED = 25; // entries checked at once in a drill-down

function form(params) {
  return h(
    "form",
    {
      id: "summary-form",
      class: "row",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          window.location.hash = route("summary", { party: ev.target.elements.party.value.trim().toUpperCase() });
        },
      },
    },
    h("label", { for: "summary-party" }, t("summary.party")),
    h("input", {
      id: "summary-party",
      name: "party",
      value: params.get("party") || "",
      required: true,
      autocomplete: "off",
      spellcheck: "false",
      size: "6",
    }),
    h("button", { id: "summary-submit", type: "submit" }, t("summary.submit")),
  );
}

const num = (v) => (v === null || v === undefined ? null : Number(v));

function drill(drillEl, answer, year, name) {
  const row = year.rows[name];
  const indices = [...new Set([...row.entries.map((e) => e.index), ...row.blocks.map((b) => b.index)])];
  fill(
    drillEl,
    h("h3", { id: "drill-title", tabindex: "-1" }, t("drill.title", { row: name, label: t(`row.${name}`), year: year.year })),
    fields([
      [t("drill.value"), row.value ?? "—"],
      [t("drill.status"), t(`status.${String(row.status).replace(/ /g, "-")}`)],
      [t("drill.reason"), verbatim(row.reason)],
    ]),
    arithmetic(answer, year, name),
    row.blocks.length
      ? table({ id: "drill-blocks" }, ["col.index", "block.ca", "block.origin", "block.serials", "a6.quantity", "a6.action"],
        row.blocks.map((b) => h("tr", {},
          h("td", {}, entryLink(b.index)),
          h("td", {}, b.ca_id),
          h("td", {}, b.origin),
          h("td", {}, custodyLink(b.ca_id, b.origin, b.first, b.last, `${b.first}–${b.last}`)),
          h("td", {}, b.quantity),
          h("td", {}, actionText(b.action)))), t("drill.title", { row: name, label: t(`row.${name}`), year: year.year }))
      : h("p", { class: "hint" }, t("drill.noblocks")),
    indices.length ? h("h4", {}, t("drill.entries")) : null,
    h("ul", { id: "drill-entries", class: "checks" },
      indices.slice(0, MAX_CHECKED).map((i) => h("li", {}, entryLink(i), " ", entryCheck(i, { testid: "drill-state" })))),
  );
  drillEl.querySelector("#drill-title").focus();
}

/** The row's value recomputed here from the other rows and its blocks (summary-math.js). */
function arithmetic(answer, year, name) {
  const check = checkCell(answer, year, name);
  if (!check) return null;
  const reason = check.state === "verified" ? "drill.sum.ok" : "drill.sum.bad";
  return badge({ id: "drill-sum", testid: "drill-sum" }, { state: check.state, reason, vars: { value: check.want, rule: t(`rule.${name}`) } });
}

function summaryTable(answer, drillEl) {
  const findingRows = new Map(); // "R7/2026" → codes
  for (const y of answer.years) for (const f of y.findings) findingRows.set(`${f.row}/${y.year}`, f.code);
  const head = h("tr", {}, h("th", { scope: "col" }, t("summary.row")), answer.years.map((y) => h("th", { scope: "col" }, String(y.year))));
  const body = ROWS.map((name) =>
    h("tr", {},
      h("th", { scope: "row" }, h("span", { class: "row-code" }, name), " ", t(`row.${name}`)),
      answer.years.map((y) => {
        const row = y.rows[name];
        const code = findingRows.get(`${name}/${y.year}`);
        const reported = y.reported ? y.reported.rows[name] : undefined;
        return h("td", { class: code ? "cell mismatch" : "cell" },
          row
            ? h("button", {
              type: "button",
              class: "cell-button",
              testid: "summary-cell",
              "data-row": name,
              "data-year": y.year,
              "data-finding": code || null,
              "aria-label": t("summary.cell", { row: name, year: y.year, value: row.value ?? "—" }),
              on: { click: () => drill(drillEl, answer, y, name) },
            }, row.value ?? "—")
            : "",
          code ? h("span", { class: "finding-mark" }, ` ${code} (${t("summary.reported")} ${reported ?? "—"})`) : null);
      })));
  const outcome = h("tr", {}, h("th", { scope: "row" }, t("summary.outcome")),
    answer.years.map((y) => {
      const attrs = { testid: "summary-outcome", "data-year": y.year, "data-outcome": y.outcome };
      return h("td", { ...attrs, class: `outcome outcome-${y.outcome}` }, t(`outcome.${y.outcome}`));
    }));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("summary.table") },
    h("table", { id: "summary-table" }, h("thead", {}, head), h("tbody", {}, body, outcome)));
}

function findings(answer) {
  const all = answer.years.flatMap((y) => y.findings.map((f) => ({ ...f, year: y.year })));
  if (!all.length) return h("p", { id: "summary-findings", class: "empty" }, t("summary.nofindings"));
  return h("ul", { id: "summary-findings", class: "findings" },
    all.map((f) => h("li", { testid: "summary-finding", "data-code": f.code, "data-row": f.row, "data-year": f.year },
      h("strong", {}, `${f.code} · ${f.year} · ${f.row}`), " ",
      t("summary.finding", { reported: f.reported ?? "—", computed: f.computed ?? "—" }), " ",
      h("span", { class: "hint" }, verbatim(f.message)), " ",
      f.blocks.map((b) => custodyLink(b.ca_id, b.origin, b.first, b.last, null, { class: "chip" })),
      f.entry ? entryLink(f.entry.index) : null)));
}

function aefForm(answer) {
  const status = h("p", { id: "aef-status", role: "status" });
  return h("form", {
    id: "aef-form",
    class: "row",
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        const year = ev.target.elements.year.value;
        const format = ev.target.elements.format.value;
        status.textContent = t("aef.fetching");
        try {
          const at = answer.checkpoint ? { size: String(answer.checkpoint.size) } : {};
          const file = await getFile("/v1/aef", { party: answer.party, year, format, ...at });
          const url = URL.createObjectURL(file.blob);
          const a = h("a", { href: url, download: file.name || `aef-${answer.party}-${year}.json` });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
          status.textContent = t("aef.done", { name: file.name || `aef-${answer.party}-${year}.json` });
        } catch (e) {
          status.textContent = t("aef.failed", { detail: e.message });
        }
      },
    },
  },
  h("label", { for: "aef-year" }, t("aef.year")),
  h("select", { id: "aef-year", name: "year" }, answer.years.map((y) => h("option", { value: y.year }, String(y.year)))),
  h("label", { for: "aef-format" }, t("aef.format")),
  h("select", { id: "aef-format", name: "format" }, ["json", "csv", "xlsx"].map((f) => h("option", { value: f }, t(`aef.${f}`)))),
  h("button", { id: "aef-download", type: "submit" }, t("aef.download")),
  status);
}

export async function renderSummary({ params }) {
  const party = params.get("party") || "";
  const out = [heading("summary.title"), form(params)];
  if (!party) return [...out, h("p", { class: "hint" }, t("summary.help"))];
  const [answer, { opened }] = await Promise.all([getJSON("/v1/summary", { party }), latest()]);
  // The checkpoint the summary was computed at (the API names it); older APIs did not, so
  // fall back to the latest checkpoint read beside it.
  const at = answer.checkpoint || opened.checkpoint;
  const size = at ? at.size.toString() : "?";
  out.push(fields([
    [t("summary.party"), answer.party],
    [t("summary.method"), `${answer.ca_method} · ${answer.ca_year}`],
    [t("summary.period"), answer.ndc_period.join("–")],
    [t("summary.at"), t("summary.atsize", { size }), "summary-checkpoint"],
  ]));
  if (!answer.years.length) return [...out, h("p", { class: "empty" }, t("summary.noyears"))];
  const drillEl = h("section", { id: "drill", "aria-live": "polite", class: "drill" }, h("p", { class: "hint" }, t("drill.help")));
  out.push(h("h3", {}, t("summary.table")), summaryTable(answer, drillEl), drillEl);
  out.push(h("h3", {}, t("summary.findings")), findings(answer));
  const byYear = new Map(answer.years.map((y) => [y.year, y]));
  const [from, to] = answer.ndc_period;
  const points = [];
  for (let year = from; year <= to; year++) {
    const y = byYear.get(year);
    points.push({ year, r5: y ? num(y.rows.R5.value) : null, r14: y ? num(y.rows.R14.value) : null });
  }
  out.push(h("h3", {}, t("chart.title")), h("figure", { class: "chart-wrap" }, balanceChart(points)));
  out.push(h("h3", {}, t("aef.title")), aefForm(answer));
  return out;
}
