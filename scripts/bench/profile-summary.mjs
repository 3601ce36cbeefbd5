// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function and the share of
// wasm code, top N. Used to explain where per-span time goes.
//
//   node scripts/bench/profile-summary.mjs target/bench/prof/CPU.*.cpuprofile [--top=30]

import { readFileSync } from "node:fs";
import { basename } from "node:path";

/** Rough Rust v0 demangling (`_RNv...`): the identifiers of the path, joined by `::`. */
export function demangle(name) {
  name = name.replace(/\[[0-9a-f]{16}\]/g, "");
  if (!name.startsWith("_R")) return name;
  const parts = [];
  const re = /(\d+)(_?)([A-Za-z_][A-Za-z0-9_]*)/g;
  let m;
  while ((m = re.exec(name))) {
    const len = Number(m[1]);
    const ident = (m[2] + m[3]).slice(0, len);
    if (ident.length === len && !/^Cs|^Nt|^Nv/.test(ident)) parts.push(ident.replace(/^_/, ""));
    re.lastIndex = m.index + m[1].length + len;
  }
  return parts.join("::") || name;
}

const isMain = import.meta.url === new URL(process.argv[1], "file://").href || process.argv[1]?.endsWith("profile-summary.mjs");
const files = !isMain ? [] : process.argv.slice(2).filter((a) => !a.startsWith("--"));
const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? 30);

for (const file of files) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const d = dt[i] ?? 0;
    total += d;
    const f = n.callFrame;
    const where = /\.wasm/.test(f.url) ? "wasm" : f.url ? basename(f.url) + ":" + (f.lineNumber + 1) : "";
    const key = (demangle(f.functionName) || "(anonymous)") + (where ? "  " + where : "");
    self.set(key, (self.get(key) ?? 0) + d);
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]);
  const wasm = rows.filter(([k]) => / wasm$/.test(k)).reduce((s, [, v]) => s + v, 0);
  console.log(`# ${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [k, v] of rows.slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log(`wasm functions (self): ${((100 * wasm) / total).toFixed(1)}%`);
}

/**
 * Inclusive time of every function whose name matches one of `patterns` (each sample counted
 * once per pattern, however deep the recursion): where the time under a function goes.
 */
export function inclusive(profile, patterns) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map(patterns.map((p) => [String(p), 0]));
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const d = profile.timeDeltas[i] ?? 0;
    total += d;
    const names = [];
    for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) names.push(demangle(byId.get(id).callFrame.functionName));
    for (const p of patterns) if (names.some((n) => p.test(n))) hits.set(String(p), hits.get(String(p)) + d);
  }
  return { total, hits };
}
