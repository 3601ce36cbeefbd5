// Real HTTP receivers on 127.0.0.1 for the export tests: one speaking the Agensight cloud API,
// one OTLP/HTTP JSON receiver that parses each request strictly against the OTLP protobuf
// schema (tests/export/otlp-proto.mjs). `fault(req, n, body)` injects failures: return
// { status, headers, body }, "hang" (never answer) or "destroy" (drop the connection).
// `cors: true` lets pages of any origin send (browser tests): preflights (OPTIONS) are answered
// and not recorded, every answer allows the origin.
import http from "node:http";
import { parseOtlpRequest, decodeOtlpProtobuf } from "./otlp-proto.mjs";

function readBody(req, { raw = false } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(raw ? Buffer.concat(chunks) : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Answers CORS preflights (not passed on) and lets any origin read the answers. */
function withCors(handler) {
  return (req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    if (req.method !== "OPTIONS") return handler(req, res);
    res.writeHead(204, {
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "content-type",
      "access-control-max-age": "600",
    });
    res.end();
  };
}

async function serve(handler, port = 0, cors = false) {
  const sockets = new Set();
  const server = http.createServer(cors ? withCors(handler) : handler);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The Agensight cloud API: validate -> project id, then one record per request. */
export async function agensightReceiver({ token = "tok-test-12345", projectId = "proj-1", fault, port, cors } = {}) {
  const calls = [];
  const records = [];
  let n = 0;
  const srv = await serve(async (req, res) => {
    const body = await readBody(req);
    const call = { method: req.method, path: req.url, headers: req.headers, body, at: Date.now() };
    calls.push(call);
    const action = fault?.(req, n++, body);
    if (action === "hang") return;
    if (action === "destroy") return req.socket.destroy();
    if (action) {
      res.writeHead(action.status, action.headers ?? {});
      return res.end(action.body ?? "");
    }
    const json = (status, value) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.method !== "POST") return json(405, { error: "method" });
    let parsed;
    try {
      parsed = JSON.parse(body);
    } catch {
      return json(400, { error: "invalid json" });
    }
    if (req.url === "/api/auth/validate") {
      return parsed.token === token ? json(200, { project_id: projectId }) : json(401, { error: "invalid token" });
    }
    if (req.headers.authorization !== `Bearer ${projectId}`) return json(401, { error: "unauthorized" });
    // The reference client's paths (docs/records.md): the token total is `create/trace/update`.
    const m = /^\/api\/logs\/create\/(session|trace|span|prompt|completion|tool|trace\/update)$/.exec(req.url);
    if (!m || !parsed.data) return json(404, { error: "no such endpoint" });
    records.push({ type: m[1] === "trace/update" ? "trace_update" : m[1], data: parsed.data });
    json(200, { ok: true });
  }, port, cors);
  return { url: `http://127.0.0.1:${srv.port}/api`, port: srv.port, calls, records, close: srv.close };
}

/** An OTLP/HTTP JSON traces receiver. `requests` holds each parsed request. */
export async function otlpReceiver({ fault, port, cors } = {}) {
  const calls = [];
  const requests = [];
  let n = 0;
  const srv = await serve(async (req, res) => {
    const raw = await readBody(req, { raw: true });
    const body = raw.toString("utf8");
    calls.push({ method: req.method, path: req.url, headers: req.headers, body, at: Date.now() });
    const action = fault?.(req, n++, body);
    if (action === "hang") return;
    if (action === "destroy") return req.socket.destroy();
    if (action) {
      res.writeHead(action.status, action.headers ?? {});
      return res.end(action.body ?? "");
    }
    // Both OTLP/HTTP encodings, by content type (415 for any other, as OTLP receivers answer).
    const type = req.headers["content-type"] ?? "";
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404);
      return res.end();
    }
    if (!/^application\/(json|x-protobuf)\b/.test(type)) {
      res.writeHead(415);
      return res.end();
    }
    try {
      requests.push(type.startsWith("application/x-protobuf") ? decodeOtlpProtobuf(raw) : parseOtlpRequest(body));
    } catch (e) {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(JSON.stringify({ code: 3, message: e.message }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  }, port, cors);
  /** Every span received, flattened, with its resource attributes. */
  const spans = () => requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: rs.resource })))));
  return { url: `http://127.0.0.1:${srv.port}/v1/traces`, port: srv.port, calls, requests, spans, close: srv.close };
}

/** A port with nothing listening on it (connection refused). */
export async function closedPort() {
  const srv = await serve(() => {});
  await srv.close();
  return srv.port;
}

/** OTLP attributes as a plain object: { key: value }. */
export function attrs(list = []) {
  const value = (v) =>
    "stringValue" in v ? v.stringValue : "intValue" in v ? Number(v.intValue) : "doubleValue" in v ? v.doubleValue : "boolValue" in v ? v.boolValue : "arrayValue" in v ? (v.arrayValue.values ?? []).map(value) : v;
  return Object.fromEntries(list.map((a) => [a.key, value(a.value)]));
}
