// A real Arize Phoenix for the tests: `phoenix serve` from the venv of scripts/bootstrap-python
// (through phoenix_serve.py: HTTP and gRPC on 127.0.0.1 only, no outgoing network), on free
// ports, with its database in a fresh directory under tests/.scratch, read back through its
// REST API (/v1/projects, /v1/projects/{name}/spans). A missing Phoenix is an error that says
// how to install it, never a skip.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { ROOT } from "../support/package.mjs";

const PYTHON = join(ROOT, "tests/.scratch/pyenv/bin/python");

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts Phoenix and waits until it answers /healthz; `startMs` says how long that took. */
export async function startPhoenix({ timeoutMs = 180_000 } = {}) {
  if (!existsSync(PYTHON)) throw new Error(`Phoenix is not installed: run scripts/bootstrap-python (or scripts/bootstrap --test); ${PYTHON} is missing`);
  mkdirSync(join(ROOT, "tests/.scratch"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, "tests/.scratch/phoenix-"));
  const [port, grpcPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    PHOENIX_HOST: "127.0.0.1",
    PHOENIX_PORT: String(port),
    PHOENIX_GRPC_PORT: String(grpcPort),
    PHOENIX_WORKING_DIR: dir,
    PHOENIX_TELEMETRY_ENABLED: "false",
    PHOENIX_ALLOW_EXTERNAL_RESOURCES: "false",
  };
  const started = Date.now();
  const child = spawn(PYTHON, [join(ROOT, "tests/backends/phoenix_serve.py")], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error(`phoenix serve exited (${JSON.stringify(exited)}) before it was ready:\n${log.slice(-4000)}`);
    if (Date.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`phoenix serve was not ready after ${timeoutMs} ms:\n${log.slice(-4000)}`);
    }
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const startMs = Date.now() - started;
  const get = async (path) => {
    const r = await fetch(`${base}${path}`);
    if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    base,
    /** The OTLP/HTTP traces URL. */
    traces: `${base}/v1/traces`,
    port,
    grpcPort,
    pid: child.pid,
    startMs,
    log: () => log,
    projects: async () => (await get("/v1/projects?limit=100")).data,
    /** Every span of a project (REST: /v1/projects/{name}/spans), following the cursor. */
    spans: async (project) => {
      const out = [];
      let cursor = null;
      do {
        const page = await get(`/v1/projects/${encodeURIComponent(project)}/spans?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
        out.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor);
      return out;
    },
    sessions: async (project) => (await get(`/v1/projects/${encodeURIComponent(project)}/sessions?limit=100`)).data,
    stop: async () => {
      if (!exited) {
        child.kill("SIGTERM");
        const done = await Promise.race([new Promise((r) => child.once("exit", () => r(true))), new Promise((r) => setTimeout(() => r(false), 10_000))]);
        if (!done) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
