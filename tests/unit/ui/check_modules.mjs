// Runs the page's pure modules (gateway/ui/static/js) under Node against the repository's
// vectors: schemas/vectors/log.json (entries, roots, proofs, C2SP checkpoints),
// schemas/vectors/cosignatures.json (witnesses' cosignature/v1 lines) and
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

// -- cosignature.js: witnesses' cosignatures (schemas/vectors/cosignatures.json) --------
const cosig = await js("cosignature.js");
const cv = JSON.parse(readFileSync(join(vroot, "schemas/vectors/cosignatures.json"), "utf8"));
const wit = {};
for (const [short, w] of Object.entries(cv.witnesses)) {
  wit[short] = await cosig.parseWitnessVkey(w.vkey);
  expect(merkle.toHex(wit[short].id) === w.key_id_hex && merkle.toHex(wit[short].publicKey) === w.public_key_hex, `witness ${short}: key id and key`);
}
const refused = (p, code) => p.then(() => false, (e) => e instanceof note.NoteError && (code === undefined || e.code === code));
expect(await refused(cosig.parseWitnessVkey(cv.log_vkey), "vkey"), "a log key (type 0x01) is no witness key");
expect(await refused(note.parseVkey(cv.witnesses.jp.vkey), "vkey"), "a witness key is no log key");
expect(await refused(cosig.parseWitnessVkey(cv.witnesses.jp.vkey.replace(`+${cv.witnesses.jp.key_id_hex}+`, "+00000000+")), "vkey-id"), "a witness key id that is not its key's");
const msgExample = cv.signed_message_example;
expect(merkle.toHex(cosig.cosignedMessage(cv.vectors[0].checkpoint_text, BigInt(cv.time))) === msgExample.hex, "the cosignature/v1 signed message");
const shortOf = { [wit.jp.name]: "jp", [wit.mn.name]: "mn" };
for (const v of cv.vectors) {
  for (const k of [1, 2]) {
    const r = await cosig.checkCosignatures(v.note, [wit.jp, wit.mn], k);
    if (!v.expect.valid) {
      expect(r.state === "not-verified" && r.reason === "reason.badcosignature", `${v.name} K=${k}: ${r.state} (${r.reason}), want not-verified (reason.badcosignature)`);
      expect(r.witnesses.find((w) => w.name === wit.jp.name).state === "not-verified", `${v.name}: JP's row not verified`);
      continue;
    }
    const got = r.witnesses.filter((w) => w.state === "verified").map((w) => shortOf[w.name]);
    expect(got.join() === v.expect.witnesses.join(), `${v.name}: verified [${got}], want [${v.expect.witnesses}]`);
    expect(r.witnesses.filter((w) => w.state === "absent").length === 2 - got.length, `${v.name}: the others absent`);
    expect(r.witnesses.every((w) => w.state !== "verified" || w.time === BigInt(cv.time)), `${v.name}: the cosignatures' time`);
    const want = got.length >= k ? "verified" : "not-verified";
    expect(r.state === want, `${v.name} K=${k}: ${r.state}, want ${want}`);
  }
}

// -- cosignatures made here with Node's own Ed25519, over log.json's checkpoints ----------
{
  const { createHash, generateKeyPairSync, sign } = await import("node:crypto");
  const made = (name) => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pub = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
    const id = createHash("sha256").update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(4), pub])).digest().subarray(0, 4);
    const vkey = `${name}+${id.toString("hex")}+${Buffer.concat([Buffer.of(4), pub]).toString("base64")}`;
    const line = (text, time = 1796000000n) => {
      const t = Buffer.alloc(8);
      t.writeBigUInt64BE(time);
      const sig = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`), privateKey);
      return `\u2014 ${name} ${Buffer.concat([id, t, sig]).toString("base64")}\n`;
    };
    return { vkey, line };
  };
  const A = made("witness.a.test/a6gw"), B = made("witness.b.test/a6gw"), C = made("witness.c.test/a6gw");
  const a = await cosig.parseWitnessVkey(A.vkey), b = await cosig.parseWitnessVkey(B.vkey);
  const cp4 = log.checkpoints.find((c) => c.name === "checkpoint-4");
  const text7 = cp7.note.split("\n\n")[0] + "\n", text4 = cp4.note.split("\n\n")[0] + "\n";
  const state = async (n, k, pins = [a, b]) => (await cosig.checkCosignatures(n, pins, k)).state;
  const cases = [
    [[], 1, "not-verified"], [[A], 1, "verified"], [[A], 2, "not-verified"],
    [[A, B], 2, "verified"], [[B, A], 1, "verified"], [[C], 1, "not-verified"], [[A, C], 2, "not-verified"],
  ];
  for (const [signers, k, want] of cases) {
    const n = cp7.note + signers.map((w) => w.line(text7)).join("");
    expect((await state(n, k)) === want, `made: ${signers.length} cosignatures, K=${k}: want ${want}`);
  }
  const both7 = cp7.note + A.line(text7) + B.line(text7);
  const r2 = await cosig.checkCosignatures(both7, [a, b], 2);
  expect(r2.reason === "reason.cosigned" && r2.vars.count === 2 && r2.vars.k === 2, "made: the count and K are reported");
  const stale = await cosig.checkCosignatures(cp7.note + A.line(text4) + B.line(text7), [a, b], 1);
  expect(stale.state === "not-verified" && stale.reason === "reason.badcosignature", "made: a cosignature of checkpoint 4 on checkpoint 7");
  expect(stale.witnesses.map((w) => w.state).join() === "not-verified,verified", "made: the row of the stale cosignature");
  expect(stale.detail === `${A.vkey.split("+").slice(0, 2).join("+")}`, "made: the witness whose line fails is named");
  expect((await state(cp7.note + A.line(text4) + B.line(text7), 1, [b])) === "verified", "made: a stale line by a witness not pinned is ignored");
  const twice = cp7.note + A.line(text7) + A.line(text7) + A.line(text7, 1796000060n);
  expect((await state(twice, 2)) === "not-verified", "made: a line repeated counts once (K=2)");
  expect((await cosig.checkCosignatures(twice, [a, b], 1)).vars.count === 1, "made: a line repeated counts once (count)");
  expect((await cosig.checkCosignatures(both7, [a, a], 2)).reason === "reason.witnesspolicy", "made: one key pinned twice is one witness");
  expect((await state(both7, 1, [])) === "unpinned", "made: no witness pinned");
  expect((await state("not a note", 1)) === "not-verified", "made: an unreadable note");
  const altered = both7.replace(`\n7\n`, `\n8\n`);
  expect((await state(altered, 1)) === "not-verified", "made: the checkpoint altered under the cosignatures");
  // the policy's parsing
  const pol = await cosig.parsePolicy([A.vkey, B.vkey, A.vkey], "");
  expect(pol.witnesses.length === 2 && pol.k === 1, "policy: K defaults to 1, repeats dropped");
  for (const [lines, k] of [[[A.vkey], "2"], [[A.vkey], "0"], [[A.vkey], "x"], [[], "1"], [[A.vkey, log.vkey], "1"]]) {
    expect(await refused(cosig.parsePolicy(lines, k)), `policy refused: ${lines.length} lines, K ${k}`);
  }
  // storage (view-witness.js): a6gw.witnesses and a6gw.minWitnesses
  const vw = await js("view-witness.js");
  await vw.pinWitnesses(`${A.vkey}\n\n ${B.vkey} \n`, "2");
  expect(JSON.parse(store.get(vw.WITNESSES_KEY)).join() === [A.vkey, B.vkey].join() && store.get(vw.MIN_WITNESSES_KEY) === "2", "storage: the pinned lines and K");
  expect((await vw.checkStored(both7)).state === "verified", "storage: both pinned witnesses cosigned");
  expect((await vw.checkStored(cp7.note + A.line(text7))).state === "not-verified", "storage: one of K=2");
  expect(await refused(vw.pinWitnesses(A.vkey, "3")), "storage: a K above the keys is refused");
  expect(store.get(vw.MIN_WITNESSES_KEY) === "2", "storage: nothing stored when refused");
  store.set(vw.WITNESSES_KEY, JSON.stringify([log.vkey]));
  const badStored = await vw.checkStored(both7);
  expect(badStored.state === "not-verified" && badStored.reason === "reason.badwitnesskey", "storage: an unreadable stored key verifies nothing");
  vw.unpinWitnesses();
  expect((await vw.checkStored(both7)).state === "unpinned", "storage: unpinned");
  // a browser without Ed25519: "unsupported", never "verified"
  const subtle = globalThis.crypto.subtle;
  const realImport = subtle.importKey;
  subtle.importKey = async (format, key, alg, ...rest) => {
    if (alg && alg.name === "Ed25519") throw new DOMException("no Ed25519", "NotSupportedError");
    return realImport.call(subtle, format, key, alg, ...rest);
  };
  const none = await cosig.checkCosignatures(both7, [a, b], 1);
  expect(none.state === "unsupported" && none.witnesses.every((w) => w.state === "unsupported"), "no Ed25519: cosignatures unsupported");
  delete subtle.importKey;
}

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
