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
