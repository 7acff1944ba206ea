// checks.js: what the page checks, put together (no DOM).
//
// - the pinned log key (local storage "a6gw.vkey": the C2SP verifier key line);
// - the latest checkpoint, opened against it (note.js);
// - consistency with the checkpoint this browser saw before (local storage "a6gw.seen": a
//   JSON object, per log origin, {"size": "<decimal>", "root": "<hex>"}); when the log has
//   moved on, a consistency proof is fetched and checked, and one that does not hold, or a
//   smaller log, or another root at the same size, is a fork;
// - an entry's inclusion: its leaf hash computed from its bytes, the proof recomputed to
//   the root of the checkpoint the page opened.
// Every state is one of verified | not-verified | unpinned | unsupported | fork | checking.

import { getJSON } from "./api.js";
import {
  ProofError,
  equalBytes,
  fromBase64,
  fromHex,
  leafHash,
  toHex,
  utf8,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";
import { openCheckpoint, parseVkey } from "./note.js";

export const VKEY_KEY = "a6gw.vkey";
export const SEEN_KEY = "a6gw.seen";

/**
 * The pinned key, parsed; null when none is pinned; `{invalid: message}` when what is
 * stored is not a verifier key (nothing then verifies).
 */
export async function pinnedKey() {
  const line = localStorage.getItem(VKEY_KEY);
  if (!line) return null;
  try {
    return await parseVkey(line);
  } catch (e) {
    return { invalid: e.message };
  }
}

/** Pin a key line (checked first). @throws {NoteError} when it is not a verifier key. */
export async function pinKey(line) {
  const key = await parseVkey(line);
  localStorage.setItem(VKEY_KEY, key.line);
  return key;
}

export const unpinKey = () => localStorage.removeItem(VKEY_KEY);

function seenAll() {
  try {
    const v = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}");
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

export function seenFor(origin) {
  const v = seenAll()[origin];
  return v && /^[0-9]+$/.test(String(v.size)) && /^[0-9a-f]{64}$/.test(v.root) ? v : null;
}

function remember(cp) {
  const all = seenAll();
  all[cp.origin] = { size: cp.size.toString(), root: toHex(cp.root) };
  localStorage.setItem(SEEN_KEY, JSON.stringify(all));
}

export function forgetSeen(origin) {
  const all = seenAll();
  delete all[origin];
  localStorage.setItem(SEEN_KEY, JSON.stringify(all));
}

/**
 * Open a served checkpoint ({origin, size, root, note}): the note is the only source; the
 * served fields must say the same or the checkpoint is not verified.
 */
export async function openServed(served) {
  const key = await pinnedKey();
  const opened = await openCheckpoint(served.note, key && key.invalid ? null : key);
  if (key && key.invalid) return { ...opened, state: "not-verified", reason: "reason.badkey", detail: key.invalid };
  const cp = opened.checkpoint;
  if (
    cp &&
    (cp.origin !== served.origin || cp.size.toString() !== String(served.size) ||
      toHex(cp.root) !== String(served.root).toLowerCase())
  ) {
    return { ...opened, state: "not-verified", reason: "reason.fields", detail: "" };
  }
  return opened;
}

/**
 * Check the opened checkpoint against the one seen before (and remember it when it holds).
 * @returns {Promise<{state: string, reason: string, from: object|null}>}
 */
export async function checkConsistency(opened) {
  const cp = opened.checkpoint;
  if (!cp) return { state: "not-verified", reason: opened.reason, detail: opened.detail, from: null };
  const before = seenFor(cp.origin);
  const keep = opened.state !== "not-verified"; // never remember a note the key refutes
  if (!before) {
    if (keep) remember(cp);
    return { state: "unpinned", reason: "reason.firstseen", detail: "", from: null };
  }
  const size1 = BigInt(before.size);
  const root1 = fromHex(before.root);
  if (size1 > cp.size) {
    return { state: "fork", reason: "reason.shrank", detail: `${size1} > ${cp.size}`, from: before };
  }
  if (size1 === cp.size || size1 === 0n) {
    if (size1 === cp.size && !equalBytes(root1, cp.root)) {
      return { state: "fork", reason: "reason.otherroot", detail: `${before.root} != ${toHex(cp.root)}`, from: before };
    }
    if (keep) remember(cp);
    return { state: "verified", reason: "reason.same", detail: "", from: before };
  }
  try {
    const proof = await getJSON("/v1/proofs/consistency", {
      from: size1.toString(),
      to: cp.size.toString(),
    });
    const hashes = proof.hashes.map(fromBase64);
    await verifyConsistency(size1, cp.size, root1, cp.root, hashes);
  } catch (e) {
    if (e instanceof ProofError) return { state: "fork", reason: "reason.fork", detail: e.message, from: before };
    return { state: "not-verified", reason: "reason.noproof", detail: e.message, from: before };
  }
  if (keep) remember(cp);
  return { state: "verified", reason: "reason.consistent", detail: `${size1} → ${cp.size}`, from: before };
}

let latestPromise = null;

/**
 * The latest checkpoint, opened and checked for consistency, once per page view (`fresh`
 * fetches it again).
 * @returns {Promise<{served: object, opened: object, consistency: object}>}
 */
export function latest(fresh = false) {
  if (fresh || latestPromise === null) {
    latestPromise = (async () => {
      const served = await getJSON("/v1/checkpoint");
      const opened = await openServed(served);
      const consistency = await checkConsistency(opened);
      return { served, opened, consistency };
    })();
    latestPromise.catch(() => {
      latestPromise = null;
    });
  }
  return latestPromise;
}

/** The state of a proof that holds against a checkpoint in state `cpState`. */
export function combined(cpState) {
  return cpState === "verified" ? "verified" : cpState;
}

/**
 * Check an entry ({index, body}) in the opened checkpoint with an inclusion proof
 * ({hashes}). The leaf hash is computed from the body's bytes.
 * @returns {Promise<{state: string, reason: string, leaf: string, root: string}>}
 */
export async function checkInclusion(entry, proof, opened) {
  const leaf = await leafHash(utf8(entry.body));
  const cp = opened.checkpoint;
  if (!cp) return { state: "not-verified", reason: opened.reason, detail: opened.detail, leaf: toHex(leaf), root: "" };
  try {
    const hashes = proof.hashes.map(fromBase64);
    await verifyInclusion(entry.index, cp.size, leaf, hashes, cp.root);
  } catch (e) {
    return { state: "not-verified", reason: "reason.inclusion", detail: e.message, leaf: toHex(leaf), root: toHex(cp.root) };
  }
  const state = combined(opened.state);
  const reason = state === "verified" ? "reason.included" : opened.reason;
  return { state, reason, detail: opened.detail, leaf: toHex(leaf), root: toHex(cp.root) };
}

/** Fetch an entry's inclusion proof at the opened checkpoint's size and check it. */
export async function proveEntry(entry, opened) {
  const size = opened.checkpoint ? opened.checkpoint.size.toString() : undefined;
  const proof = await getJSON("/v1/proofs/inclusion", { index: entry.index, size });
  return checkInclusion(entry, proof, opened);
}
