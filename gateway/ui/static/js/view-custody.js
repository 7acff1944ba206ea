// view-custody.js: the chain of custody of an ITMO range as a timeline, each step's
// inclusion recomputed here against the (signed) checkpoint the answer came with.

import { getJSON } from "./api.js";
import { checkConsistency, checkInclusion, openServed } from "./checks.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { ACTIONS, badge, entryLink, heading, outcomeText, route, when } from "./ui.js";

/** What a step of the chain is: issuance, first-transfer, transfer, acquisition, use,
 * cancellation, or other (its Article 6 action first, else its event type). */
export function stepOf(doc) {
  // The entry's own actions first (an answer's a6 rows also repeat the transfer it answers).
  for (const a of [...(doc.actions || []), ...(doc.a6 || []).map((r) => r.action)]) {
    if (a in ACTIONS) return ACTIONS[a];
  }
  const type = String((doc.input && doc.input.type) || "");
  if (type.includes("issuance")) return "issuance";
  if (type.includes("transfer")) return "transfer";
  if (type.includes("retirement") || type.includes("use")) return "use";
  if (type.includes("cancel")) return "cancellation";
  return "other";
}

function form(itmo) {
  return h(
    "form",
    {
      id: "custody-form",
      class: "row",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const v = ev.target.elements.itmo.value.trim();
          window.location.hash = route("custody", { itmo: v });
        },
      },
    },
    h("label", { for: "custody-itmo" }, t("custody.itmo")),
    h("input", {
      id: "custody-itmo",
      name: "itmo",
      value: itmo,
      required: true,
      spellcheck: "false",
      autocomplete: "off",
      "aria-describedby": "custody-hint",
    }),
    h("button", { id: "custody-submit", type: "submit" }, t("custody.submit")),
    h("small", { id: "custody-hint", class: "hint" }, t("term.itmo.hint")),
  );
}

async function step(item, opened) {
  let doc = {};
  try {
    doc = JSON.parse(item.entry.body);
  } catch {
    // a step that is not JSON is still checked and shown by its index
  }
  const kind = stepOf(doc);
  const check = await checkInclusion(item.entry, item.proof, opened);
  const input = doc.input || {};
  return h(
    "li",
    { testid: "custody-step", "data-step": kind, "data-state": check.state, "data-index": item.entry.index, class: `step step-${kind}` },
    h("h4", {}, t(`step.${kind}`), " ", entryLink(item.entry.index)),
    badge({ testid: "step-state" }, check),
    h("p", {}, h("code", {}, [input.type, input.source].filter(Boolean).join(" · ")), " · ", outcomeText(doc.outcome)),
    doc.decided_at ? h("p", { class: "hint" }, when(doc.decided_at)) : null,
  );
}

export async function renderCustody({ params }) {
  const itmo = params.get("itmo") || "";
  const out = [heading("custody.title"), form(itmo)];
  if (!itmo) return [...out, h("p", { class: "hint" }, t("custody.help"))];
  const answer = await getJSON("/v1/custody", { itmo, after: params.get("after") || "" });
  const opened = await openServed(answer.checkpoint);
  const consistency = await checkConsistency(opened);
  const { ca_id: ca, origin, serial_start: first, serial_end: last } = answer;
  out.push(h("p", {}, t("custody.range", { ca, origin, first, last })));
  out.push(badge({ id: "custody-checkpoint-state" }, opened));
  if (consistency.state === "fork") out.push(badge({ id: "custody-consistency-state" }, consistency));
  const steps = await Promise.all(answer.items.map((item) => step(item, opened)));
  out.push(h("h3", {}, t("custody.timeline")));
  out.push(
    steps.length
      ? h("ol", { id: "custody-timeline", class: "timeline" }, steps)
      : h("p", { id: "custody-timeline", class: "empty" }, t("custody.none")),
  );
  if (answer.next_after !== null && answer.next_after !== undefined) {
    out.push(h("a", { id: "custody-next", href: route("custody", { itmo, after: answer.next_after }) }, t("search.next")));
  }
  return out;
}
