// Where the .wasm's bytes go: `twiggy top` of a build with function names kept, grouped by
// crate (and by module inside agensight_wasm). Needs twiggy (cargo install twiggy) and a
// names build, which scripts/bench/build-names makes from the current cargo output.
//
//   scripts/bench/build-names && node scripts/bench/wasm-size-report.mjs [FILE] [--top=25]

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { OUT } from "./lib.mjs";

const file = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? join(OUT, "names/agensight_wasm_bg.wasm");
const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? 25);
const rows = JSON.parse(execFileSync("twiggy", ["top", "-n", "100000", "--format", "json", file], { maxBuffer: 1 << 28 }).toString());

/** The group an item belongs to: a crate (agensight_wasm by module), data, or glue. */
function group(name) {
  if (/^"function names"|^"local names"|^name section|names" subsection/.test(name)) return null; // not shipped (stripped)
  if (/^data segment/.test(name)) return "data segments (.rodata: strings, tables)";
  if (/multivalue shim$/.test(name)) return "wasm-bindgen multivalue shims (Result/String returns)";
  if (/^(type|table|elem|import|export|global|memory|code section|custom section|wasm magic)/.test(name) || /^\w+$/.test(name) && !name.includes("::")) {
    // exported wrappers (start, end, configure...) and section headers
    return /^[a-zA-Z_]+$/.test(name) ? "exported wrappers (wasm.rs #[wasm_bindgen] fns)" : "sections, types, imports, exports";
  }
  // Rust paths: `<crate[hash]::a::B as ...>::f`, `crate[hash]::m::f`, `<T>::f` (core's impls).
  const clean = name.replace(/\[[0-9a-f]{16}\]/g, "");
  const m = clean.match(/^<?&?(?:mut )?(?:dyn )?([a-z_][a-z0-9_]*)::(?:([a-z_][a-z0-9_]*)::)?/);
  if (!m) {
    if (/^<(f64|f32|u\d+|i\d+|usize|isize|char|str|bool|\[u8\]|&str)/.test(clean)) return "core (primitive impls: fmt, parse)";
    return "other: " + clean.slice(0, 60);
  }
  const crate = m[1];
  if (crate === "agensight_wasm") return "agensight_wasm::" + (m[2] ?? "(root)");
  if (crate === "core" && m[2]) return m[2] === "fmt" || m[2] === "num" ? "core::fmt / core::num (formatting, float printing)" : "core::" + m[2];
  return crate;
}

const groups = new Map();
let total = 0;
let names = 0;
for (const r of rows.items ?? rows) {
  const g = group(r.name);
  if (g === null) {
    names += r.shallow_size;
    continue;
  }
  total += r.shallow_size;
  const e = groups.get(g) ?? { bytes: 0, items: 0, biggest: [] };
  e.bytes += r.shallow_size;
  e.items++;
  if (e.biggest.length < 3) e.biggest.push(`${r.name.replace(/\[[0-9a-f]{16}\]/g, "").slice(0, 90)} (${r.shallow_size})`);
  groups.set(g, e);
}
console.log(`# ${file}: ${total} bytes without the names section (${names} bytes of names)`);
console.log("| group | bytes | % | biggest items |\n| --- | --- | --- | --- |");
for (const [g, e] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`| ${g} | ${e.bytes} | ${((100 * e.bytes) / total).toFixed(1)} | ${e.biggest.join("; ")} |`);
}
