// The JS layering rules of HACKING.md ("JS layers"), read from the source: only js/bridge.js
// calls the wasm bindings, modules import no circle, and the layers of the wrapper look down
// only (the bridge knows nothing of spans, the exporter or core.js; spans and the exporter not
// of each other or of core.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const jsDir = join(dirname(fileURLToPath(import.meta.url)), "../../js");

function sources(dir = jsDir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(m?js|cjs)$/.test(e.name)) out.push(relative(jsDir, p));
  }
  return out;
}

/** Comments out, so a doc example that mentions a call does not count. */
const code = (file) => readFileSync(join(jsDir, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

/** Relative imports (static, re-exports and dynamic with a literal) of `file`, as paths in js/. */
function imports(file) {
  const found = new Set();
  for (const m of code(file).matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.\.?\/[^"']+)["']/g)) found.add(normalize(join(dirname(file), m[1])));
  return [...found].filter((f) => !f.startsWith("wasm/"));
}

test("only js/bridge.js calls the wasm bindings", () => {
  const callers = [];
  for (const f of sources()) {
    // `wasm.x` / `bindings.x` member calls, other than the loaders' initSync/default init.
    // (Not inside a module path: "./node-wasm.js".)
    for (const m of code(f).matchAll(/(?<![\w$./-])(?:wasm|bindings)\s*\.\s*([A-Za-z_$][\w$]*)/g)) {
      if (m[1] !== "initSync") callers.push(`${f}: ${m[0]}`);
    }
  }
  assert.deepEqual(callers.filter((c) => !c.startsWith("bridge.js:")), []);
  assert.ok(callers.some((c) => c.startsWith("bridge.js: wasm.start")), "the check sees the bridge's own calls");
});

test("no import circles in js/", () => {
  const graph = new Map(sources().map((f) => [f, imports(f).filter((t) => t.endsWith(".js") || t.endsWith(".mjs"))]));
  const state = new Map(); // undefined: new, 1: on the path, 2: done
  const cycles = [];
  const visit = (f, path) => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) return void cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
    state.set(f, 1);
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, 2);
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
  assert.ok(graph.get("core.js").includes("bridge.js"), "the graph is read");
});

test("the wrapper's layers look down only", () => {
  // Each module, and what it may import from the wrapper's own modules (leaves like
  // serialize.js, errors.js and transport.js are below all of them).
  const allowed = {
    "errors.js": [],
    "pending.js": [],
    // serialize.js: captured values written straight into the core's text buffer (passValue).
    "bridge.js": ["errors.js", "serialize.js"],
    "capture.js": ["serialize.js"],
    "spans.js": ["bridge.js", "serialize.js"],
    "exporter.js": ["transport.js"],
    "stream-end.js": [],
    "providers.js": ["serialize.js", "stream-end.js"],
    // The provider wrappers and instrumentModules stay out of core.js, so bundles can leave
    // them out (the entries export the wrappers; agensight-wasm/modules plugs in init()'s option).
    "core.js": ["errors.js", "bridge.js", "capture.js", "spans.js", "exporter.js"],
    "integrations/modules.js": ["integrations/google-genai/wrap.js"],
    // The optional parts, once for every entry; the entries re-export them (no entry copies them).
    "parts.js": ["lazy.js", "providers.js", "propagation.js", "readback.js", "worker.js"],
    "node.mjs": ["server.js", "node-wasm.js", "parts.js", "core.js"],
    "workerd.mjs": ["edge-entry.js", "parts.js", "core.js"],
  };
  for (const [file, may] of Object.entries(allowed)) assert.deepEqual(imports(file).sort(), may.sort(), `${file} imports`);
});
