// merkle.js: RFC 9162 Merkle tree hashing and proof verification (SHA-256, WebCrypto).
//
// Pure functions over bytes and integers; no DOM. Every hash is computed here from the
// bytes: a leaf hash or a verdict the server sends is never used.
//   RFC 9162 §2.1.1   leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || l || r)
//   RFC 9162 §2.1.3.2 verifying an inclusion proof
//   RFC 9162 §2.1.4.2 verifying a consistency proof

export const HASH_SIZE = 32;

/** A failed proof: `message` says what did not hold (with got/want where it helps). */
export class ProofError extends Error {}

/** SHA-256 of the concatenated byte arrays. */
export async function sha256(...parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const all = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);

/** RFC 9162 §2.1.1: the hash of one leaf (an entry's exact bytes). */
export const leafHash = (entry) => sha256(LEAF, entry);

/** RFC 9162 §2.1.1: the hash of an interior node. */
export const nodeHash = (left, right) => sha256(NODE, left, right);

/** The UTF-8 bytes of a string (the API carries an entry's bytes as its UTF-8 text). */
export const utf8 = (text) => new TextEncoder().encode(text);

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function fromHex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new ProofError(`not hex: ${JSON.stringify(text)}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (RFC 4648 §4): alphabet, padding and the canonical form. */
export function fromBase64(text) {
  if (typeof text !== "string" || !B64.test(text)) {
    throw new ProofError(`not base64: ${JSON.stringify(text)}`);
  }
  const bin = atob(text);
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (toBase64(out) !== text) throw new ProofError(`not canonical base64: ${JSON.stringify(text)}`);
  return out;
}

export function toBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function big(n, what) {
  const v = typeof n === "bigint" ? n : Number.isSafeInteger(n) ? BigInt(n) : null;
  if (v === null || v < 0n) throw new ProofError(`${what} is not a non-negative integer: ${n}`);
  return v;
}

function checkHashes(hashes, what) {
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) {
      throw new ProofError(`${what} ${i} has ${h.length} bytes, want ${HASH_SIZE}`);
    }
  });
}

/**
 * RFC 9162 §2.1.3.2: the root that an inclusion proof gives for the leaf hash at `index`
 * in a tree of `size` leaves. Requires 0 <= index < size and 32-byte hashes.
 * @throws {ProofError} when a precondition fails or the proof has the wrong length.
 */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  let fn = big(index, "index");
  let sn = big(size, "tree size") - 1n;
  if (fn > sn) throw new ProofError(`index ${index} is beyond a tree of ${size}`);
  checkHashes([leaf], "leaf hash");
  checkHashes(proof, "proof hash");
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError(`proof has ${proof.length} hashes, too many`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError(`proof has ${proof.length} hashes, too few`);
  return r;
}

/**
 * RFC 9162 §2.1.3.2: check that `leaf` is at `index` in the tree of `size` with `root`.
 * @throws {ProofError} when it is not.
 */
export async function verifyInclusion(index, size, leaf, proof, root) {
  const got = await rootFromInclusionProof(index, size, leaf, proof);
  if (!equalBytes(got, root)) {
    throw new ProofError(`calculated root ${toHex(got)} is not the expected ${toHex(root)}`);
  }
}

/**
 * RFC 9162 §2.1.4.2: check that the tree of `size2` with `root2` extends the tree of
 * `size1` with `root1`. Requires 0 < size1 <= size2; for size1 == size2 the proof is empty
 * and the roots are equal.
 * @throws {ProofError} when it does not (a rewritten history: a fork).
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  const first = big(size1, "size1");
  const second = big(size2, "size2");
  checkHashes([root1, root2], "root");
  checkHashes(proof, "proof hash");
  if (first === 0n || first > second) {
    throw new ProofError(`no consistency proof from ${size1} to ${size2}`);
  }
  if (first === second) {
    if (proof.length !== 0) throw new ProofError("a proof between equal sizes must be empty");
    if (!equalBytes(root1, root2)) {
      throw new ProofError(`roots differ at size ${size1}: ${toHex(root1)} != ${toHex(root2)}`);
    }
    return;
  }
  if (proof.length === 0) throw new ProofError("empty consistency proof");
  // Step 2: when size1 is an exact power of two, the proof starts from root1 itself.
  const path = (first & (first - 1n)) === 0n ? [root1, ...proof] : proof;
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError(`proof has ${proof.length} hashes, too many`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError(`proof has ${proof.length} hashes, too few`);
  if (!equalBytes(fr, root1)) {
    throw new ProofError(`calculated first root ${toHex(fr)} is not ${toHex(root1)}`);
  }
  if (!equalBytes(sr, root2)) {
    throw new ProofError(`calculated second root ${toHex(sr)} is not ${toHex(root2)}`);
  }
}
