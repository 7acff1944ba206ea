#!/usr/bin/env node
// verify-bundle.mjs: an independent, offline verifier for a6gw audit bundles.
//
// This is the "second implementation" auditors use to check the Python one
// (gateway/audit/*). It shares no code with it; it is written from the specs:
//   - RFC 9162 §2.1.1  Merkle tree hash (SHA-256)
//   - C2SP signed-note     https://c2sp.org/signed-note     (Ed25519, type 0x01)
//   - C2SP tlog-checkpoint https://c2sp.org/tlog-checkpoint
//   - C2SP tlog-cosignature https://c2sp.org/tlog-cosignature (cosignature/v1, type 0x04)
// Plain Node.js (>= 18), built-in modules only, no npm dependencies.
//
// Usage:
//   node tools/verify-bundle.mjs DIR [--since OLD_CHECKPOINT_FILE] [--vkey VKEY_FILE]
//        [--witness-key WITNESS_VKEY_FILE ...] [--min-witnesses K]
//
//   DIR holds the bundle:
//     entries.ndjson  one entry per line, in log order; the bytes of line i without its
//                     0x0A are leaf i. Every line ends in 0x0A; an empty log is an empty file.
//     checkpoint      signed note whose text is a tlog checkpoint (origin, size, root).
//     log.vkey        the log's verifier keys, one per line (current first): <name>+<hex key id>+<base64(0x01 || pubkey)>.
//     range.json, proofs.ndjson   (range bundles) entries [start, end) with inclusion proofs.
//   --vkey FILE   pin the log key: use FILE as the trusted key and require the bundle's
//                 log.vkey to be the same key (without it, log.vkey only proves that the
//                 bundle is internally consistent).
//   --since FILE  an earlier checkpoint note from the same log (size m): require m <= n, the
//                 same origin, and that the first m entries of this bundle give its root,
//                 i.e. the log was only appended to, never rewritten.
//   --witness-key FILE  (repeatable) pin witnesses: FILE holds witness verifier keys, one a
//                 line, <name>+<hex key id>+<base64(0x04 || pubkey)>. The checkpoint must then
//                 carry valid cosignature/v1 lines by at least K distinct pinned witnesses
//                 over exactly its body; a pinned witness's line that does not verify over it
//                 (e.g. a cosignature of another checkpoint) fails the bundle. Lines by
//                 witnesses not pinned are ignored.
//   --min-witnesses K   the K above (default 1 with --witness-key; 1 <= K <= keys pinned).
//
// Success: prints "OK origin=<origin> size=<n> root=<hex>" (and, with witnesses, "OK: cosigned
// by <n> pinned witnesses (at least <K>): <names>") and exits 0.
// Failure: prints "FAIL: <what failed>" to stderr and exits 1. Usage errors exit 2 (also a
// bundle path that is not a folder, an unreadable --vkey, --since or --witness-key file, a
// --witness-key file without a witness key, a K no checkpoint can meet), as `a6gw verify`.

import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const USAGE = `usage: node tools/verify-bundle.mjs DIR [--since OLD_CHECKPOINT_FILE] [--vkey VKEY_FILE]
           [--witness-key WITNESS_VKEY_FILE ...] [--min-witnesses K]
Verify the audit bundle in DIR (entries.ndjson, checkpoint, log.vkey) offline.
  --vkey FILE         trusted verifier key; the bundle's log.vkey must equal it
  --since FILE        earlier signed checkpoint of the same log; it must be a prefix of this one
  --witness-key FILE  a witness's verifier key(s) (cosignature/v1, type 0x04), one a line;
                      repeatable. The checkpoint then needs valid cosignatures by at least K
                      distinct pinned witnesses over exactly this checkpoint
  --min-witnesses K   that K (default 1 with --witness-key)
Prints "OK origin=... size=... root=..." (exit 0) or "FAIL: ..." on stderr (exit 1);
usage errors exit 2, nothing checked.`;

class Fail extends Error {}
const fail = (msg) => { throw new Fail(msg); };

const NL = 0x0a;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_SIG_LINES = 100; // signed-note: verifiers must accept at least 16

function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

// ---- RFC 9162 §2.1.1 Merkle Tree Hash ---------------------------------------------------
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const EMPTY_ROOT = sha256(Buffer.alloc(0)); // MTH({}) = SHA-256()
const leafHash = (entry) => sha256(LEAF_PREFIX, entry);
const nodeHash = (left, right) => sha256(NODE_PREFIX, left, right);

// Incremental MTH. For n leaves the tree is a sequence of perfect subtrees whose sizes are
// the binary digits of n, largest (leftmost) first, since the split point k is the largest
// power of two < n. The stack keeps one hash per digit; adding a leaf merges equal-sized
// tops like a binary counter carry. root() folds the stack right to left:
// MTH = node(s_1, node(s_2, ... node(s_{j-1}, s_j))). Memory O(log n), time O(n).
class MerkleAccumulator {
  constructor() { this.hashes = []; this.sizes = []; this.count = 0; }
  add(hash) {
    let h = hash, size = 1;
    while (this.sizes.length && this.sizes[this.sizes.length - 1] === size) {
      h = nodeHash(this.hashes.pop(), h);
      size += this.sizes.pop();
    }
    this.hashes.push(h); this.sizes.push(size); this.count += 1;
  }
  root() {
    if (this.count === 0) return EMPTY_ROOT;
    let acc = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) acc = nodeHash(this.hashes[i], acc);
    return acc;
  }
}

// ---- helpers ----------------------------------------------------------------------------
function readFile(path) {
  try { return readFileSync(path); } catch (e) { return fail(`cannot read ${path}: ${e.code || e.message}`); }
}

// Strict standard base64 (RFC 4648 §4): alphabet, padding and canonical form.
function b64decode(s, what) {
  const out = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)
    ? Buffer.from(s, 'base64') : null;
  if (out === null || out.toString('base64') !== s) fail(`${what}: invalid base64 ${JSON.stringify(s)}`);
  return out;
}

function utf8(buf, what) {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch { return fail(`${what} is not valid UTF-8`); }
}

// signed-note: key names are non-empty, contain no Unicode white space and no "+".
const validKeyName = (name) => name.length > 0 && !/[\s+\u0000-\u001f\u007f]/u.test(name);

// ---- signed-note verifier key -------------------------------------------------------------
// "<name>+<hex(key id)>+<base64(type || 32-byte Ed25519 public key)>";
// key id = SHA-256(name || 0x0A || type || public key)[:4] (signed-note §Verifier keys).
// type 0x01: a log's Ed25519 note key; 0x04: a witness's cosignature/v1 key
// (tlog-cosignature §Format).
const ED25519 = 0x01, COSIGNATURE_V1 = 0x04;
function parseVkey(text, what, type = ED25519) {
  const p1 = text.indexOf('+'), p2 = text.indexOf('+', p1 + 1); // base64 may contain "+"
  if (p1 < 0 || p2 < 0) fail(`${what}: want <name>+<hex key id>+<base64 key>`);
  const name = text.slice(0, p1), idHex = text.slice(p1 + 1, p2);
  if (!validKeyName(name)) fail(`${what}: invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) fail(`${what}: key id ${JSON.stringify(idHex)} is not 8 hex digits`);
  const key = b64decode(text.slice(p2 + 1), what);
  if (key.length !== 33 || key[0] !== type) {
    if (type === ED25519) fail(`${what}: not an Ed25519 key (want 0x01 || 32 bytes)`);
    const got = key.length ? key.subarray(0, 1).toString('hex') : 'nothing';
    fail(`${what}: witness key ${name}: type byte ${got}, want 04 (cosignature/v1) and 32 key bytes`);
  }
  const pub = key.subarray(1);
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([NL, type]), pub).subarray(0, 4);
  if (keyId.toString('hex') !== idHex.toLowerCase()) {
    fail(`${what}: vkey key id mismatch: vkey says ${idHex}, computed ${keyId.toString('hex')}`);
  }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  return { name, keyId, pub, publicKey, line: `${name}+${keyId.toString('hex')}+${key.toString('base64')}` };
}

// One key per line: the current log key first, then earlier ones (after a rotation,
// checkpoints signed by an earlier key still verify).
function readVkeyFile(path) {
  let buf = readFile(path);
  if (buf.length && buf[buf.length - 1] === NL) buf = buf.subarray(0, -1); // optional newline
  if (buf.length === 0) fail(`${path}: no verifier key line`);
  return utf8(buf, path).split('\n').map((line, i) => parseVkey(line, `${path} line ${i + 1}`));
}

// ---- signed-note verification (c2sp.org/signed-note §Format, §Signatures) ----------------
// Splits a note into its text (a Buffer ending in "\n": the signed message) and its
// signature lines {name, keyId, sig} (sig: the blob after the 4-byte key id).
function splitNote(note, what) {
  const str = utf8(note, what);
  const ctl = str.search(/[\u0000-\u0009\u000b-\u001f]/);
  if (ctl >= 0) fail(`${what}: control character at offset ${ctl}`);
  const split = note.lastIndexOf('\n\n'); // text, a blank line, then the signature lines
  if (split < 0) fail(`${what}: no blank line before the signatures`);
  const text = note.subarray(0, split + 1);
  const block = note.subarray(split + 2);
  if (block.length === 0 || block[block.length - 1] !== NL) fail(`${what}: signature block is empty or lacks its final newline`);
  const lines = block.subarray(0, -1).toString('utf8').split('\n');
  if (lines.length > MAX_SIG_LINES) fail(`${what}: ${lines.length} signature lines, max ${MAX_SIG_LINES}`);
  const sigs = lines.map((line, i) => {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line); // em dash U+2014, space, name, space, blob
    if (!m || !validKeyName(m[1])) fail(`${what}: signature line ${i + 1} is malformed: ${JSON.stringify(line)}`);
    const blob = b64decode(m[2], `${what}: signature line ${i + 1}`);
    if (blob.length < 5) fail(`${what}: signature line ${i + 1} is too short`);
    return { name: m[1], keyId: blob.subarray(0, 4), sig: blob.subarray(4) };
  });
  return { text, sigs };
}

const keyOf = (keys, s) => keys.find((k) => k.name === s.name && s.keyId.equals(k.keyId));

// Returns the note text (a Buffer, ending in "\n"): the signed message.
function verifyNote(note, vkeys, what) {
  const { text, sigs } = splitNote(note, what);
  let verified = false;
  sigs.forEach((s, i) => {
    const vkey = keyOf(vkeys, s);
    if (vkey === undefined) return; // unknown key (a witness's, say): ignored
    // Ed25519 (RFC 8032) over the text including its final newline. A bad signature by a
    // known key rejects the note.
    if (s.sig.length !== 64 || !cryptoVerify(null, text, vkey.publicKey, s.sig)) {
      fail(`${what}: checkpoint signature invalid (line ${i + 1}, key ${vkey.name}+${vkey.keyId.toString('hex')})`);
    }
    verified = true;
  });
  if (!verified) {
    const known = vkeys.map((k) => `${k.name}+${k.keyId.toString('hex')}`).join(', ');
    const seen = sigs.map((s) => `${s.name}+${s.keyId.toString('hex')}`).join(', ');
    fail(`${what}: no signature by the log key ${known} (found: ${seen})`);
  }
  return text;
}

// ---- cosignature/v1 (c2sp.org/tlog-cosignature §Format, §Ed25519 signed message) --------
// A witness's line: "— <name> base64(key id || u64 big-endian timestamp || Ed25519 sig)",
// the signature over "cosignature/v1\n" + "time <timestamp>\n" + the checkpoint body.
const MAX_TIMESTAMP = (1n << 63n) - 1n; // §Format: at most 2^63 - 1
const cosignedMessage = (text, time) => Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`, 'utf8'), text]);

// The reader's policy: at least k distinct pinned witnesses cosigned exactly this checkpoint.
// A pinned witness's line that does not verify rejects the note: a cosignature of another
// checkpoint is evidence, not noise. A line repeated counts once.
function checkWitnesses(path, witnesses, k) {
  const { text, sigs } = splitNote(readFile(path), path);
  const cp = parseCheckpoint(text, path);
  const found = new Map();
  for (const s of sigs) {
    const w = keyOf(witnesses, s);
    if (w === undefined) continue; // the log's own line, a witness not pinned
    const who = `${w.name}+${w.keyId.toString('hex')}`;
    if (s.sig.length !== 72) fail(`cosignature by ${w.name} has ${s.sig.length} bytes, want 72`);
    const time = s.sig.readBigUInt64BE(0);
    if (time > MAX_TIMESTAMP) fail(`cosignature by ${w.name}: timestamp above 2^63-1`);
    if (!cryptoVerify(null, cosignedMessage(text, time), w.publicKey, s.sig.subarray(8))) {
      fail(`cosignature by ${who} does not verify over this checkpoint`);
    }
    if (!found.has(who)) found.set(who, w.name);
  }
  const names = [...found.values()].join(', ');
  if (found.size < k) {
    fail(`checkpoint ${cp.origin} at size ${cp.size} has ${found.size} valid cosignatures by ` +
      `pinned witnesses (${names || 'none'}), want at least ${k}`);
  }
  return `OK: cosigned by ${found.size} pinned witnesses (at least ${k}): ${names}`;
}

// ---- tlog-checkpoint body (c2sp.org/tlog-checkpoint §Note text) --------------------------
// origin\n decimal size\n base64(root)\n [extension lines\n]
function parseCheckpoint(text, what) {
  const lines = text.toString('utf8').slice(0, -1).split('\n'); // text ends in "\n"
  if (lines.length < 3) fail(`${what}: checkpoint has ${lines.length} lines, want at least 3`);
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin.length === 0) fail(`${what}: empty origin line`);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || BigInt(sizeLine) > MAX_UINT64) {
    fail(`${what}: tree size ${JSON.stringify(sizeLine)} is not a canonical decimal uint64`);
  }
  const root = b64decode(rootLine, `${what}: root hash`);
  if (root.length !== 32) fail(`${what}: root hash has ${root.length} bytes, want 32`);
  if (extensions.some((e) => e.length === 0)) fail(`${what}: empty extension line`);
  return { origin, size: BigInt(sizeLine), root };
}

const openCheckpoint = (path, vkeys) => parseCheckpoint(verifyNote(readFile(path), vkeys, path), path);

// ---- entries.ndjson -------------------------------------------------------------------------
// Hashes every line (split on byte 0x0A only) into the accumulator; if prefixSize is a
// number, also returns the root of the first prefixSize leaves.
function hashEntries(path, prefixSize) {
  const data = readFile(path);
  if (data.length && data[data.length - 1] !== NL) fail(`entries.ndjson does not end with a newline (${path})`);
  const acc = new MerkleAccumulator();
  let prefixRoot = prefixSize === 0 ? EMPTY_ROOT : null;
  for (let start = 0; start < data.length;) {
    const end = data.indexOf(NL, start);
    acc.add(leafHash(data.subarray(start, end))); // a view, no copy
    start = end + 1;
    if (acc.count === prefixSize) prefixRoot = acc.root();
  }
  return { count: acc.count, root: acc.root(), prefixRoot };
}

// ---- main -------------------------------------------------------------------------------------
function verifyBundle(dir, sincePath, trustedVkeyPath) {
  const bundleVkeys = readVkeyFile(join(dir, 'log.vkey'));
  let vkeys = bundleVkeys;
  if (trustedVkeyPath !== undefined) {
    vkeys = readVkeyFile(trustedVkeyPath);
    const lines = new Set(bundleVkeys.map((k) => k.line));
    const stranger = vkeys.find((k) => !lines.has(k.line));
    if (stranger) fail(`log.vkey is not the trusted key: the bundle lacks ${stranger.line}`);
  }
  const cp = openCheckpoint(join(dir, 'checkpoint'), vkeys);
  if (existsSync(join(dir, 'range.json'))) {
    if (sincePath !== undefined) fail('since: needs a whole-log bundle, not a range bundle');
    return verifyRange(dir, cp);
  }
  let old = null;
  if (sincePath !== undefined) {
    old = openCheckpoint(sincePath, bundleVkeys); // an earlier checkpoint, maybe an earlier key
    if (old.origin !== cp.origin) fail(`since: origin mismatch: old ${JSON.stringify(old.origin)}, new ${JSON.stringify(cp.origin)}`);
    if (old.size > cp.size) fail(`since: old checkpoint size ${old.size} > ${cp.size} (rollback?)`);
  }
  const got = hashEntries(join(dir, 'entries.ndjson'), old && Number(old.size));
  if (BigInt(got.count) !== cp.size) fail(`size mismatch: checkpoint ${cp.size}, entries ${got.count}`);
  if (!got.root.equals(cp.root)) {
    fail(`root mismatch: checkpoint ${cp.root.toString('hex')} computed ${got.root.toString('hex')}`);
  }
  // Full-data consistency (RFC 9162 §2.1.4 in spirit): with every entry at hand, the old
  // tree must be exactly the tree over the first m entries, so recompute it.
  if (old && !got.prefixRoot.equals(old.root)) {
    fail(`since: first ${old.size} entries do not produce the old root (log rewritten): ` +
      `old ${old.root.toString('hex')}, computed ${got.prefixRoot.toString('hex')}`);
  }
  return `OK origin=${cp.origin} size=${cp.size} root=${got.root.toString('hex')}`;
}

// ---- range bundles: RFC 9162 §2.1.3.2, verifying an inclusion proof --------------------------
function rootFromInclusion(index, size, leaf, proof, what) {
  if (index >= size) fail(`${what}: index ${index} >= tree size ${size}`);
  let fn = index, sn = size - 1n, r = leaf;
  for (const p of proof) {
    if (p.length !== 32) fail(`${what}: proof hash of ${p.length} bytes`);
    if (sn === 0n) fail(`${what}: proof too long`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) { while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) fail(`${what}: proof too short`);
  return r;
}

function verifyRange(dir, cp) {
  let meta;
  try { meta = JSON.parse(readFile(join(dir, 'range.json')).toString('utf8')); } catch (e) { fail(`range.json: malformed (${e.message})`); }
  const { start, end, size } = meta;
  if (![start, end, size].every(Number.isSafeInteger) || BigInt(size) !== cp.size || !(0 <= start && start <= end && end <= size)) {
    fail(`range.json: range [${start}, ${end}) of size ${size} does not fit the checkpoint size ${cp.size}`);
  }
  const split = (name) => {
    const data = readFile(join(dir, name));
    if (data.length && data[data.length - 1] !== NL) fail(`${name} does not end with a newline`);
    return data.length ? data.subarray(0, -1).toString('latin1').split('\n').map((l) => Buffer.from(l, 'latin1')) : [];
  };
  const entries = split('entries.ndjson'), proofs = split('proofs.ndjson');
  if (entries.length !== end - start || proofs.length !== end - start) {
    fail(`range [${start}, ${end}): ${entries.length} entries and ${proofs.length} proofs`);
  }
  entries.forEach((entry, n) => {
    const index = start + n, what = `entry ${index}`;
    let doc;
    try { doc = JSON.parse(proofs[n].toString('utf8')); } catch (e) { fail(`${what}: malformed proof line`); }
    if (doc.index !== index || !Array.isArray(doc.proof)) fail(`${what}: proof line names index ${doc.index}`);
    const proof = doc.proof.map((h) => b64decode(h, `${what}: proof`));
    const root = rootFromInclusion(BigInt(index), cp.size, leafHash(entry), proof, what);
    if (!root.equals(cp.root)) fail(`${what}: inclusion proof gives root ${root.toString('hex')}, checkpoint ${cp.root.toString('hex')}`);
  });
  return `OK origin=${cp.origin} size=${cp.size} root=${cp.root.toString('hex')} range=[${start},${end})`;
}

function usageError(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

// --witness-key files and --min-witnesses: checked before anything else (exit 2 on a policy
// no checkpoint can meet), as `a6gw verify` does.
function witnessPolicy(files, kText) {
  if (files.length === 0) {
    if (kText !== undefined) usageError('--min-witnesses needs --witness-key FILE: the witnesses you pin');
    return null;
  }
  const witnesses = [];
  for (const path of files) {
    let text;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path)); } catch (e) {
      usageError(`cannot read --witness-key ${path}: ${e.code || 'not UTF-8 text'}`);
    }
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l);
    if (lines.length === 0) usageError(`--witness-key ${path}: no witness key line`);
    lines.forEach((line, i) => {
      try { witnesses.push(parseVkey(line, `--witness-key ${path} line ${i + 1}`, COSIGNATURE_V1)); } catch (e) {
        if (e instanceof Fail) usageError(e.message);
        throw e;
      }
    });
  }
  const distinct = new Set(witnesses.map((w) => `${w.name}+${w.keyId.toString('hex')}`)).size;
  if (kText !== undefined && !/^[+-]?[0-9]+$/.test(kText)) usageError(`--min-witnesses ${kText}: not a whole number`);
  const k = kText === undefined ? 1 : Number(kText);
  if (!(k >= 1 && k <= distinct)) usageError(`--min-witnesses ${k}: give a number from 1 to ${distinct} (keys pinned)`);
  return { witnesses, k };
}

const SINGLE = ['--since', '--vkey', '--min-witnesses'];

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (argv[0] === '--note-only') { // hidden: verify a bare signed note, for spec vectors
    if (argv.length !== 3) usageError('--note-only wants NOTE_FILE VKEY_FILE');
    verifyNote(readFile(argv[1]), readVkeyFile(argv[2]), argv[1]);
    return 'OK note';
  }
  const opts = {}, positional = [], witnessFiles = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (SINGLE.includes(a) || a === '--witness-key') {
      if (i + 1 >= argv.length) usageError(`${a} needs ${a === '--min-witnesses' ? 'a number' : 'a file argument'}`);
      if (a === '--witness-key') { witnessFiles.push(argv[++i]); continue; }
      if (opts[a] !== undefined) usageError(`${a} given twice`);
      opts[a] = argv[++i];
    } else if (a.startsWith('-') && a !== '-') {
      usageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 1) usageError('want exactly one bundle directory');
  // What the user gave must be there before anything is checked: as `a6gw verify`, a bundle
  // path that is no folder or an unreadable --vkey/--since file is a usage error (exit 2).
  let isDir = false;
  try { isDir = statSync(positional[0]).isDirectory(); } catch { isDir = false; }
  if (!isDir) usageError(`the bundle ${positional[0]} is not a folder`);
  for (const opt of ['--since', '--vkey']) {
    if (opts[opt] === undefined) continue;
    try { readFileSync(opts[opt]); } catch (e) { usageError(`cannot read ${opt} ${opts[opt]}: ${e.code || e.message}`); }
  }
  const policy = witnessPolicy(witnessFiles, opts['--min-witnesses']);
  const out = verifyBundle(positional[0], opts['--since'], opts['--vkey']);
  if (policy === null) return out;
  return `${out}\n${checkWitnesses(join(positional[0], 'checkpoint'), policy.witnesses, policy.k)}`;
}

try {
  const out = main(process.argv.slice(2));
  if (typeof out === 'string') process.stdout.write(`${out}\n`);
  process.exitCode = 0;
} catch (e) {
  // Anything unexpected is still a failure to verify, never a pass.
  process.stderr.write(e instanceof Fail ? `FAIL: ${e.message}\n` : `FAIL: internal error: ${e.stack}\n`);
  process.exitCode = 1;
}
