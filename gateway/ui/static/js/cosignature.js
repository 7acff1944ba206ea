// cosignature.js: witnesses' cosignatures of a checkpoint, checked with WebCrypto Ed25519.
//
// Pure functions; no DOM, no storage.
//   https://c2sp.org/tlog-cosignature  cosignature/v1: key type 0x04, key id
//     SHA-256(name || 0x0A || 0x04 || public key)[:4]; a note signature line
//     "— <name> base64(key id || u64 big-endian timestamp || Ed25519 signature)"; the
//     signature covers "cosignature/v1\n" + "time <timestamp>\n" + the checkpoint body.
// The reader's policy, as `a6gw verify --witness-key F ... --min-witnesses K` has it: at least
// K distinct pinned witnesses cosigned exactly this checkpoint; a pinned witness's line that
// does not verify over it (a cosignature of another checkpoint) is evidence, and the
// checkpoint is then not verified whatever K; lines by witnesses not pinned are ignored.
// States: "verified" (>= K valid), "not-verified", "unpinned" (no witness pinned),
// "unsupported" (no Ed25519 in this browser's WebCrypto). Per pinned witness: "verified",
// "not-verified", "absent" (no line by it), "unsupported".

import { toHex, utf8 } from "./merkle.js";
import { NoteError, parseCheckpoint, parseVkey, splitNote } from "./note.js";

export const COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = (1n << 63n) - 1n; // §Format: at most 2^63 - 1
const BLOB = 8 + 64; // timestamp || signature, after the 4-byte key id

/**
 * A witness's verifier key line `<name>+<hex key id>+<base64(0x04 || public key)>`.
 * @returns {Promise<{name: string, id: Uint8Array, publicKey: Uint8Array, line: string}>}
 * @throws {NoteError} when it is not one (a log key has type 0x01).
 */
export const parseWitnessVkey = (text) => parseVkey(text, COSIGNATURE_V1);

/** The witness key lines of a text (one a line; blank lines skipped). */
export const witnessLines = (text) =>
  String(text).split("\n").map((l) => l.trim()).filter((l) => l.length > 0);

/**
 * Parse the lines and K of a reader's policy (K empty or null: 1).
 * @returns {Promise<{witnesses: object[], k: number}>} witnesses without repeats.
 * @throws {NoteError} for a line that is no witness key (code "vkey"/"vkey-id"), no line at
 *   all or a K that no checkpoint can meet (code "policy").
 */
export async function parsePolicy(lines, k) {
  if (lines.length === 0) throw new NoteError("no witness key line", "policy");
  const witnesses = [];
  for (const [i, line] of lines.entries()) {
    let w;
    try {
      w = await parseWitnessVkey(line);
    } catch (e) {
      throw new NoteError(`line ${i + 1}: ${e.message}`, e.code);
    }
    if (!witnesses.some((x) => x.line === w.line)) witnesses.push(w);
  }
  const kText = k === null || k === undefined ? "" : String(k).trim();
  if (kText !== "" && !/^[0-9]+$/.test(kText)) throw new NoteError(`K ${kText}: not a whole number`, "policy");
  const want = kText === "" ? 1 : Number(kText);
  if (!(want >= 1 && want <= witnesses.length)) {
    throw new NoteError(`K ${want}: give a number from 1 to ${witnesses.length} (keys pinned)`, "policy");
  }
  return { witnesses, k: want };
}

/** The bytes a cosignature/v1 signs (§Ed25519 signed message). */
export const cosignedMessage = (text, time) => utf8(`cosignature/v1\ntime ${time}\n${text}`);

async function importKey(publicKey) {
  try {
    if (!globalThis.crypto?.subtle) return null;
    return await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return null; // no Ed25519 here: the caller says "unsupported"
  }
}

/** One line's verdict: {ok: true, time} or {ok: false, why}. */
async function verifyLine(key, text, sig) {
  if (sig.length !== BLOB) return { ok: false, why: `${sig.length} bytes, want ${BLOB}` };
  const time = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
  if (time > MAX_TIMESTAMP) return { ok: false, why: "timestamp above 2^63-1" };
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, sig.slice(8), cosignedMessage(text, time));
  return ok ? { ok: true, time } : { ok: false, why: "" }; // the row's label says it
}

/**
 * Check the cosignatures of a signed checkpoint note against the pinned `witnesses` (parsed
 * by parseWitnessVkey) and K. Never throws. The log's own signature is not checked here
 * (note.js openCheckpoint does that).
 * @returns {Promise<{state: string, reason: string, detail: string, vars: object,
 *   witnesses: {key: string, name: string, state: string, time: bigint|null, detail: string}[]}>}
 *   `reason` a label key (i18n: reason.*), `vars` {count, k}; one row per pinned witness.
 */
export async function checkCosignatures(note, witnesses, k) {
  const pinned = [];
  for (const w of witnesses || []) if (!pinned.some((x) => x.line === w.line)) pinned.push(w);
  const rows = pinned.map((w) => ({ key: `${w.name}+${toHex(w.id)}`, name: w.name, state: "absent", time: null, detail: "" }));
  const result = (state, reason, detail = "") => {
    const count = rows.filter((r) => r.state === "verified").length;
    return { state, reason, detail, vars: { count, k }, witnesses: rows };
  };
  if (pinned.length === 0) return result("unpinned", "reason.nowitnesses");
  let parts;
  try {
    parts = splitNote(note);
    parseCheckpoint(parts.text);
  } catch (e) {
    return result("not-verified", "reason.unreadable", e.message);
  }
  const keys = await Promise.all(pinned.map((w) => importKey(w.publicKey)));
  const supported = keys.every((key) => key !== null);
  for (const s of parts.signatures) {
    const i = pinned.findIndex((w) => w.name === s.name && toHex(w.id) === toHex(s.id));
    if (i < 0) continue; // the log's own line, a witness not pinned: ignored (signed-note)
    const row = rows[i];
    if (!supported) {
      row.state = "unsupported";
      continue;
    }
    const v = await verifyLine(keys[i], parts.text, s.signature);
    if (!v.ok) {
      row.state = "not-verified"; // one bad line by this witness outweighs a good one
      row.detail = v.why;
    } else if (row.state === "absent") {
      row.state = "verified";
      row.time = v.time;
    }
  }
  if (!supported) return result("unsupported", "reason.unsupported");
  const bad = rows.filter((r) => r.state === "not-verified");
  if (bad.length) return result("not-verified", "reason.badcosignature", bad.map((r) => r.key).join(", "));
  if (!(Number.isInteger(k) && k >= 1 && k <= pinned.length)) {
    return result("not-verified", "reason.witnesspolicy", `K=${k}, ${pinned.length} pinned`);
  }
  const count = rows.filter((r) => r.state === "verified").length;
  if (count < k) return result("not-verified", "reason.fewcosignatures");
  return result("verified", "reason.cosigned");
}
