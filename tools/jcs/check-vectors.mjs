// Check the signing vectors' RFC 8785 (JCS) bytes with the npm `canonicalize` package, an
// implementation independent of the `rfc8785` package the gateway and the generator use.
//
// Usage: node tools/jcs/check-vectors.mjs [VECTORS_DIR]   (default: schemas/vectors)
// Needs `npm ci --no-audit --no-fund` in tools/jcs first. Prints a JSON summary
// {"checked": n, "failures": [...]} and exits 1 when anything differs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import canonicalize from "canonicalize";

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.argv[2] ?? join(here, "..", "..", "schemas", "vectors"));
const read = (name) => JSON.parse(readFileSync(join(dir, name), "utf8"));

let checked = 0;
const failures = [];
function expect(what, got, want) {
  checked += 1;
  if (got !== want) failures.push({ what, got, want });
}

// envelopes.json: the signing input, its SHA-256, and the wire text of each envelope
for (const v of read("envelopes.json").vectors) {
  const { a6signature, ...unsigned } = v.envelope;
  const input = canonicalize(unsigned);
  expect(`${v.name}: signing_input.utf8`, input, v.signing_input.utf8);
  expect(`${v.name}: signing_input.hex`, Buffer.from(input, "utf8").toString("hex"), v.signing_input.hex);
  expect(`${v.name}: sha256`, createHash("sha256").update(input, "utf8").digest("hex"), v.signing_input.sha256);
  expect(`${v.name}: wire`, canonicalize({ ...unsigned, a6signature }), v.wire);
}

// log.json: the entries are JCS texts
for (const e of read("log.json").entries) {
  expect(`log entry ${e.index}`, canonicalize(JSON.parse(e.utf8)), e.utf8);
}

// jcs.json: RFC 8785 §3.2.3 and Appendix B
const jcs = read("jcs.json");
expect("RFC 8785 §3.2.3", canonicalize(JSON.parse(jcs.sample.input)), jcs.sample.canonical);
for (const n of jcs.numbers) {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${n.ieee754_hex}`));
  expect(`RFC 8785 Appendix B ${n.ieee754_hex}`, canonicalize(view.getFloat64(0)), n.canonical);
}

console.log(JSON.stringify({ checked, failures }, null, 2));
process.exit(failures.length ? 1 : 0);
