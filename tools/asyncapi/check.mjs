#!/usr/bin/env node
// check.mjs: parse an AsyncAPI document with the reference parser (@asyncapi/parser) and
// fail on any diagnostic of severity error.
//
// Usage: node tools/asyncapi/check.mjs DOCUMENT [--modules DIR]
//   DIR holds the node_modules of this folder's package.json/package-lock.json (installed
//   with `npm ci`); default: this script's folder.
// Prints "OK <document> (<n> warnings)" and exits 0; else prints each error diagnostic
// (code, path, message) to stderr and exits 1. Usage errors exit 2.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let modules = dirname(fileURLToPath(import.meta.url));
const at = args.indexOf("--modules");
if (at >= 0) {
  modules = args[at + 1];
  args.splice(at, 2);
}
if (args.length !== 1 || !modules) {
  console.error("usage: node check.mjs DOCUMENT [--modules DIR]");
  process.exit(2);
}
const path = resolve(args[0]);
const require = createRequire(join(resolve(modules), "package.json"));
const { Parser, fromFile } = require("@asyncapi/parser");
// DiagnosticSeverity (@stoplight/types): 0 error, 1 warning, 2 information, 3 hint
const ERROR = 0;

let text;
try {
  text = readFileSync(path, "utf8");
} catch (err) {
  console.error(`cannot read ${path}: ${err.message}`);
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
const errors = diagnostics.filter((d) => d.severity === ERROR);
for (const d of errors) {
  console.error(`error ${d.code} at ${d.path.join(".") || "/"}: ${d.message}`);
}
if (errors.length > 0 || document === undefined) {
  console.error(`FAIL: ${path}: ${errors.length} errors`);
  process.exit(1);
}
const warnings = diagnostics.filter((d) => d.severity === 1);
for (const d of warnings) {
  console.error(`warning ${d.code} at ${d.path.join(".") || "/"}: ${d.message}`);
}
console.log(`OK ${path} (${warnings.length} warnings, ${text.length} characters)`);
