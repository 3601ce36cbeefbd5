// Child processes for the export tests that need real processes (crash.test.mjs,
// shared-outbox.test.mjs): run a script with Node, collect its output, wait for conditions.
import { spawn } from "node:child_process";

/**
 * Runs `script` with this Node and `args`; `done` resolves to `{code, signal, out}` (stdout and
 * stderr together), `output()` is what it printed so far.
 * @param {string} script
 * @param {string[]} args
 */
export function runScript(script, args) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const done = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, out })));
  return { child, done, output: () => out };
}

/** Resolves once `cond()` is true (checked every 25 ms); throws after `ms`. */
export async function until(cond, ms = 30000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
