// The packed package's shape: the exports map (conditions in the order DESIGN.md section 6
// gives), every file it names shipped, the raw .wasm export, and no Node built-in imported by the
// entries that bundlers take for browsers and workerd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { ownApp } from "./harness.mjs";

const app = await ownApp("package");
const pkgDir = join(app, "node_modules/agensight-wasm");
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

test("exports: conditions in order workerd, edge-light, worker, deno, bun, node, browser, default, each with its types; plus ./inline and ./wasm", () => {
  const main = pkg.exports["."];
  assert.deepEqual(Object.keys(main), ["workerd", "edge-light", "worker", "deno", "bun", "node", "browser", "default"]);
  assert.deepEqual(Object.keys(main.node), ["module", "require", "module-sync", "default"]);
  const entry = (file, types = "./index.d.ts") => ({ types, default: file });
  assert.deepEqual(main, {
    workerd: entry("./workerd.mjs"),
    "edge-light": entry("./edge.mjs"),
    worker: entry("./browser.mjs", "./browser.d.ts"),
    deno: entry("./deno.mjs"),
    bun: entry("./bun.mjs"),
    // Bundlers honour `module` (node.mjs and its files, for import and require alike, so they
    // leave out unused parts); Node does not, and takes the entry as one file where it has
    // require(esm) (`module-sync`).
    node: { module: entry("./node.mjs"), require: entry("./node.cjs", "./index.d.cts"), "module-sync": entry("./node.bundle.mjs"), default: entry("./node.mjs") },
    browser: entry("./browser.mjs", "./browser.d.ts"),
    default: entry("./browser.mjs", "./browser.d.ts"),
  });
  assert.deepEqual(pkg.exports["./inline"], entry("./inline.mjs", "./browser.d.ts"));
  assert.equal(pkg.exports["./wasm"], "./wasm/agensight_wasm_bg.wasm");
  const targets = [...JSON.stringify(Object.values(pkg.exports)).matchAll(/"\.\/([^"]+)"/g)].map((m) => m[1]);
  for (const t of targets.concat([pkg.main.slice(2), "node-compat.cjs", "deno-source.mjs"])) assert.ok(existsSync(join(pkgDir, t)), `${t} is in the tarball`);
});

test("./wasm resolves to the WebAssembly binary; require and import resolve the Node entries", () => {
  const require = createRequire(join(app, "index.js"));
  const wasm = require.resolve("agensight-wasm/wasm");
  assert.deepEqual([...readFileSync(wasm).subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
  assert.match(require.resolve("agensight-wasm"), /agensight-wasm\/node\.cjs$/);
});

test("the browser, workerd, edge and inline entries (and what they import) import no Node built-in", () => {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(pkgDir, file), "utf8");
    assert.doesNotMatch(text, /^\s*import[^;]*from\s*["']node:|^\s*import\s*["']node:|require\(\s*["']node:/m, `${file} imports a Node built-in`);
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*["'](\.\/[^"']+\.m?js)["']/gm)) visit(join(file, "..", m[1]));
  };
  visit("browser.mjs");
  visit("workerd.mjs");
  visit("edge.mjs");
  visit("inline.mjs");
  for (const f of ["core.js", "context.js", "propagation.js", "worker.js", "store-memory.js", "records.js", "store-idb.js", "transport.js", "wasm/agensight_wasm.js", "edge-entry.js", "wasm/inline.js"]) assert.ok(seen.has(f), `${f} was checked (${[...seen]})`);
  assert.ok(!seen.has("store-file.js") && !seen.has("server.js"), "no server-only module");
});
