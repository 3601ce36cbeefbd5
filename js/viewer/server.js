// The local viewer's server: serves the page (static files shipped in the package) and a small
// JSON API over the local store (`.agensight/*.jsonl`, or one exported file). Node built-ins
// only; listens on the loopback interface only, and answers only requests addressed to it
// (a DNS-rebinding guard on the Host header).
//
//   GET /              the page (index.html, app.js, style.css, records.js, exportfile.js, query.js)
//   GET /api/status    {source, dir, file, exists, version, traces, sessions, noSession, skipped,
//                      files, warnings, error, indexing}, with an ETag: the page polls it with
//                      If-None-Match and gets 304 while nothing changed.
//   GET /api/traces?offset&limit&q&session&nosession&status
//                      one page of trace rows, newest first: {total, matched, offset, rows,
//                      version, partial}; at most 500 rows a page.
//   GET /api/sessions?limit   the newest sessions (at most 1000), oldest first: {total, sessions}
//   GET /api/trace?id  one trace with its spans (as readLocal() gives it): {trace}, or 404
//
// The store is indexed (store-index.js): the server holds one compact row per trace, reads
// only appended bytes, and reads a trace's records when it is opened. While the first index
// is built (seconds for a million traces) the first page comes from the end of the newest file.

import http from "node:http";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StoreSource } from "./store-source.js";

const here = (rel) => fileURLToPath(new URL(rel, import.meta.url));

const STATIC = {
  "/": [here("./page/index.html"), "text/html; charset=utf-8"],
  "/index.html": [here("./page/index.html"), "text/html; charset=utf-8"],
  "/app.js": [here("./page/app.js"), "text/javascript; charset=utf-8"],
  "/exportfile.js": [here("./page/exportfile.js"), "text/javascript; charset=utf-8"],
  "/style.css": [here("./page/style.css"), "text/css; charset=utf-8"],
  "/records.js": [here("../records.js"), "text/javascript; charset=utf-8"],
  "/query.js": [here("./page/query.js"), "text/javascript; charset=utf-8"],
};

const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const LOOPBACK = new Set(["127.0.0.1", "localhost"]);
/** Past this many bytes of store, the first index waits for the first page (see below). */
const DEFER_INDEX_BYTES = 32 * 1024 * 1024;

/**
 * Starts the viewer.
 *
 * ```js
 * import { startViewer } from "agensight-wasm/viewer/server.js";
 * const viewer = await startViewer({ dir: ".agensight", port: 0 });
 * console.log(viewer.url); // http://127.0.0.1:54321/
 * await viewer.close();
 * ```
 *
 * @param {{ dir?: string, file?: string, port?: number, host?: string }} [options]
 *   `dir`: the store directory (read: every `*.jsonl`); `file`: show one exported JSON file
 *   (from `exportLocal()`) or `.jsonl` file instead; `port`: 0 picks a free one; `host`: only
 *   loopback ("127.0.0.1" or "localhost") is accepted: the store holds prompts and outputs.
 * @returns {Promise<{ url: string, port: number, server: import("node:http").Server, close(): Promise<void> }>}
 */
export async function startViewer({ dir = ".agensight", file, port = 4319, host = "127.0.0.1" } = {}) {
  if (!LOOPBACK.has(String(host).toLowerCase())) {
    throw new Error(`The viewer listens on 127.0.0.1 only (asked for host ${JSON.stringify(host)}): the store holds prompts and outputs, so it is never served on other interfaces.`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid port ${JSON.stringify(port)}: use an integer from 0 to 65535 (0 picks a free port).`);
  }
  if (file) {
    file = path.resolve(file);
    let st;
    try {
      st = await fs.promises.stat(file);
    } catch {
      throw new Error(`Cannot open ${file}: no such file. Pass the JSON file written by exportLocal() (or a .jsonl store file).`);
    }
    if (!st.isFile()) throw new Error(`Cannot open ${file}: not a file.`);
  } else dir = path.resolve(dir);
  const source = new StoreSource(file ? { file } : { dir });
  const bootId = Date.now().toString(36);
  // The first page before the index is built; then the index, kept up to date in the background.
  // A big store's first index takes seconds of CPU: it starts once the page has its first rows
  // (or after a second), so that they are not kept waiting by it.
  await source.readPreview().catch(() => {});
  let started = false;
  let startTimer = null;
  const startIndexing = () => {
    if (started) return;
    started = true;
    clearTimeout(startTimer);
    source.refresh().catch(() => {});
  };
  const bytes = await source.totalBytes().catch(() => 0);
  if (bytes > DEFER_INDEX_BYTES && source.preview?.length) {
    source.indexing = { done: 0, total: bytes, since: -Infinity };
    startTimer = setTimeout(startIndexing, 1000);
  } else startIndexing();

  /** Brings the index up to date, waiting at most `ms` (a first index of a big store takes
   * seconds: the answer then says how far it got). */
  const fresh = async (ms = 250) => {
    // A long index (the first of a big store) is under way, or about to start: answer now
    // with what there is.
    if (!started || (source.indexing && performance.now() - source.indexing.since > ms)) return;
    let timer;
    await Promise.race([source.refresh(), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  };

  let filterCache = { key: null, rows: null };
  let sessionCache = { key: null, all: [] };
  const filtered = (q, session, status) => {
    const key = JSON.stringify([source.version, source.index.count, q, session, status]);
    if (filterCache.key !== key) filterCache = { key, rows: source.index.filter({ q, session, status }) };
    return filterCache.rows;
  };

  const api = {
    "/api/status": async () => {
      await fresh();
      const s = source.status();
      s.noSession = source.index.noSession;
      return s;
    },
    "/api/traces": async (p) => {
      await fresh();
      const offset = Math.max(0, Number.parseInt(p.get("offset") ?? "0", 10) || 0);
      const limit = Math.min(500, Math.max(1, Number.parseInt(p.get("limit") ?? "100", 10) || 100));
      const q = p.get("q") ?? "";
      const session = p.get("nosession") === "1" ? null : (p.get("session") ?? "");
      const status = p.get("status") ?? "";
      const any = !q && session === "" && !status;
      if (source.indexing && any && offset === 0 && source.preview?.length) {
        // Still indexing: the newest traces, read from the end of the newest file.
        setImmediate(startIndexing);
        return { total: source.index.shown, matched: source.preview.length, offset, rows: source.preview.slice(0, limit), version: source.version, partial: true };
      }
      startIndexing();
      const rows = filtered(q, session, status);
      const page = [];
      for (let i = offset; i < Math.min(rows.length, offset + limit); i++) page.push(source.index.summary(rows[i]));
      return { total: source.index.shown, matched: rows.length, offset, rows: page, version: source.version, partial: Boolean(source.indexing) };
    },
    "/api/sessions": async (p) => {
      await fresh();
      const limit = Math.min(1000, Math.max(1, Number.parseInt(p.get("limit") ?? "500", 10) || 500));
      // Sorted once per change of the store (there may be hundreds of thousands).
      const key = `${source.version}:${source.index.sessions.size}`;
      if (sessionCache.key !== key) {
        const all = [...source.index.sessions.values()];
        all.sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0));
        sessionCache = { key, all };
      }
      const { all } = sessionCache;
      return { total: all.length, sessions: all.slice(-limit) };
    },
    "/api/trace": async (p) => {
      await fresh();
      const trace = await source.trace(p.get("id") ?? "");
      return trace ? { trace } : null;
    },
  };

  const staticCache = new Map();
  const readStatic = async (p) => {
    let s = staticCache.get(p);
    if (!s) {
      const [full, type] = STATIC[p];
      const buf = await fs.promises.readFile(full);
      s = { buf, type, etag: `"${bootId}-${buf.length}-${staticCache.size}"` };
      staticCache.set(p, s);
    }
    return s;
  };

  let allowedHosts = new Set();

  const send = (req, res, status, type, content, extra = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(content), ...extra });
    res.end(req.method === "HEAD" ? undefined : content);
  };

  const handle = async (req, res) => {
    const hostHeader = String(req.headers.host ?? "").toLowerCase();
    if (!allowedHosts.has(hostHeader)) {
      return send(req, res, 403, "text/plain; charset=utf-8", `Forbidden: this viewer answers only requests for ${[...allowedHosts][0]} (Host header ${JSON.stringify(hostHeader)} refused).\n`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(req, res, 405, "text/plain; charset=utf-8", "Method not allowed\n", { Allow: "GET, HEAD" });
    }
    let pathname;
    try {
      pathname = new URL(req.url, "http://127.0.0.1").pathname;
    } catch {
      return send(req, res, 400, "text/plain; charset=utf-8", "Bad request\n");
    }
    if (Object.hasOwn(api, pathname)) {
      const answer = await api[pathname](new URL(req.url, "http://127.0.0.1").searchParams);
      if (answer === null) return send(req, res, 404, "application/json; charset=utf-8", JSON.stringify({ error: "no such trace in the store" }));
      const body = JSON.stringify(answer);
      // The status is polled: same content, same tag, answered 304.
      const etag = `"${bootId}-${createHash("sha1").update(body).digest("base64url")}"`;
      const headers = { ETag: etag, "Cache-Control": "no-cache" };
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
        return res.end();
      }
      return send(req, res, 200, "application/json; charset=utf-8", body, headers);
    }
    if (Object.hasOwn(STATIC, pathname)) {
      const s = await readStatic(pathname);
      if (req.headers["if-none-match"] === s.etag) {
        res.writeHead(304, { ...SECURITY_HEADERS, ETag: s.etag });
        return res.end();
      }
      return send(req, res, 200, s.type, s.buf, { ETag: s.etag, "Cache-Control": "no-cache" });
    }
    if (pathname === "/favicon.ico") {
      res.writeHead(204, SECURITY_HEADERS);
      return res.end();
    }
    return send(req, res, 404, "text/plain; charset=utf-8", "Not found\n");
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(req, res, 500, "text/plain; charset=utf-8", `Viewer error: ${e.message}\n`);
      else res.destroy();
    });
  });

  await new Promise((resolve, reject) => {
    const onError = (e) => {
      server.off("listening", onListening);
      if (e.code === "EADDRINUSE") {
        const err = new Error(`Port ${port} on 127.0.0.1 is already in use (another viewer may already be running at http://127.0.0.1:${port}/). Choose another port with --port, or --port 0 for any free port.`);
        err.code = "EADDRINUSE";
        reject(err);
      } else if (e.code === "EACCES") {
        const err = new Error(`Not allowed to listen on port ${port}: choose a port above 1023 with --port.`);
        err.code = "EACCES";
        reject(err);
      } else reject(e);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });

  const actualPort = server.address().port;
  allowedHosts = new Set([`127.0.0.1:${actualPort}`, `localhost:${actualPort}`]);
  if (actualPort === 80) {
    allowedHosts.add("127.0.0.1");
    allowedHosts.add("localhost");
  }
  const url = `http://127.0.0.1:${actualPort}/`;
  let closing = null;
  return {
    url,
    port: actualPort,
    server,
    close: () =>
      (closing ??= new Promise((resolve) => {
        started = true;
        clearTimeout(startTimer);
        source.stop();
        server.close(() => resolve());
        server.closeAllConnections?.();
      })),
  };
}
