// Shared helpers for the benchmarks: statistics, formatting, the network guard, and where
// things are. Nothing here is timed.

import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH = join(ROOT, "scripts/bench");
export const OUT = join(ROOT, "target/bench");

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Relative spread of a sample: (max - min) / median. */
export function spread(xs) {
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
export const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
export const fmt2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
export const kb = (bytes) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) + " KB" : "n/a");
export const mb = (bytes) => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) + " MB" : "n/a");

/** A Response-returning fetch that answers every request with 200 `{}`, locally. */
export function localFetch(log) {
  return async (url, init) => {
    log?.push(`${init?.method ?? "GET"} ${url}`);
    // Drain the body like a server would (LangSmith sends a multipart Blob/stream).
    const body = init?.body;
    if (body && typeof body === "object" && typeof body.arrayBuffer === "function") await body.arrayBuffer();
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  };
}

/**
 * Makes sure nothing in this process reaches the network through the global fetch: only
 * loopback URLs pass to the real fetch, anything else is refused (and recorded).
 */
export function guardNetwork() {
  const real = globalThis.fetch;
  const refused = [];
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]") return real(input, init);
    refused.push(String(url));
    throw new TypeError(`bench: network access refused (${url.origin})`);
  };
  return refused;
}

/** Lets timers and I/O callbacks run (batch processors, deferred store writes). */
export const yieldToLoop = () => new Promise((r) => setImmediate(r));

/** Environment for child processes that load LangSmith: tracing on, endpoint on loopback. */
export function langsmithEnv(env = process.env) {
  return {
    ...env,
    LANGSMITH_TRACING: "true",
    LANGSMITH_ENDPOINT: "http://127.0.0.1:9",
    LANGSMITH_API_KEY: "bench-no-network",
    LANGSMITH_PROJECT: "bench",
  };
}

/** Markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => "| " + cells.join(" | ") + " |";
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The sink's program: answers every request 200 after reading its body (an empty OTLP
 * response: `{}` to JSON, no bytes to protobuf); GET /stats says what it received. */
const SINK = `
const stats = { requests: 0, bytes: 0, paths: {} };
const server = require("node:http").createServer((req, res) => {
  let n = 0;
  req.on("data", (c) => (n += c.length));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/stats") return res.end(JSON.stringify(stats));
    stats.requests++;
    stats.bytes += n;
    stats.paths[req.url] = (stats.paths[req.url] ?? 0) + 1;
    const json = !String(req.headers["content-type"]).includes("protobuf");
    res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
    res.end(json ? "{}" : "");
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0)).resume();
`;

/**
 * An HTTP receiver on 127.0.0.1 answering 200, in a process of its own (so that its CPU time
 * is not the measured process's). Returns { url, stats(), close() }; it also exits when this
 * process does (its stdin closes).
 */
export async function startSink() {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", SINK], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the sink exited (${code})`)));
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await fetch(`${url}/stats`)).json(),
    close: () => child.stdin.end(),
  };
}
