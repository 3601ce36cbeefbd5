// A stand-in for the Agensight cloud API on 127.0.0.1 that accepts exactly the paths the
// reference client (PyPI agensight 0.6.3) posts to, under the same base path as its cloud URL
// (`/prod/api/v1`), and answers 404 to anything else, as the real API gateway does: a record
// sent to a path the backend does not have is lost there, and is lost here.
import http from "node:http";

export const BASE_PATH = "/prod/api/v1";
/** The record paths of the reference client, after `{base}/logs/create/`. */
const RECORDS = new Set(["session", "trace", "span", "prompt", "completion", "tool", "trace/update"]);

/**
 * Starts the receiver. `records` holds each accepted record as `{ type, data, client }`
 * (`type` is the path after `/logs/create/`; `client` the `x-test-client` tag of the run that
 * sent it, set by the test through `current`); `calls` every request, refused ones too.
 */
export async function referenceReceiver({ token = "tok-test-12345", projectId = "proj-ref-1" } = {}) {
  const calls = [];
  const records = [];
  const state = { current: "", refused: new Set() };
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const call = { method: req.method, path: req.url, headers: req.headers, body, client: state.current };
    calls.push(call);
    const answer = (status, value) => {
      call.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const path = req.url.startsWith(`${BASE_PATH}/`) ? req.url.slice(BASE_PATH.length) : null;
    const record = path?.startsWith("/logs/create/") ? path.slice("/logs/create/".length) : null;
    if (req.method !== "POST" || (path !== "/auth/validate" && !RECORDS.has(record)) || state.refused.has(record)) {
      return answer(404, { message: "Not Found" });
    }
    let parsed;
    try {
      parsed = JSON.parse(body);
    } catch {
      return answer(400, { message: "invalid JSON" });
    }
    if (path === "/auth/validate") {
      return parsed?.token === token ? answer(200, { project_id: projectId }) : answer(401, { message: "invalid token" });
    }
    if (req.headers.authorization !== `Bearer ${projectId}`) return answer(401, { message: "unauthorized" });
    if (!parsed || typeof parsed.data !== "object" || parsed.data === null) return answer(400, { message: "no data" });
    records.push({ type: record, data: parsed.data, client: state.current });
    answer(200, { ok: true });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    /** The base URL, as the reference client's cloud URL but on loopback. */
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    calls,
    records,
    /** Answers 404 from now on to the records of these paths (after `/logs/create/`). */
    refuse: (...paths) => {
      state.refused = new Set(paths);
    },
    /** Tags what arrives from now on (which client's run it is). */
    tag: (name) => {
      state.current = name;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
