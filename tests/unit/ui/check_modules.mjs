// Runs the page's pure modules (gateway/ui/static/js) under Node against the repository's
// vectors: schemas/vectors/log.json (entries, roots, proofs, C2SP checkpoints) and
// tests/vectors/merkle (RFC 9162 proofs, good and mutated). Every hash is computed from the
// bytes. Prints one JSON line {"checked": N, "failures": [...]}; run by test_page_modules.py.
//
// usage: node check_modules.mjs REPO_ROOT [VECTORS_ROOT]
//   VECTORS_ROOT (default REPO_ROOT) holds schemas/vectors/ and tests/vectors/merkle/.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.argv[2];
const vroot = process.argv[3] || root;
const js = (name) => import(pathToFileURL(join(root, "gateway/ui/static/js", name)).href);
const merkle = await js("merkle.js");
const note = await js("note.js");
const i18n = await js("i18n.js");

let checked = 0;
const failures = [];
function expect(ok, what) {
  checked += 1;
  if (!ok) failures.push(what);
}
async function throws(fn) {
  try {
    await fn();
    return false;
  } catch (e) {
    return e instanceof merkle.ProofError;
  }
}

// -- schemas/vectors/log.json: leaf hashes from the bytes, roots from the leaves ----------
const log = JSON.parse(readFileSync(join(vroot, "schemas/vectors/log.json"), "utf8"));
const hex = merkle.fromHex;
const leaves = [];
for (const e of log.entries) {
  const bytes = merkle.utf8(e.utf8);
  expect(merkle.toHex(bytes) === e.hex, `entry ${e.index}: utf8 bytes`);
  const leaf = await merkle.leafHash(bytes);
  expect(merkle.toHex(leaf) === e.leaf_hash, `entry ${e.index}: leaf hash`);
  leaves.push(leaf);
}
async function mth(hs) { // RFC 9162 §2.1.1, the recursive definition (a test oracle)
  if (hs.length === 1) return hs[0];
  let k = 1;
  while (k * 2 < hs.length) k *= 2;
  return merkle.nodeHash(await mth(hs.slice(0, k)), await mth(hs.slice(k)));
}
for (const [size, want] of Object.entries(log.roots)) {
  const got = await mth(leaves.slice(0, Number(size)));
  expect(merkle.toHex(got) === want, `root of size ${size}`);
}
for (const p of log.inclusion) {
  const proof = p.proof.map(hex);
  const leaf = leaves[p.index];
  const ok = !(await throws(() => merkle.verifyInclusion(p.index, p.size, leaf, proof, hex(p.root))));
  expect(ok, `log.json inclusion ${p.index} in ${p.size}`);
  if (proof.length) {
    const bad = proof.map((h) => h.slice());
    bad[0][0] ^= 1;
    expect(await throws(() => merkle.verifyInclusion(p.index, p.size, leaf, bad, hex(p.root))), `inclusion ${p.index} in ${p.size}: a flipped bit`);
  }
  const other = await merkle.leafHash(merkle.utf8(log.entries[p.index].utf8 + " "));
  expect(await throws(() => merkle.verifyInclusion(p.index, p.size, other, proof, hex(p.root))), `inclusion ${p.index} in ${p.size}: altered bytes`);
}
for (const c of log.consistency) {
  const proof = c.proof.map(hex);
  const ok = !(await throws(() => merkle.verifyConsistency(c.size1, c.size2, hex(c.root1), hex(c.root2), proof)));
  expect(ok, `log.json consistency ${c.size1} to ${c.size2}`);
  const forked = hex(c.root2);
  forked[31] ^= 1;
  expect(await throws(() => merkle.verifyConsistency(c.size1, c.size2, hex(c.root1), forked, proof)), `consistency ${c.size1} to ${c.size2}: another second root`);
}

// -- tests/vectors/merkle: RFC 9162 proofs and their mutations (wantErr) -----------------
const b64 = (s) => Uint8Array.from(Buffer.from(s, "base64"));
const dir = join(vroot, "tests/vectors/merkle");
for (const kind of ["inclusion", "consistency"]) {
  for (const name of readdirSync(join(dir, kind))) {
    for (const file of readdirSync(join(dir, kind, name))) {
      const v = JSON.parse(readFileSync(join(dir, kind, name, file), "utf8"));
      const proof = (v.proof || []).map(b64);
      const run = kind === "inclusion"
        ? () => merkle.verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), proof, b64(v.root))
        : () => merkle.verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), proof);
      const failed = await throws(run);
      expect(failed === v.wantErr, `${kind}/${name}/${file}: wantErr ${v.wantErr}, failed ${failed}`);
    }
  }
}

// -- signed checkpoints: log.json's, against its vkey and against another key ------------
const vkey = await note.parseVkey(log.vkey);
expect(vkey.name === log.origin, "vkey name");
const keys = JSON.parse(readFileSync(join(vroot, "schemas/vectors/keys.json"), "utf8")).keys;
const stranger = keys.find((k) => k.key_id === "stranger-test");
const strangerKey = await note.parseVkey(`${log.origin}+${merkle.toHex(await note.keyId(log.origin, hex(stranger.public_key_hex)))}+${Buffer.concat([Buffer.of(1), Buffer.from(stranger.public_key_hex, "hex")]).toString("base64")}`);
for (const c of log.checkpoints) {
  const opened = await note.openCheckpoint(c.note, vkey);
  const want = c.expect.valid ? "verified" : "not-verified";
  expect(opened.state === want, `${c.name}: ${opened.state}, want ${want}`);
  if (c.expect.valid) {
    expect(opened.checkpoint.size === BigInt(c.size), `${c.name}: size`);
    expect(merkle.toHex(opened.checkpoint.root) === log.roots[String(c.size)], `${c.name}: root is the tree's`);
    expect((await note.openCheckpoint(c.note, strangerKey)).state === "not-verified", `${c.name}: another key does not verify it`);
    expect((await note.openCheckpoint(c.note, null)).state === "unpinned", `${c.name}: unpinned`);
    // one flipped bit of the signature
    const sig = c.note.split("\n").at(-2).split(" ").at(-1);
    const raw = Buffer.from(sig, "base64");
    raw[10] ^= 1;
    const bad = c.note.replace(sig, raw.toString("base64"));
    expect((await note.openCheckpoint(bad, vkey)).state === "not-verified", `${c.name}: flipped signature bit`);
  }
}
// a vkey whose id is not its key's
const [n, id, k] = log.vkey.split("+");
const wrongId = `${n}+${id === "00000000" ? "00000001" : "00000000"}+${k}`;
expect(await note.parseVkey(wrongId).then(() => false, (e) => e.code === "vkey-id"), "vkey id mismatch refused");
expect(await note.parseVkey("not a key").then(() => false, (e) => e instanceof note.NoteError), "junk vkey refused");
// C2SP signed-note specification's Ed25519 example key: its key id
const example = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
expect((await note.parseVkey(example)).name === "PeterNeumann", "signed-note example vkey");
expect(await note.ed25519Supported(), "Ed25519 in WebCrypto");

// -- a browser without Ed25519: "unsupported", never "verified" ---------------------------
{
  const subtle = globalThis.crypto.subtle;
  const realImport = subtle.importKey;
  subtle.importKey = async (format, key, alg, ...rest) => {
    if (alg && alg.name === "Ed25519") throw new DOMException("no Ed25519", "NotSupportedError");
    return realImport.call(subtle, format, key, alg, ...rest);
  };
  const fresh = await import(`${pathToFileURL(join(root, "gateway/ui/static/js/note.js")).href}?no-ed25519`);
  const cp = log.checkpoints.find((c) => c.expect.valid);
  expect((await fresh.openCheckpoint(cp.note, vkey)).state === "unsupported", "no Ed25519: unsupported");
  expect((await fresh.openCheckpoint(cp.note, null)).state === "unpinned", "no Ed25519, no key: unpinned");
  delete subtle.importKey;
}

// -- checks.js: consistency with the checkpoint seen before, over a stubbed API ----------
const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};
globalThis.sessionStorage = { getItem: () => null, setItem() {}, removeItem() {} };
globalThis.window = { location: { origin: "http://page.test" } };
let consistencyAnswer = null;
globalThis.fetch = async (url) => {
  const u = new URL(url);
  if (u.pathname !== "/v1/proofs/consistency") return new Response("{}", { status: 404 });
  return new Response(JSON.stringify(consistencyAnswer(u.searchParams)), { status: 200 });
};
const checks = await js("checks.js");
const cp7 = log.checkpoints.find((c) => c.name === "checkpoint-7");
const proof4to7 = log.consistency.find((c) => c.size1 === 4 && c.size2 === 7);
const b64proof = (hs) => ({ hashes: hs.map((x) => Buffer.from(x, "hex").toString("base64")) });
store.set(checks.VKEY_KEY, log.vkey);
const served7 = { origin: log.origin, size: 7, root: log.roots["7"], note: cp7.note };
const seen = (size, root) => store.set(checks.SEEN_KEY, JSON.stringify({ [log.origin]: { size: String(size), root } }));
async function consistency() {
  const opened = await checks.openServed(served7);
  return (await checks.checkConsistency(opened)).state;
}
expect((await checks.openServed(served7)).state === "verified", "checks: served checkpoint verified");
expect((await checks.openServed({ ...served7, size: 8 })).state === "not-verified", "checks: served fields differ from the note");
store.delete(checks.SEEN_KEY);
expect((await consistency()) === "unpinned", "checks: nothing seen before");
expect(checks.seenFor(log.origin).size === "7", "checks: the first checkpoint is remembered");
expect((await consistency()) === "verified", "checks: the same checkpoint again");
consistencyAnswer = (q) => (q.get("from") === "4" && q.get("to") === "7" ? b64proof(proof4to7.proof) : { hashes: [] });
seen(4, log.roots["4"]);
expect((await consistency()) === "verified", "checks: 4 to 7 consistent");
expect(checks.seenFor(log.origin).size === "7", "checks: the newer checkpoint is remembered");
seen(4, log.roots["3"]);
expect((await consistency()) === "fork", "checks: another root seen at 4 is a fork");
expect(checks.seenFor(log.origin).size === "4", "checks: a fork does not overwrite what was seen");
consistencyAnswer = () => b64proof(proof4to7.proof.map((x) => x.replace(/^./, x[0] === "0" ? "1" : "0")));
seen(4, log.roots["4"]);
expect((await consistency()) === "fork", "checks: a proof that does not hold is a fork");
seen(7, log.roots["6"]);
expect((await consistency()) === "fork", "checks: another root at the same size is a fork");
seen(9, log.roots["7"]);
expect((await consistency()) === "fork", "checks: a log smaller than seen before is a fork");
store.set(checks.VKEY_KEY, log.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"));
expect((await checks.openServed(served7)).state === "not-verified", "checks: an unreadable pinned key verifies nothing");
store.delete(checks.VKEY_KEY);
expect((await checks.openServed(served7)).state === "unpinned", "checks: no key pinned");
// inclusion: the leaf hash comes from the bytes, never from the answer
const opened7 = await checks.openServed(served7);
const inc = log.inclusion.find((p) => p.size === 7);
const entry = { index: inc.index, body: log.entries[inc.index].utf8, leaf_hash: "00".repeat(32) };
expect((await checks.checkInclusion(entry, b64proof(inc.proof), opened7)).state === "unpinned", "checks: inclusion holds, key unpinned");
store.set(checks.VKEY_KEY, log.vkey);
const pinned7 = await checks.openServed(served7);
expect((await checks.checkInclusion(entry, b64proof(inc.proof), pinned7)).state === "verified", "checks: inclusion verified");
const altered = { ...entry, body: entry.body.replace("}", ',"x":1}') };
expect((await checks.checkInclusion(altered, b64proof(inc.proof), pinned7)).state === "not-verified", "checks: altered bytes not verified");

// -- the custody timeline's steps, and the chart's axis --------------------------------
const { stepOf } = await js("view-custody.js");
expect(stepOf({ actions: ["Issuance"], input: { type: "a6gw.issuance.v1" } }) === "issuance", "step: issuance");
expect(stepOf({ actions: ["First transfer"], a6: [] }) === "first-transfer", "step: first transfer");
expect(stepOf({ actions: ["Acquisition"], a6: [{ action: "First transfer" }, { action: "Acquisition" }] }) === "acquisition", "step: the answer to a first transfer is an acquisition");
expect(stepOf({ actions: ["Use"], a6: [{ action: "Use" }] }) === "use", "step: use");
expect(stepOf({ actions: [], input: { type: "a6gw.cancellation.v1" } }) === "cancellation", "step: cancellation by type");
expect(stepOf({}) === "other", "step: other");
const { niceMax } = await js("chart.js");
expect(niceMax(45302100) === 50000000 && niceMax(2100) === 5000 && niceMax(0) === 1, "chart: nice axis maximum");

// -- summary-math.js: CTF Table 4's arithmetic redone over the rows ------------------------
const sm = await js("summary-math.js");
const dec = sm.parseDecimal;
expect(sm.decimalText(sm.add(dec("44100000.25"), dec("-0.5"))) === "44099999.75", "decimal add");
expect(sm.same(dec("2100"), dec("2100.00")) && !sm.same(dec("2100"), dec("2101")), "decimal same");
expect(dec("1e3") === null && dec("01") === null && dec("-0.5").n === -5n, "decimal parse");
const row = (value, blocks = []) => ({ value, status: value === null ? "unknown" : "computed", blocks });
const blk = (quantity) => ({ quantity });
function yearOf(year, r) {
  return { year, rows: { R5: row(r.R5), R7: row(r.R7, r.b7 || []), R8: row("0"), R9: row(r.R9 || "0", r.b9 || []), R10: row(r.R10), R11: row(null), R12: row(r.R12), R13: row(r.R13), R14: row(r.R14) } };
}
const y2025 = yearOf(2025, { R5: "44100000", R7: "0", R10: "0", R12: "0", R13: "0", R14: "44100000" });
const y2026 = yearOf(2026, { R5: "45300000", R7: "2100", b7: [blk("2000"), blk("100")], R9: "100", b9: [blk("100")], R10: "2000", R12: "2100", R13: "2000", R14: "45302100" });
const answer = { ndc_period: [2025, 2030], years: [y2025, y2026] };
for (const name of ["R7", "R9", "R10", "R13", "R14"]) {
  const c = sm.checkCell(answer, y2026, name);
  expect(c && c.state === "verified", `summary: ${name} 2026 recomputed`);
}
expect(sm.checkCell(answer, y2026, "R5") === null && sm.checkCell(answer, y2026, "R11") === null, "summary: R5, R11 not recomputed");
const bad = yearOf(2026, { R5: "45300000", R7: "2200", b7: [blk("2000"), blk("100")], R10: "2100", R12: "2100", R13: "2100", R14: "45302000" });
const badAnswer = { ndc_period: [2025, 2030], years: [y2025, bad] };
for (const [name, want] of [["R7", "2100"], ["R10", "2200"], ["R14", "45302100"]]) {
  const c = sm.checkCell(badAnswer, bad, name);
  expect(c && c.state === "not-verified" && c.want === want, `summary: a wrong ${name} is caught (${c && c.want})`);
}
const gap = { ndc_period: [2021, 2030], years: [y2025, y2026] };
expect(sm.checkCell(gap, y2026, "R13") === null, "summary: R13 only over the whole period");

// -- i18n: Japanese has every English key, and the same {placeholders} -----------------
const missing = i18n.missingKeys("ja");
expect(missing.length === 0, `ja lacks ${missing.join(", ")}`);
const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
for (const [key, text] of Object.entries(i18n.DICTIONARIES.en)) {
  const j = i18n.DICTIONARIES.ja[key];
  if (j !== undefined) expect(ph(j) === ph(text), `ja ${key}: placeholders ${ph(j)} != ${ph(text)}`);
}
const extra = Object.keys(i18n.DICTIONARIES.ja).filter((k) => !(k in i18n.DICTIONARIES.en));
expect(extra.length === 0, `ja has keys English lacks: ${extra.join(", ")}`);

console.log(JSON.stringify({ checked, failures }));
