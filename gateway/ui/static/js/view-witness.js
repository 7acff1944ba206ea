// view-witness.js: the Log view's witnesses: the auditor pins witness keys and K, and the
// served checkpoint's cosignatures are checked against them in this browser
// (cosignature.js).
//
// Storage: local "a6gw.witnesses" (a JSON list of witness verifier key lines, type 0x04),
// "a6gw.minWitnesses" (K as decimal text; absent: 1).
// Ids: #witness-state[data-state] #witness-list [data-testid=witness-row data-state=
//   verified|not-verified|absent|unsupported data-witness=<name+key id>] #witness-form
//   #witness-keys #witness-file #witness-min #witness-pin #witness-clear #witness-error

import { checkCosignatures, parsePolicy, witnessLines } from "./cosignature.js";
import { fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { badge } from "./ui.js";

export const WITNESSES_KEY = "a6gw.witnesses";
export const MIN_WITNESSES_KEY = "a6gw.minWitnesses";

/** The stored policy: {lines, k} (k null when unset); lines [] when nothing is stored. */
export function storedPolicy() {
  let lines = [];
  try {
    const v = JSON.parse(localStorage.getItem(WITNESSES_KEY) || "[]");
    if (Array.isArray(v)) lines = v.map(String);
  } catch {
    lines = [];
  }
  return { lines, k: localStorage.getItem(MIN_WITNESSES_KEY) };
}

/**
 * The pinned witnesses and K, parsed: {witnesses, k}; {witnesses: [], k: 1} when none is
 * pinned; {invalid: message} when what is stored cannot be read (nothing then verifies).
 */
export async function pinnedPolicy() {
  const { lines, k } = storedPolicy();
  if (lines.length === 0) return { witnesses: [], k: 1 };
  try {
    return await parsePolicy(lines, k);
  } catch (e) {
    return { invalid: e.message };
  }
}

/**
 * Pin the witness key lines of `text` and K (checked first; nothing is stored otherwise).
 * @throws {NoteError} when a line is no witness key or K cannot be met.
 */
export async function pinWitnesses(text, k) {
  const policy = await parsePolicy(witnessLines(text), k);
  localStorage.setItem(WITNESSES_KEY, JSON.stringify(policy.witnesses.map((w) => w.line)));
  localStorage.setItem(MIN_WITNESSES_KEY, String(policy.k));
  return policy;
}

export function unpinWitnesses() {
  localStorage.removeItem(WITNESSES_KEY);
  localStorage.removeItem(MIN_WITNESSES_KEY);
}

/** The cosignatures of `note` under the stored policy (see checkCosignatures). */
export async function checkStored(note) {
  const policy = await pinnedPolicy();
  if (policy.invalid) {
    return { state: "not-verified", reason: "reason.badwitnesskey", detail: policy.invalid, vars: {}, witnesses: [] };
  }
  return checkCosignatures(note, policy.witnesses, policy.k);
}

const ROW_LABELS = {
  verified: "witness.row.verified",
  "not-verified": "witness.row.not-verified",
  absent: "witness.row.absent",
  unsupported: "witness.row.unsupported",
};

function row(w) {
  const time = w.time === null ? "" : new Date(Number(w.time) * 1000).toISOString().replace(".000Z", "Z");
  return h(
    "li",
    { testid: "witness-row", state: w.state, "data-witness": w.key },
    h("code", {}, w.key),
    " ",
    h("span", { class: "state-label" }, t(ROW_LABELS[w.state], { time })),
    w.detail ? [" ", h("code", { class: "state-detail" }, w.detail)] : null,
  );
}

/** The witnesses' section of the Log view, for the served checkpoint note. */
export async function witnessSection(note) {
  const box = h("section", { id: "witnesses", class: "witnesses" });
  await fillSection(box, note);
  return box;
}

async function fillSection(box, note) {
  const rerender = () => fillSection(box, note);
  const check = await checkStored(note);
  const { lines, k } = storedPolicy();
  const out = [h("h3", {}, t("witness.title"))];
  out.push(badge({ id: "witness-state" }, check));
  if (check.witnesses.length) out.push(h("ul", { id: "witness-list", class: "witnesses" }, check.witnesses.map(row)));
  const keys = h("textarea", { id: "witness-keys", rows: "3", spellcheck: "false", autocomplete: "off" });
  keys.value = lines.join("\n");
  const min = h("input", { id: "witness-min", type: "number", min: "1", step: "1", inputmode: "numeric", value: k || "1" });
  const error = h("p", { id: "witness-error", class: "error", role: "alert", hidden: true });
  const file = h("input", {
    id: "witness-file",
    type: "file",
    multiple: true,
    accept: ".vkey,text/plain",
    on: {
      change: async (ev) => {
        const texts = await Promise.all(Array.from(ev.target.files || [], (f) => f.text()));
        keys.value = witnessLines([keys.value, ...texts].join("\n")).join("\n");
      },
    },
  });
  const form = h(
    "form",
    {
      id: "witness-form",
      class: "row",
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          try {
            await pinWitnesses(keys.value, min.value);
          } catch (e) {
            error.textContent = t("witness.invalid", { detail: e.message });
            error.hidden = false;
            return;
          }
          rerender();
        },
      },
    },
    h("label", { for: "witness-keys" }, t("witness.keys")),
    keys,
    h("label", { for: "witness-file" }, t("witness.file")),
    file,
    h("label", { for: "witness-min" }, t("witness.min")),
    min,
    h("button", { id: "witness-pin", type: "submit" }, t("witness.pin")),
    h("button", {
      id: "witness-clear",
      type: "button",
      on: {
        click: () => {
          unpinWitnesses();
          rerender();
        },
      },
    }, t("witness.clear")),
  );
  out.push(form, error, h("p", { class: "hint" }, t("witness.hint")));
  fill(box, out);
}
