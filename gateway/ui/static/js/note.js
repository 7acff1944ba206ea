// note.js: C2SP signed notes and tlog checkpoints, checked with WebCrypto Ed25519.
//
// Pure functions; no DOM.
//   https://c2sp.org/signed-note     note format, verifier keys, key id, Ed25519 (type 0x01)
//   https://c2sp.org/tlog-checkpoint origin, decimal tree size, base64 root, extensions
// A checkpoint's state is one of:
//   "verified"     a signature by the pinned key holds over the note's text;
//   "not-verified" no signature by the pinned key, or one that does not hold, or a bad note;
//   "unpinned"     no key is pinned: the note is read but proves nothing;
//   "unsupported"  this browser's WebCrypto has no Ed25519: it cannot be checked here.

import { equalBytes, fromBase64, fromHex, sha256, toBase64, toHex, utf8 } from "./merkle.js";

/** A note, key or checkpoint that cannot be read (`code` says which rule it broke). */
export class NoteError extends Error {
  constructor(message, code = "note") {
    super(message);
    this.code = code;
  }
}

const ALG_ED25519 = 0x01;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_SIGNATURES = 100; // signed-note: verifiers accept at least 16 signature lines

/** signed-note: a key name is non-empty, with no Unicode white space and no "+". */
export const validKeyName = (name) =>
  typeof name === "string" && name.length > 0 && !/[\s+\u0000-\u001f\u007f]/u.test(name);

/**
 * signed-note: key id = SHA-256(name || 0x0A || type || public key)[:4]; type 0x01 for a
 * log's Ed25519 key, 0x04 for a witness's cosignature/v1 key (cosignature.js).
 */
export async function keyId(name, publicKey, type = ALG_ED25519) {
  const digest = await sha256(utf8(name), Uint8Array.of(0x0a, type), publicKey);
  return digest.slice(0, 4);
}

const KEY_KINDS = { [ALG_ED25519]: "an Ed25519 key", 0x04: "a witness key" };

/**
 * A verifier key line `<name>+<hex key id>+<base64(type || 32-byte public key)>`, with its
 * key id checked against the name and key; `type` 0x01 (a log key) unless given.
 * @returns {Promise<{name: string, id: Uint8Array, publicKey: Uint8Array, line: string}>}
 * @throws {NoteError} when the line is not such a key.
 */
export async function parseVkey(text, type = ALG_ED25519) {
  const line = String(text).trim();
  const p1 = line.indexOf("+");
  const p2 = line.indexOf("+", p1 + 1); // base64 may hold "+" too: split on the first two
  if (p1 < 0 || p2 < 0) throw new NoteError("want <name>+<hex key id>+<base64 key>", "vkey");
  const name = line.slice(0, p1);
  const idHex = line.slice(p1 + 1, p2);
  if (!validKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}`, "vkey");
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw new NoteError("the key id is not 8 hex digits", "vkey");
  let key;
  try {
    key = fromBase64(line.slice(p2 + 1));
  } catch (e) {
    throw new NoteError(`the key is not base64: ${e.message}`, "vkey");
  }
  if (key.length !== 33 || key[0] !== type) {
    const want = `0x${type.toString(16).padStart(2, "0")}`;
    const got = key.length ? `, type byte 0x${key[0].toString(16).padStart(2, "0")}` : "";
    throw new NoteError(`not ${KEY_KINDS[type]} (want ${want} || 32 bytes${got})`, "vkey");
  }
  const publicKey = key.slice(1);
  const id = await keyId(name, publicKey, type);
  if (toHex(id) !== idHex.toLowerCase()) {
    throw new NoteError(`key id ${idHex} is not the key's (${toHex(id)})`, "vkey-id");
  }
  return { name, id, publicKey, line: `${name}+${toHex(id)}+${toBase64(key)}` };
}

/**
 * Split a signed note into its text (ending in "\n") and its signature lines.
 * @returns {{text: string, signatures: {name: string, id: Uint8Array, signature: Uint8Array}[]}}
 * @throws {NoteError} when it is not a signed note.
 */
export function splitNote(note) {
  if (typeof note !== "string") throw new NoteError("the note is not text");
  const ctl = note.search(/[\u0000-\u0009\u000b-\u001f]/);
  if (ctl >= 0) throw new NoteError(`control character at offset ${ctl}`);
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw new NoteError("the signature block lacks its final newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`${lines.length} signature lines`);
  const signatures = lines.map((line, i) => {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line); // em dash U+2014, name, base64 blob
    if (!m || !validKeyName(m[1])) throw new NoteError(`signature line ${i + 1} is malformed`);
    let blob;
    try {
      blob = fromBase64(m[2]);
    } catch (e) {
      throw new NoteError(`signature line ${i + 1}: ${e.message}`);
    }
    if (blob.length < 5) throw new NoteError(`signature line ${i + 1} is too short`);
    return { name: m[1], id: blob.slice(0, 4), signature: blob.slice(4) };
  });
  return { text, signatures };
}

/**
 * tlog-checkpoint: `origin\nsize\nbase64 root\n[extension lines\n]`.
 * @returns {{origin: string, size: bigint, root: Uint8Array, extensions: string[]}}
 * @throws {NoteError} when the text is not a checkpoint.
 */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw new NoteError("the checkpoint text lacks its final newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new NoteError(`the checkpoint has ${lines.length} lines, want 3`);
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin.length === 0) throw new NoteError("empty origin line");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || BigInt(sizeLine) > MAX_UINT64) {
    throw new NoteError(`tree size ${JSON.stringify(sizeLine)} is not a decimal uint64`);
  }
  let root;
  try {
    root = fromBase64(rootLine);
  } catch (e) {
    throw new NoteError(`root hash: ${e.message}`);
  }
  if (root.length !== 32) throw new NoteError(`the root hash has ${root.length} bytes, want 32`);
  if (extensions.some((e) => e.length === 0)) throw new NoteError("empty extension line");
  return { origin, size: BigInt(sizeLine), root, extensions };
}

let supported; // memo: Promise<boolean>

/** Whether this browser's WebCrypto verifies Ed25519 (RFC 8032). */
export function ed25519Supported() {
  if (supported === undefined) {
    // The RFC 8032 §7.1 TEST 1 public key: importable wherever Ed25519 is implemented.
    const pub = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    supported = (async () => {
      try {
        if (!globalThis.crypto?.subtle) return false;
        await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
        return true;
      } catch {
        return false;
      }
    })();
  }
  return supported;
}

async function ed25519Verify(publicKey, signature, message) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/**
 * Open a signed checkpoint against the pinned verifier key (parsed by `parseVkey`, or null).
 * Never throws: a note that cannot be read is "not-verified". `reason` is a label key
 * (i18n.js: reason.*), `detail` the technical detail.
 * @returns {Promise<{state: string, reason: string, detail: string, checkpoint: object|null,
 *   signers: string[]}>}
 */
export async function openCheckpoint(note, vkey) {
  let parts;
  let checkpoint;
  try {
    parts = splitNote(note);
    checkpoint = parseCheckpoint(parts.text);
  } catch (e) {
    return { state: "not-verified", reason: "reason.unreadable", detail: e.message, checkpoint: null, signers: [] };
  }
  const signers = parts.signatures.map((s) => `${s.name}+${toHex(s.id)}`);
  const out = (state, reason, detail = "") => ({ state, reason, detail, checkpoint, signers });
  if (!vkey) return out("unpinned", "reason.unpinned");
  const pinned = `${vkey.name}+${toHex(vkey.id)}`;
  if (!(await ed25519Supported())) return out("unsupported", "reason.unsupported");
  const mine = parts.signatures.filter((s) => s.name === vkey.name && equalBytes(s.id, vkey.id));
  if (mine.length === 0) return out("not-verified", "reason.nosignature", pinned);
  const message = utf8(parts.text);
  for (const s of mine) {
    // A bad signature by the pinned key rejects the note (signed-note §Verifying).
    if (s.signature.length !== 64 || !(await ed25519Verify(vkey.publicKey, s.signature, message))) {
      return out("not-verified", "reason.badsignature", pinned);
    }
  }
  return out("verified", "reason.signed", pinned);
}
