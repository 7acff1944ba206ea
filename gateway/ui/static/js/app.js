// app.js: the auditors' page: settings, language, hash routing to the views.
//
// Routes: #/log · #/search?<terms>&after=N · #/entry/<index> · #/custody?itmo=CA:ORIGIN:A-B
//   · #/discrepancies[?status=..] · #/discrepancy/<id> · #/run/<id> · #/summary?party=P[&year=Y]
// Storage: session "a6gw.token" (the API token); local "a6gw.vkey" (pinned log key line),
//   "a6gw.seen" ({origin: {size, root hex}}: the last checkpoint seen), "a6gw.lang",
//   "a6gw.witnesses" (JSON list of pinned witness key lines), "a6gw.minWitnesses" (K).
//
// Stable ids and test ids (every verification state element has
// data-state="verified|not-verified|unpinned|unsupported|fork|checking"):
//   page:    #lang #nav-log #nav-search #nav-custody #nav-discrepancies #nav-summary
//            #settings #token #token-save #token-clear #vkey #vkey-file #vkey-pin #vkey-clear
//            #vkey-status #error #view #view-title [data-testid=view-error]
//   log:     #checkpoint-state #checkpoint-origin #checkpoint-size #checkpoint-root
//            #checkpoint-age #checkpoint-signer #unpinned-warning #consistency-state
//            #consistency-forget #checkpoint-note
//            witnesses (view-witness.js): #witness-state (data-state verified only with >= K
//            valid cosignatures by pinned witnesses) #witness-list [data-testid=witness-row
//            data-state=verified|not-verified|absent|unsupported data-witness=<name+key id>]
//            #witness-form #witness-keys #witness-file #witness-min #witness-pin
//            #witness-clear #witness-error
//   entry:   #inclusion-state #entry-index #entry-id #entry-type[data-kind]
//            #entry-outcome[data-outcome] (their text is in the reader's language)
//            #entry-results [data-testid=result data-code] #entry-blocks #entry-actions
//            #entry-bytes #entry-leaf-hash #entry-root #entry-proof
//   search:  #search-form, inputs #q-<term> (as /v1/search names them: (event source party type outcome code ca
//            transaction discrepancy itmo from to limit), #search-submit #search-results
//            [data-testid=search-row data-index] #search-next #search-first
//   custody: #custody-form #custody-itmo #custody-submit #custody-checkpoint-state
//            #custody-timeline [data-testid=custody-step data-state data-step=issuance|
//            first-transfer|transfer|acquisition|use|cancellation|other] #custody-next
//   discrepancies: #discrepancy-filter #discrepancy-list [data-testid=discrepancy-row]
//            #run-list [data-testid=run-row] #discrepancy-detail #discrepancy-steps
//            #run-detail [data-testid=step-state data-state]
//   summary: #summary-form #summary-party #summary-submit #summary-table
//            [data-testid=summary-cell data-row data-year] #summary-findings
//            [data-testid=summary-finding data-code] #summary-chart #drill
//            [data-testid=drill-state data-state] #drill-sum (the row recomputed)
//            #aef-year #aef-format #aef-download #aef-status
// Any [data-testid=entry-link data-index] leads to #/entry/<index>.

import { ApiError, getToken, setToken } from "./api.js";
import { pinKey, pinnedKey, unpinKey } from "./checks.js";
import { fill, h } from "./dom.js";
import { toHex } from "./merkle.js";
import { LANG_KEY, applyStatic, initialLanguage, setLanguage, t } from "./i18n.js";
import { errorBox } from "./ui.js";
import { renderCustody } from "./view-custody.js";
import { renderDiscrepancies, renderDiscrepancy, renderRun } from "./view-discrepancies.js";
import { renderEntry } from "./view-entry.js";
import { renderLog } from "./view-log.js";
import { renderSearch } from "./view-search.js";
import { renderSummary } from "./view-summary.js";

const VIEWS = {
  log: renderLog,
  search: renderSearch,
  entry: renderEntry,
  custody: renderCustody,
  discrepancies: renderDiscrepancies,
  discrepancy: renderDiscrepancy,
  run: renderRun,
  summary: renderSummary,
};

/** "#/entry/5?x=1" → {name: "entry", arg: "5", params: URLSearchParams}. */
export function parseHash(hash) {
  const body = hash.startsWith("#/") ? hash.slice(2) : "log";
  const q = body.indexOf("?");
  const path = q < 0 ? body : body.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : body.slice(q + 1));
  const [name, ...rest] = path.split("/");
  return { name: name in VIEWS ? name : "log", arg: rest.map(decodeURIComponent).join("/"), params };
}

let rendering = 0;
let routed = false; // the first view keeps the focus where the page starts

async function render() {
  const hash = window.location.hash;
  if (routed && hash && !hash.startsWith("#/")) return; // an in-page anchor (the skip link)
  const { name, arg, params } = parseHash(hash.startsWith("#/") ? hash : "#/log");
  const view = document.getElementById("view");
  const mine = ++rendering;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.id === `nav-${name}` || (name === "entry" && a.id === "nav-search")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  view.setAttribute("aria-busy", "true");
  try {
    const content = await VIEWS[name]({ arg, params, stale: () => mine !== rendering });
    if (mine !== rendering) return;
    fill(view, content);
  } catch (e) {
    if (mine !== rendering) return;
    fill(view, errorBox(e));
    if (!(e instanceof ApiError)) console.warn(e);
  } finally {
    if (mine === rendering) view.removeAttribute("aria-busy");
  }
  const title = document.getElementById("view-title");
  const active = document.activeElement;
  const moved = routed && (!active || active === document.body || active.closest("nav"));
  if (title && moved) title.focus({ preventScroll: true });
  routed = true;
  document.title = `${title ? title.textContent : ""} · ${t("title")}`;
}

async function showKey() {
  const key = await pinnedKey();
  const status = document.getElementById("vkey-status");
  if (key && key.invalid) {
    status.textContent = t("vkey.invalid", { detail: key.invalid });
    status.setAttribute("data-state", "not-verified");
    return;
  }
  status.textContent = key ? t("vkey.pinned", { key: `${key.name}+${toHex(key.id)}` }) : t("vkey.none");
  status.setAttribute("data-state", key ? "verified" : "unpinned");
}

function showError(message) {
  const el = document.getElementById("error");
  el.textContent = message || "";
  el.hidden = !message;
}

function wireSettings() {
  const token = document.getElementById("token");
  token.value = getToken();
  document.getElementById("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    setToken(token.value.trim());
    render();
  });
  document.getElementById("token-clear").addEventListener("click", () => {
    token.value = "";
    setToken("");
    render();
  });
  const vkey = document.getElementById("vkey");
  document.getElementById("vkey-file").addEventListener("change", async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    if (file) vkey.value = (await file.text()).split("\n")[0].trim(); // the current key is the first line
  });
  document.getElementById("vkey-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await pinKey(vkey.value);
      showError("");
    } catch (e) {
      showError(t("vkey.invalid", { detail: e.message }));
      return;
    }
    await showKey();
    render();
  });
  document.getElementById("vkey-clear").addEventListener("click", async () => {
    unpinKey();
    vkey.value = "";
    await showKey();
    render();
  });
  const lang = document.getElementById("lang");
  lang.value = setLanguage(initialLanguage(localStorage.getItem(LANG_KEY), navigator.languages));
  lang.addEventListener("change", () => {
    localStorage.setItem(LANG_KEY, setLanguage(lang.value));
    applyStatic(document);
    showKey();
    render();
  });
}

async function start() {
  wireSettings();
  applyStatic(document);
  const key = await pinnedKey();
  if (key && key.line) document.getElementById("vkey").value = key.line;
  await showKey();
  window.addEventListener("hashchange", render);
  await render();
}

start();
