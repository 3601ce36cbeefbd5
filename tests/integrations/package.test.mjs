// The integrations as packed: each subpath of the exports map resolves to a shipped file, and
// what each imports (followed through relative imports) is only the package itself, its own
// files and the one optional peer that subpath is for: no Node built-in (they run in workerd
// and browsers), no other integration's SDK, so a bundler keeps only what a user imports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE, installPackage } from "../support/package.mjs";

await installPackage();
const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));

/** Bare specifiers a file imports, following its relative imports inside the package. */
function bareImports(file, seen = new Set()) {
  const out = new Set();
  if (seen.has(file)) return out;
  seen.add(file);
  const text = readFileSync(join(PACKAGE, file), "utf8");
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith(".")) for (const s of bareImports(join(file, "..", spec), seen)) out.add(s);
    else out.add(spec);
  }
  return out;
}

const EXPECTED = {
  "./ai": ["agensight-wasm"],
  "./google-genai": ["agensight-wasm"],
  "./openai-agents": ["agensight-wasm"],
  "./langchain": ["@langchain/core/callbacks/base", "agensight-wasm"],
  "./opentelemetry": ["@opentelemetry/api", "agensight-wasm"],
  "./modules": ["agensight-wasm"],
};

test("each integration subpath is shipped and imports only the package and its own peer", () => {
  for (const [subpath, expected] of Object.entries(EXPECTED)) {
    const { types, default: target } = pkg.exports[subpath] ?? {};
    assert.equal(typeof target, "string", `${subpath} is in the exports map`);
    for (const f of [target, types]) assert.ok(existsSync(join(PACKAGE, f)), `${f} is in the tarball`);
    assert.deepEqual([...bareImports(target.slice(2))].sort(), expected, subpath);
  }
  assert.deepEqual(pkg.peerDependenciesMeta, { "@langchain/core": { optional: true }, "@opentelemetry/api": { optional: true } });
});
