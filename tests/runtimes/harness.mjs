// Shared support of the runtime matrix: where the binaries are, running a script in a runtime
// and reading its report, scratch files inside the installed project. A runtime that cannot
// start is an error with a message saying what to do, never a skip.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE, ROOT, installPackage } from "../support/package.mjs";

export { ROOT };
export const SCENARIOS_URL = pathToFileURL(join(ROOT, "tests/runtimes/scenarios.mjs")).href;
export const REPORT_MARK = "@@REPORT ";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every file under `dir` with its content, for comparing two trees. */
function tree(dir, prefix = "", out = new Map()) {
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) tree(dir, rel, out);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

function sameTree(a, b) {
  try {
    const [x, y] = [tree(a), tree(b)];
    return x.size > 0 && x.size === y.size && [...x].every(([k, v]) => y.has(k) && y.get(k).equals(v));
  } catch {
    return false;
  }
}

/**
 * A scratch project of the calling test file's own, tests/.scratch/runtimes/<name>, holding a
 * copy of the package as scripts/pack-install installed it from the tarball
 * (tests/.scratch/app), so that another pack-install running meanwhile (it replaces that
 * directory) cannot change the package under a running runtime. Returns the project's directory;
 * runner files go inside it, where `agensight-wasm` resolves like in a user's project.
 */
export async function ownApp(name) {
  await installPackage();
  const dir = join(ROOT, "tests/.scratch/runtimes", name);
  const target = join(dir, "node_modules/agensight-wasm");
  for (let attempt = 0; ; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    let copied = false;
    try {
      cpSync(PACKAGE, target, { recursive: true });
      copied = ["package.json", "wasm/agensight_wasm_bg.wasm", "wasm/agensight_wasm.js"].every((f) => existsSync(join(target, f)));
    } catch {}
    // Equal to the installed package after the copy: no install ran in between.
    if (copied && sameTree(target, PACKAGE)) break;
    if (attempt === 50) throw new Error(`could not copy a complete ${PACKAGE} (is scripts/pack-install failing?)`);
    await sleep(200); // an install is under way: wait for it to finish
    await installPackage();
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `runtime-${name}`, private: true, type: "module", dependencies: { "agensight-wasm": "*" } }, null, 2));
  return dir;
}

/** A binary from the root devDependencies (node_modules/.bin), or a clear error. */
export function devBinary(name) {
  const path = join(ROOT, "node_modules/.bin", name);
  if (!existsSync(path)) {
    throw new Error(`${name}: ${path} is missing. It is a devDependency: run scripts/bootstrap --test (or npm install) first.`);
  }
  return path;
}

/** Writes a runner file into a scratch project (see ownApp) and returns its path. */
export function writeRunner(app, name, text) {
  const path = join(app, name);
  writeFileSync(path, text);
  return path;
}

/** A fresh directory for one run's file store. */
export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), `agensight-${prefix}-`));

/** The ESM runner: imports the package by name, runs the suite, prints the report. */
export function esmRunner(runtime, options) {
  return `import * as api from "agensight-wasm";
import { runScenarios } from ${JSON.stringify(SCENARIOS_URL)};
const report = await runScenarios(api, ${JSON.stringify({ runtime, ...options })});
console.log(${JSON.stringify(REPORT_MARK)} + JSON.stringify(report));
`;
}

/**
 * Runs `cmd args` and resolves with its stdout, stderr and exit code. Rejects with a clear
 * message when the binary cannot start or the run times out.
 */
export function run(label, cmd, args, { cwd, env, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      reject(new Error(`${label}: cannot start ${cmd} (${e.message})`));
      return;
    }
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${label}: timed out after ${timeoutMs} ms\nstdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${label}: cannot start ${cmd} (${e.code ?? e.message}). Run scripts/bootstrap --test to install the runtimes.`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a runner script and returns the report it printed, or throws with its output. */
export async function runReport(label, cmd, args, options) {
  const r = await run(label, cmd, args, options);
  const line = r.stdout.split("\n").find((l) => l.startsWith(REPORT_MARK));
  if (r.code !== 0 || !line) {
    throw new Error(`${label}: exited with ${r.signal ?? r.code} and ${line ? "a" : "no"} report\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`);
  }
  return { report: JSON.parse(line.slice(REPORT_MARK.length)), stderr: r.stderr, stdout: r.stdout };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Warnings a run printed that are not expected (the suite itself prints none). */
export function unexpectedWarnings(stderr) {
  return stderr
    .split("\n")
    .filter((l) => /agensight:|Warning|Error/i.test(l))
    .filter((l) => !/ExperimentalWarning: (CommonJS module|Support for loading ES Module in require)/.test(l));
}
