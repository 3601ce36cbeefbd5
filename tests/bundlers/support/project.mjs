// Scratch projects for the bundler layer: one directory per tool and case under
// tests/.scratch/tools/p/, with the packed tarball installed fresh into it by npm and the
// tools found in tests/.scratch/tools/node_modules (Node's lookup walks up to it). Also the
// app every case builds, running a child process, a static server and the span-tree check.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { ROOT, installPackage } from "../../support/package.mjs";
import { TOOLS, ensureTools } from "./tools.mjs";

export { ROOT, TOOLS };
const run_ = promisify(execFile);

/**
 * The tarball scripts/pack-install made, copied beside the tools (so a pack-install running
 * meanwhile cannot swap it) after checking it is the one installed in tests/.scratch/app.
 */
export async function tarball() {
  await installPackage();
  await ensureTools();
  const dir = join(ROOT, "target/pack");
  const name = readdirSync(dir).find((f) => /^agensight-wasm-.*\.tgz$/.test(f));
  if (!name) throw new Error("target/pack has no tarball: run scripts/pack-install");
  const bytes = readFileSync(join(dir, name));
  const sha = createHash("sha256").update(bytes).digest("hex");
  const stamp = readFileSync(join(ROOT, "tests/.scratch/app/node_modules/.agensight-tarball"), "utf8").trim();
  if (sha !== stamp) throw new Error("target/pack's tarball is not the installed one (a pack-install is running?): run scripts/pack-install again");
  const copy = join(TOOLS, `agensight-wasm-${sha.slice(0, 12)}.tgz`);
  if (!existsSync(copy)) writeFileSync(copy, bytes);
  return copy;
}

/**
 * A fresh project tests/.scratch/tools/p/<name> with `files` ({ path: text }) and the tarball
 * installed by npm, as a user's `npm install agensight-wasm` does. Returns its directory.
 */
export async function project(name, files, { type = "module" } = {}) {
  const tgz = await tarball();
  const dir = join(TOOLS, "p", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pkg = { name: `bundler-${name}`, private: true, ...(type ? { type } : {}), dependencies: { "agensight-wasm": `file:${tgz}` } };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  await run("npm install", "npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--no-package-lock"], { cwd: dir, timeoutMs: 120000 });
  assert.ok(existsSync(join(dir, "node_modules/agensight-wasm/package.json")), "the tarball is installed");
  return dir;
}

/** Runs a command to completion; rejects with its output when it fails or times out. */
export async function run(label, cmd, args, { cwd, env, timeoutMs = 300000 } = {}) {
  try {
    return await run_(cmd, args, { cwd, env: { ...process.env, NO_COLOR: "1", CI: "1", ...env }, timeout: timeoutMs, maxBuffer: 64 << 20, encoding: "utf8" });
  } catch (e) {
    throw new Error(`${label} failed (${e.code ?? e.signal})\nstdout:\n${(e.stdout ?? "").slice(-4000)}\nstderr:\n${(e.stderr ?? "").slice(-4000)}`);
  }
}

/**
 * Starts a long-running command (a dev or production server) and waits until `ready` matches
 * its output. Returns { output(), stop() }; stop() kills its whole process group.
 */
export async function start(label, cmd, args, { cwd, env, ready, timeoutMs = 120000 }) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: "1", CI: "1", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("close", resolve);
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 5000).unref();
    });
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode} before it was ready\n${out.slice(-4000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${label}: not ready after ${timeoutMs} ms\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { output: () => out, stop };
}

/**
 * The app every case builds: a trace "chat" that calls "retrieve" and "llm" (which calls the
 * sync "tokenize") before its first `await`, so the tree is the same with AsyncLocalStorage and
 * with the browsers' synchronous stack. `traced(endpoint, question)` exports to an OTLP
 * receiver and returns what flush() reports.
 */
export const APP_SOURCE = (specifier = "agensight-wasm") => `import { init, trace, span, flush } from ${JSON.stringify(specifier)};

const tokenize = span((q) => q.split(" "), "tokenize");
const retrieve = span(async (q) => ["doc about " + q], "retrieve");
const llm = span(async (q) => {
  const tokens = tokenize(q);
  await new Promise((r) => setTimeout(r, 1));
  return tokens.length;
}, "llm");
export const chat = trace(async (q) => {
  const [docs, tokens] = await Promise.all([retrieve(q), llm(q)]);
  return { docs, tokens };
}, "chat");

export async function traced(service, endpoint, q) {
  init({ name: service, mode: "prod", exporter: "otlp", endpoint, storage: "memory" });
  const result = await chat(q);
  const flushed = await flush({ timeoutMs: 10000 });
  return { result, flushed };
}
`;

/** The tree APP_SOURCE records: span name -> parent span name. */
export const APP_TREE = { chat: null, retrieve: "chat", llm: "chat", tokenize: "llm" };

/**
 * Asserts the spans a receiver got for `service` form exactly `tree` (name -> parent name, or
 * null for the root), in one trace, with the resource's service.name.
 */
export function assertTree(receiver, service, tree, { attrs }) {
  const spans = receiver.spans().filter((s) => attrs(s.resource?.attributes)["service.name"] === service);
  const names = spans.map((s) => s.name).sort();
  assert.deepEqual(names, Object.keys(tree).sort(), `${service}: the spans received`);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const got = Object.fromEntries(spans.map((s) => [s.name, s.parentSpanId ? byId.get(s.parentSpanId)?.name ?? `unknown ${s.parentSpanId}` : null]));
  assert.deepEqual(got, tree, `${service}: the parent of each span`);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, `${service}: one trace`);
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css" };

/** A static file server for one built site (`root` served at "/") on 127.0.0.1: { url(path), close() }. */
export async function staticServer(root) {
  const server = createServer((req, res) => {
    if (req.url === "/favicon.ico") return res.writeHead(204).end(); // browsers ask for it
    let file = normalize(join(root, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    if (file.startsWith(root) && existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(root) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, url: (path = "") => `${origin}/${path}`, close: () => new Promise((r) => server.close(r)) };
}
