// Profiles for when a goal is missed (not part of `make bench`):
//   1. per-span overhead: node --cpu-prof of the overhead benchmark, agensight-wasm alone
//      (sync and async, storage: false), on a copy of pkg/ whose .wasm keeps function names
//      (same cargo output, wasm-bindgen, wasm-opt -Oz -g), so wasm frames are named;
//   2. encoding: node --cpu-prof of the wasm encoders (target/bench/encode-names.wasm);
//   3. size: the .wasm's bytes by crate and module (twiggy, if installed).
// Prints self-time tops and where the time under the wrapper goes.
//
//   scripts/build && node scripts/bench/profile.mjs [--only=overhead,encode,size]

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH, OUT, ROOT } from "./lib.mjs";
import { inclusive } from "./profile-summary.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));
const want = (s) => !args.only || args.only.split(",").includes(s);
const PROF = join(OUT, "prof");
const run = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts }).toString();

/** A copy of pkg/ with a names-kept .wasm built from the current cargo output. */
function namesPackage() {
  const cargoOut = join(ROOT, "target/wasm32-unknown-unknown/release/agensight_wasm.wasm");
  if (!existsSync(join(ROOT, "pkg/node.mjs")) || !existsSync(cargoOut)) throw new Error("run scripts/build first");
  const names = join(OUT, "names");
  rmSync(names, { recursive: true, force: true });
  mkdirSync(names, { recursive: true });
  run("wasm-bindgen", ["--target", "web", "--out-dir", names, "--out-name", "agensight_wasm", cargoOut]);
  run(join(ROOT, "node_modules/.bin/wasm-opt"), ["-Oz", "-g", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", join(names, "agensight_wasm_bg.wasm"), "-o", join(names, "agensight_wasm_bg.wasm")]);
  const pkg = join(OUT, "profpkg");
  rmSync(pkg, { recursive: true, force: true });
  cpSync(join(ROOT, "pkg"), pkg, { recursive: true });
  for (const f of ["agensight_wasm.js", "agensight_wasm_bg.wasm"]) cpSync(join(names, f), join(pkg, "wasm", f));
  return pkg;
}

function profile(label, argv) {
  rmSync(PROF, { recursive: true, force: true });
  mkdirSync(PROF, { recursive: true });
  spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${PROF}`, ...argv], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const file = join(PROF, readdirSync(PROF)[0]);
  console.log(`\n## ${label}\n`);
  console.log(run(process.execPath, [join(BENCH, "profile-summary.mjs"), file, "--top=25"]));
  return JSON.parse(readFileSync(file, "utf8"));
}

/** Where the time under the traced wrapper goes (inclusive, % of all samples). */
const OVERHEAD_PARTS = [
  ["traced wrapper (all of it)", /^traced$/],
  ["JS: capture() -> toJson (arguments and result to JSON text)", /^capture$/],
  ["JS->wasm text (passText: encodeInto into the shared text buffer)", /^passText$/],
  ["JS->wasm string passing by wasm-bindgen (passStringToWasm0: malloc + UTF-8 encode)", /^passStringToWasm0$/],
  ["wasm: Tracer::start", /Tracer>::start$/],
  ["wasm: Tracer::end", /Tracer>::end$/],
  ["wasm: clamp_json (validate, cut, redact captured JSON)", /limits::clamp_json$/],
  ["wasm: redaction (mask_raw, is_secret_key)", /Redactor>::(mask_raw|is_secret_key)/],
  ["wasm: llm::parse_call", /llm::parse_call/],
  ["wasm: allocator (dlmalloc)", /dlmalloc/],
  ["AsyncLocalStorage run", /^run$/],
  ["clock (now)", /^now$/],
  ["garbage collector", /\(garbage collector\)/],
];

// Always from the current cargo output.
const pkg = want("overhead") || want("size") ? namesPackage() : null;

if (want("overhead")) {
  for (const variant of ["sync", "async"]) {
    const p = profile(`agensight-wasm, ${variant}, storage: false (per-span overhead)`, [join(BENCH, "overhead.mjs"), "--profile=agensight", "--case=0", `--variant=${variant}`, "--rounds=10", `--pkg=${pkg}`]);
    const { total, hits } = inclusive(p, OVERHEAD_PARTS.map(([, re]) => re));
    console.log("| part (inclusive) | % of samples |\n| --- | --- |");
    OVERHEAD_PARTS.forEach(([name, re]) => console.log(`| ${name} | ${((100 * hits.get(String(re))) / total).toFixed(1)} |`));
  }
}

if (want("encode")) {
  if (!existsSync(join(OUT, "encode-names.wasm"))) run(join(BENCH, "build-encode"), []);
  for (const only of ["agensight", "otlp"]) profile(`wasm encoder: ${only}`, [join(BENCH, "encode.mjs"), "--names", `--only=${only}`, "--rounds=5"]);
}

if (want("size")) {
  console.log("\n## .wasm size by crate / module\n");
  const r = spawnSync(process.execPath, [join(BENCH, "wasm-size-report.mjs"), join(OUT, "names/agensight_wasm_bg.wasm"), "--top=30"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  console.log(r.status === 0 ? r.stdout.toString() : "twiggy is not installed (cargo install twiggy)");
  console.log(run(join(ROOT, "node_modules/.bin/wasm-opt"), ["--metrics", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", join(ROOT, "pkg/wasm/agensight_wasm_bg.wasm"), "-o", "/dev/null"]).split("\n").slice(0, 40).join("\n"));
}
