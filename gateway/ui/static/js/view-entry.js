// view-entry.js: one entry laid out for a person, its exact bytes, and its inclusion proof
// recomputed here (leaf hash from the bytes, root from the proof) against the checkpoint.

import { getJSON } from "./api.js";
import { latest, proveEntry } from "./checks.js";
import { fields, h } from "./dom.js";
import { t } from "./i18n.js";
import { actionText, badge, checking, custodyLink, heading, outcomeText, route, setBadge, table, verbatim, vocab, when } from "./ui.js";

const SHOWN = new Set([
  "entry_version", "entry_type", "entry_id", "input", "outcome", "results", "actions", "a6",
  "blocks", "decided_at", "logged_at", "ca_id", "quantity", "transaction_id", "note",
]);

/** A serial range as people write it. */
export const range = (b) => {
  const first = b.start ?? b.first ?? b.serial_start;
  const last = b.end ?? b.last ?? b.serial_end;
  return first === last ? String(first) : `${first}–${last}`;
};

function value(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return h("pre", { class: "json" }, JSON.stringify(v, null, 2));
  return h("code", {}, String(v)); // a recorded value (an id, a type, a time), as it is
}

/** A recorded field: its name and value as the log has them. */
const keyValue = ([k, v]) => [h("code", {}, k), value(v)];

function inputFields(input) {
  if (!input || typeof input !== "object") return null;
  return fields(Object.entries(input).map(keyValue), { class: "fields nested" });
}

let catalogue = null;

/** The catalogue of checks shipped with the page (catalogue.json, beside index.html):
 * {code: {rule, applies_to, source, status, reason}}; {} when it cannot be read. */
export function loadCatalogue() {
  if (catalogue === null) {
    catalogue = fetch("catalogue.json")
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => ({}));
  }
  return catalogue;
}

function results(list, checks = {}) {
  if (!list || list.length === 0) return h("p", { id: "entry-results" }, t("entry.noresults"));
  return h(
    "ul",
    { id: "entry-results", class: "results" },
    list.map((r) =>
      h(
        "li",
        { testid: "result", "data-code": r.code },
        h("a", { href: route("search", { code: r.code }), class: "code" }, r.code),
        checks[r.code] ? h("span", { class: "rule raw", lang: "en", testid: "rule" }, checks[r.code].rule) : null,
        " ",
        verbatim(r.message),
        r.blocks && r.blocks.length ? h("span", { class: "blocks" }, ` (${r.blocks.map(range).join(", ")})`) : null,
      ),
    ),
  );
}

function blocks(list) {
  if (!list || list.length === 0) return null;
  return table(
    { id: "entry-blocks" },
    ["block.ca", "block.origin", "block.serials", "block.vintage", "block.registry", "block.account", "block.state", "block.first"],
    list.map((b) =>
      h(
        "tr",
        {},
        h("td", {}, b.ca_id),
        h("td", {}, b.origin),
        h("td", {}, custodyLink(b.ca_id, b.origin, b.start, b.end, range(b))),
        h("td", {}, b.vintage),
        h("td", {}, b.registry),
        h("td", {}, b.account),
        h("td", {}, vocab("unit", b.state)),
        h("td", {}, b.first_transferred ? t("yes") : t("no")),
      ),
    ),
    t("entry.blocks"),
  );
}

function actionRows(list) {
  if (!list || list.length === 0) return null;
  return table(
    { id: "entry-a6" },
    ["a6.action", "a6.party", "block.ca", "block.origin", "block.serials", "a6.quantity", "block.vintage", "a6.purposes"],
    list.map((a) =>
      h(
        "tr",
        {},
        h("td", {}, actionText(a.action), a.subtype ? [" (", verbatim(a.subtype), ")"] : null),
        h("td", {}, a.party),
        h("td", {}, a.ca_id),
        h("td", {}, a.origin),
        h("td", {}, range(a)),
        h("td", {}, a.quantity),
        h("td", {}, a.vintage),
        h("td", {}, a.purposes),
      ),
    ),
    t("entry.a6"),
  );
}

/** The entry's fields for a person: what was decided, on what, with which codes. */
export function entryFields(entry, doc, checks = {}) {
  const other = Object.entries(doc).filter(([k]) => !SHOWN.has(k));
  const outcome = h("span", { class: `outcome outcome-${doc.outcome}`, "data-outcome": doc.outcome }, outcomeText(doc.outcome));
  const actions = doc.actions && doc.actions.length ? doc.actions.map(actionText).join(", ") : t("entry.noactions");
  return [
    fields([
      [t("entry.index"), String(entry.index), "entry-index"],
      [t("entry.id"), h("code", {}, entry.entry_id), "entry-id"],
      [t("entry.type"), h("span", { "data-kind": doc.entry_type }, vocab("kind", doc.entry_type)), "entry-type"],
      [t("entry.outcome"), outcome, "entry-outcome"],
      [t("entry.decided"), when(doc.decided_at)],
      [t("entry.logged"), when(doc.logged_at)],
      [t("entry.ca"), doc.ca_id],
      [t("entry.transaction"), doc.transaction_id],
      [t("entry.quantity"), doc.quantity],
      [t("entry.note"), doc.note],
      [t("entry.input"), inputFields(doc.input)],
    ]),
    h("h3", {}, t("entry.results")),
    results(doc.results, checks),
    doc.actions ? [h("h3", {}, t("entry.actions")), h("p", { id: "entry-actions" }, actions)] : null,
    doc.a6 && doc.a6.length ? [h("h3", {}, t("entry.a6")), actionRows(doc.a6)] : null,
    doc.blocks && doc.blocks.length ? [h("h3", {}, t("entry.blocks")), blocks(doc.blocks)] : null,
    other.length ? [h("h3", {}, t("entry.other")), fields(other.map(keyValue), { id: "entry-other" })] : null,
  ];
}

/** The exact bytes, and the proof as checked (filled in once checked). */
function proofPart(entry, leaf, root) {
  return [
    h("h3", {}, t("entry.bytes")),
    h("pre", { id: "entry-bytes", class: "bytes", tabindex: "0", "aria-label": t("entry.bytes") }, entry.body),
    fields([
      [t("entry.leafhash"), leaf],
      [t("entry.root"), root],
    ]),
  ];
}

export async function renderEntry({ arg }) {
  if (!/^[0-9]+$/.test(arg)) throw new Error(t("entry.badindex"));
  const entry = await getJSON(`/v1/entries/${arg}`);
  let doc;
  try {
    doc = JSON.parse(entry.body);
  } catch {
    doc = {};
  }
  const state = badge({ id: "inclusion-state" }, checking());
  const leaf = h("code", { class: "hash", id: "entry-leaf-hash" }, "…");
  const root = h("code", { class: "hash", id: "entry-root" }, "…");
  const out = [heading("entry.title", { index: entry.index }), state, entryFields(entry, doc, await loadCatalogue()), proofPart(entry, leaf, root)];
  // Checked after the view is shown: the state element says "checking" until then.
  (async () => {
    try {
      const { opened } = await latest();
      // the proof is of the index asked for: an answer about another leaf proves nothing here
      const check = String(entry.index) === arg
        ? await proveEntry(entry, opened)
        : { state: "not-verified", reason: "reason.otherentry", detail: `${entry.index} != ${arg}`, leaf: "", root: "" };
      setBadge(state, check);
      leaf.textContent = check.leaf;
      root.textContent = check.root;
    } catch (e) {
      setBadge(state, { state: "not-verified", reason: "reason.noproof", detail: e.message });
    }
  })();
  return out;
}
