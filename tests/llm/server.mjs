// A local stand-in for the OpenAI and Anthropic APIs, on 127.0.0.1: each request gets the next
// scripted reply, answered the way the providers answer (JSON, or server-sent events written
// one event at a time, errors with their status codes and bodies). Shared by the LLM tests
// and the edge-worker example's test.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURES = fileURLToPath(new URL("../fixtures/llm/", import.meta.url));

/** A fixture of tests/fixtures/llm: `{ about, request, response | sse }`. */
export function fixture(name) {
  return JSON.parse(readFileSync(`${FIXTURES}${name}.json`, "utf8"));
}

/** The JSON payloads of a fixture's events, as the SDKs yield them (`[DONE]` is not one). */
export const events = (f) => f.sse.filter((e) => typeof e.data === "object").map((e) => e.data);

/** Float arrays as the base64 of little-endian float32s (OpenAI's `encoding_format: "base64"`). */
function base64Floats(values) {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b.toString("base64");
}

/**
 * Starts the server. Script replies with `reply(...)`, in the order requests will come:
 * - `{ json, status = 200, headers }`: a JSON body.
 * - `{ sse: [{ event?, data }], headers, pauseMs }`: an event stream; `data` objects are
 *   written as JSON, strings as they are (`[DONE]`); each event is its own write.
 * - a function `(request) => reply` to decide on the request.
 * Every request is kept in `requests` as `{ method, url, headers, body }`.
 */
export async function startServer() {
  const replies = [];
  const requests = [];
  const closed = [];
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const c of req) text += c;
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const request = { method: req.method, url: req.url, headers: req.headers, body };
    requests.push(request);
    let reply = replies.shift();
    if (typeof reply === "function") reply = reply(request);
    if (!reply) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no reply scripted for ${req.method} ${req.url}`, type: "test_error" } }));
      return;
    }
    const headers = { "x-request-id": `req_${requests.length}`, "request-id": `req_${requests.length}`, ...reply.headers };
    if (reply.sse) {
      res.writeHead(reply.status ?? 200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
      res.on("close", () => res.writableFinished || closed.push(request));
      for (const e of reply.sse) {
        if (res.destroyed) return;
        const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
        res.write(`${e.event ? `event: ${e.event}\n` : ""}data: ${data}\n\n`);
        await new Promise((r) => setTimeout(r, reply.pauseMs ?? 1));
      }
      res.end();
      return;
    }
    let json = reply.json;
    if (body?.encoding_format === "base64" && json?.object === "list") {
      json = { ...json, data: json.data.map((d) => ({ ...d, embedding: base64Floats(d.embedding) })) };
    }
    res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(json));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Requests whose event stream the client closed before its end. */
    closed,
    reply: (...r) => replies.push(...r),
    pending: () => replies.length,
    close: () => new Promise((r) => server.close(r)),
  };
}
