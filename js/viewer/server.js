// The local viewer's server: serves the page (static files shipped in the package) and a small
// JSON API over the local store (`.agensight/*.jsonl`, or one exported file). Node built-ins
// only; listens on the loopback interface only, and answers only requests addressed to it
// (a DNS-rebinding guard on the Host header).
//
//   GET /            the page (index.html, app.js, style.css, records.js, exportfile.js)
//   GET /api/data    {source, dir, file, exists, version, sessions, traces, skipped, files,
//                    warnings, error}, with an ETag: the page polls it with If-None-Match and
//                    gets 304 while nothing changed.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseLines, groupRecords } from "../records.js";
import { parseExport } from "./page/exportfile.js";

const here = (rel) => fileURLToPath(new URL(rel, import.meta.url));

const STATIC = {
  "/": [here("./page/index.html"), "text/html; charset=utf-8"],
  "/index.html": [here("./page/index.html"), "text/html; charset=utf-8"],
  "/app.js": [here("./page/app.js"), "text/javascript; charset=utf-8"],
  "/exportfile.js": [here("./page/exportfile.js"), "text/javascript; charset=utf-8"],
  "/style.css": [here("./page/style.css"), "text/css; charset=utf-8"],
  "/records.js": [here("../records.js"), "text/javascript; charset=utf-8"],
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

/** Incremental reader of one `.jsonl` file: appended bytes are parsed once. */
class LineFile {
  constructor(full) {
    this.full = full;
    this.reset();
  }

  reset() {
    this.ino = -1;
    this.size = -1;
    this.mtimeMs = -1;
    this.offset = 0; // just past the last complete line read
    this.records = [];
    this.skipped = 0;
    this.tail = { records: [], skipped: 0 }; // the unfinished last line, as of now
  }

  /** Brings the file up to date; returns false if it is gone. */
  async refresh() {
    let st;
    try {
      st = await fs.promises.stat(this.full);
    } catch {
      return false;
    }
    if (st.ino === this.ino && st.size === this.size && st.mtimeMs === this.mtimeMs) return true;
    const fh = await fs.promises.open(this.full, "r");
    try {
      // The store is append-only: read only what was appended, unless the file was replaced,
      // truncated or rewritten (then read it again from the start).
      let appended = st.ino === this.ino && st.size >= this.offset && st.size !== this.size;
      if (appended && this.offset > 0) {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, this.offset - 1);
        appended = b[0] === 0x0a;
      }
      if (!appended) this.reset();
      const len = st.size - this.offset;
      const buf = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, this.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const data = buf.subarray(0, got);
      const nl = data.lastIndexOf(0x0a);
      const { records, skipped } = parseLines(data.subarray(0, nl + 1).toString("utf8"));
      for (const r of records) this.records.push(r);
      this.skipped += skipped;
      this.offset += nl + 1;
      this.tail = parseLines(data.subarray(nl + 1).toString("utf8"));
      this.ino = st.ino;
      this.size = this.offset + (got - nl - 1);
      this.mtimeMs = st.mtimeMs;
    } finally {
      await fh.close();
    }
    return true;
  }

  get allRecords() {
    return this.tail.records.length ? this.records.concat(this.tail.records) : this.records;
  }

  get allSkipped() {
    return this.skipped + this.tail.skipped;
  }
}

/** The store directory: every `*.jsonl` in it, read incrementally. */
class DirSource {
  constructor(dir) {
    this.dir = dir;
    this.files = new Map();
  }

  async read() {
    let names;
    let exists = true;
    try {
      names = (await fs.promises.readdir(this.dir)).filter((n) => n.endsWith(".jsonl")).sort();
    } catch (e) {
      if (e.code !== "ENOENT" && e.code !== "ENOTDIR") throw e;
      names = [];
      exists = false;
    }
    for (const n of [...this.files.keys()]) if (!names.includes(n)) this.files.delete(n);
    const files = [];
    const records = [];
    let skipped = 0;
    for (const name of names) {
      let f = this.files.get(name);
      if (!f) this.files.set(name, (f = new LineFile(path.join(this.dir, name))));
      if (!(await f.refresh())) {
        this.files.delete(name);
        continue;
      }
      const recs = f.allRecords;
      for (const r of recs) records.push(r);
      skipped += f.allSkipped;
      files.push({ name, size: f.size, records: recs.length, skipped: f.allSkipped, key: `${f.ino}:${f.size}:${f.mtimeMs}` });
    }
    return { exists, records, skipped, files, warnings: [], error: null };
  }
}

/** One file: an `exportLocal()` JSON export, or store lines. */
class FileSource {
  constructor(file) {
    this.file = file;
  }

  async read() {
    let st;
    try {
      st = await fs.promises.stat(this.file);
    } catch {
      return { exists: false, records: [], skipped: 0, files: [], warnings: [], error: `Cannot read ${this.file}: it no longer exists.` };
    }
    const name = path.basename(this.file);
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cache?.key === key) return this.cache.result;
    let result;
    try {
      const { records, skipped, warnings } = parseExport(await fs.promises.readFile(this.file, "utf8"));
      result = { exists: true, records, skipped, warnings, error: null, files: [{ name, size: st.size, records: records.length, skipped, key }] };
    } catch (e) {
      result = { exists: true, records: [], skipped: 0, warnings: [], error: `${name}: ${e.message}`, files: [{ name, size: st.size, records: 0, skipped: 0, key }] };
    }
    this.cache = { key, result };
    return result;
  }
}

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
  let source;
  if (file) {
    file = path.resolve(file);
    let st;
    try {
      st = await fs.promises.stat(file);
    } catch {
      throw new Error(`Cannot open ${file}: no such file. Pass the JSON file written by exportLocal() (or a .jsonl store file).`);
    }
    if (!st.isFile()) throw new Error(`Cannot open ${file}: not a file.`);
    source = new FileSource(file);
  } else {
    dir = path.resolve(dir);
    source = new DirSource(dir);
  }

  const bootId = Date.now().toString(36);
  let version = 0;
  let lastKey = null;
  let body = null;
  let inFlight = null;

  // One read at a time; concurrent requests share it.
  const snapshot = () =>
    (inFlight ??= (async () => {
      try {
        const r = await source.read();
        const key = JSON.stringify([r.exists, r.error, r.files.map((f) => [f.name, f.key])]);
        if (key !== lastKey || body === null) {
          const { sessions, traces } = groupRecords(r.records);
          version++;
          lastKey = key;
          body = JSON.stringify({
            source: file ? "file" : "dir",
            dir: file ? null : dir,
            file: file ?? null,
            exists: r.exists,
            version,
            sessions,
            traces,
            skipped: r.skipped,
            files: r.files.map(({ key: _k, ...f }) => f),
            warnings: r.warnings,
            error: r.error,
          });
        }
        return { etag: `"${bootId}-${version}"`, body };
      } finally {
        inFlight = null;
      }
    })());

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
    if (pathname === "/api/data") {
      const { etag, body } = await snapshot();
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
        server.close(() => resolve());
        server.closeAllConnections?.();
      })),
  };
}
