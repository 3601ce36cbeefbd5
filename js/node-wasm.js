// The .wasm bytes for the Node entry. Read from next to this file; when a bundler has
// rewritten `new URL(..., import.meta.url)` (webpack and Next.js turn it into an asset URL
// such as "/_next/static/media/x.wasm", not a file), from the installed package instead,
// resolved from this module's original location and then from the app's directory.

import { readFileSync } from "node:fs";
import * as nodeModule from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Taken from the runtime where it can (process.getBuiltinModule, Node 20.16+): webpack turns a
// literal `createRequire(import.meta.url)` into its own require, and Next.js's server bundles
// hand an import of node:module over without createRequire.
const makeRequire = (from) => (globalThis.process?.getBuiltinModule?.("node:module") ?? nodeModule)["create" + "Require"](from);

/** @returns {Uint8Array} */
export function readWasm() {
  const tried = [];
  const attempt = (how, fn) => {
    try {
      return readFileSync(fn());
    } catch (e) {
      tried.push(`${how}: ${e && e.message}`);
      return null;
    }
  };
  return (
    attempt("next to the module", () => fileURLToPath(new URL("./wasm/agensight_wasm_bg.wasm", import.meta.url))) ??
    attempt("from the module's package", () => makeRequire(import.meta.url).resolve("agensight-wasm/wasm")) ??
    attempt("from the app's directory", () => makeRequire(join(process.cwd(), "package.json")).resolve("agensight-wasm/wasm")) ??
    (() => {
      throw new Error(`agensight_wasm_bg.wasm not found (${tried.join("; ")})`);
    })()
  );
}
