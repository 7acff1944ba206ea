// view-log.js: the latest checkpoint, its signature checked against the pinned key, and
// its consistency with the checkpoint this browser saw before.

import { getJSON } from "./api.js";
import { checkConsistency, forgetSeen, latest, seenFor } from "./checks.js";
import { fields, h } from "./dom.js";
import { t } from "./i18n.js";
import { toHex } from "./merkle.js";
import { age, badge, heading, setBadge } from "./ui.js";
import { witnessSection } from "./view-witness.js";

/** The checkpoint's facts: from the note's text (the served fields are only compared). */
export function checkpointFacts(opened, prefix) {
  const cp = opened.checkpoint;
  if (!cp) return null;
  return fields([
    [t("cp.origin"), cp.origin, `${prefix}-origin`],
    [t("cp.size"), cp.size.toString(), `${prefix}-size`],
    [t("cp.root"), h("code", { class: "hash" }, toHex(cp.root)), `${prefix}-root`],
    [t("cp.signers"), opened.signers.join(", "), `${prefix}-signer`],
  ]);
}

export async function renderLog() {
  const { served, opened, consistency } = await latest(true);
  const cp = opened.checkpoint;
  const out = [heading("log.title")];
  out.push(badge({ id: "checkpoint-state" }, opened));
  if (opened.state === "unpinned") {
    out.push(
      h("p", { id: "unpinned-warning", class: "warning", role: "note" }, t("log.unpinned")),
    );
  }
  const facts = checkpointFacts(opened, "checkpoint");
  if (facts) out.push(facts);
  // The time the checkpoint was seen is not signed (tlog-checkpoint has no time); the age is
  // that of the newest entry it covers, read from that entry's own logged_at.
  if (cp && cp.size > 0n) out.push(ageLine(cp.size - 1n));
  out.push(h("details", { class: "raw" }, h("summary", {}, t("cp.note")), h("pre", { id: "checkpoint-note" }, served.note)));
  // The witnesses' cosignatures of this very note (the reader's policy, in this browser).
  out.push(await witnessSection(served.note));

  out.push(h("h3", {}, t("log.consistency")));
  const cons = badge({ id: "consistency-state" }, { ...consistency, vars: consistency.from || {} });
  out.push(cons);
  if (consistency.from) {
    out.push(h("p", { class: "hint" }, t("log.seenbefore", { size: consistency.from.size, root: consistency.from.root })));
  }
  if (cp) {
    out.push(
      h("p", {}, h("button", {
        id: "consistency-forget",
        type: "button",
        on: {
          click: async () => {
            forgetSeen(cp.origin);
            setBadge(cons, await checkConsistency(opened));
          },
        },
      }, t("log.forget"))),
    );
    out.push(h("p", { class: "hint" }, t("log.seenhint")));
    if (seenFor(cp.origin) === null) out.push(h("p", { class: "hint" }, t("log.notremembered")));
  }
  return out;
}

function ageLine(last) {
  const dd = h("dd", { id: "checkpoint-age" }, "…");
  getJSON(`/v1/entries/${last}`)
    .then((e) => {
      const body = JSON.parse(e.body);
      const stamp = body.logged_at || body.decided_at;
      dd.textContent = stamp ? `${age(Date.now() - Date.parse(stamp))} (${stamp})` : "—";
    })
    .catch(() => {
      dd.textContent = "—";
    });
  return h("dl", { class: "fields" }, h("dt", {}, t("cp.age")), dd);
}
