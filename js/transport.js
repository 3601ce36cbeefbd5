// The export transport: sends one request the wasm queue built (`exportRequest`) with `fetch`
// and describes what came back, for `exportDone`. The queue, the retry policy and the request
// itself stay in Rust (src/queue.rs); this is the only place that touches the network.
//
// It never throws or rejects: a thrown or rejected fetch, a timeout, something that is not a
// Response, all become `{ status: 0, error }` (a network failure, retried by the policy). It
// never logs: the token travels in the /auth/validate body and headers carry credentials;
// failures are reported by the queue's own warnings (exportWarnings), which mask them.
// Works wherever there is a `fetch`: Node 18+, Deno, Bun, workerd, browsers and workers.
//
// Redirects are never followed (`redirect: "manual"`): following one would carry the body and
// the credential headers to wherever the receiver points (307/308), or turn the POST into a
// body-less GET that then looks delivered (301/302/303). A redirect is reported as a 3xx
// status, which the queue fails without retrying, with the reason in the body. An answer's
// body is read only up to MAX_ANSWER_BYTES (what the queue judges is small: the token
// validation's JSON, a receiver's error message), then the rest of the stream is cancelled.

/**
 * @typedef {{ url: string, headers: [string, string][], body: string | Uint8Array, timeoutMs: number }} ExportRequest
 * @typedef {{ status: number, retryAfterMs: number, body: string, error: string }} ExportAnswer
 *   `status` 0: no response, `error` says why; `retryAfterMs` -1: no usable Retry-After
 */

/** `Retry-After` in milliseconds from now: delay-seconds or an HTTP date; -1 when absent or
 * unreadable. */
export function retryAfterMs(value, nowMs = Date.now()) {
  if (typeof value !== "string") return -1;
  const v = value.trim();
  if (/^[-+]?\d+(\.\d+)?$/.test(v)) {
    const seconds = Number(v);
    return seconds >= 0 ? seconds * 1000 : -1;
  }
  const at = Date.parse(v);
  return Number.isNaN(at) ? -1 : Math.max(0, at - nowMs);
}

/** A failure's message, as safely as it can be read (a getter or toString may throw). */
function describe(e) {
  try {
    if (e === null || e === undefined) return "fetch failed";
    let text = typeof e === "object" || typeof e === "function" ? String(e.message ?? e) : String(e);
    // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`.
    const cause = typeof e === "object" ? e.cause : undefined;
    if (cause && typeof cause === "object" && cause.message) text += ` (${String(cause.message)})`;
    if (e?.name === "TimeoutError" || e?.name === "AbortError") text = `${e.name}: ${text}`;
    return text || "fetch failed";
  } catch {
    return "fetch failed";
  }
}

/** An AbortSignal that fires after `ms`, and how to release its timer. `AbortSignal.timeout`
 * where the runtime has it (its timer never keeps a process alive), else a controller and an
 * unref'd timer. */
function timeoutSignal(ms) {
  if (typeof AbortSignal !== "undefined" && typeof AbortSignal.timeout === "function") {
    return { signal: AbortSignal.timeout(ms), release() {} };
  }
  if (typeof AbortController !== "function") return { signal: undefined, release() {} };
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const reason = typeof DOMException === "function" ? new DOMException("The operation timed out.", "TimeoutError") : new Error("The operation timed out.");
    controller.abort(reason);
  }, ms);
  timer?.unref?.();
  return { signal: controller.signal, release: () => clearTimeout(timer) };
}

/** A Response, or an object that reads like one (a fetch polyfill's): an HTTP status and
 * text(). */
const isResponse = (r) => r !== null && typeof r === "object" && Number.isInteger(r.status) && typeof r.text === "function";

/** How long past its own time limit a request is waited for when the fetch ignores its
 * signal (a custom fetch that never settles must not hold the queue or flush() forever). */
const GRACE_MS = 1000;

/** The most of an answer's body that is read (a 300 MB answer must not become 300 MB here). */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends `request` (a POST) and resolves with what came back; never rejects.
 * @param {ExportRequest} request
 * @param {{ keepalive?: boolean, fetch?: Function }} [options] `fetch`: the `fetch` init()
 *   option; without it the global `fetch`, read at call time
 * @returns {Promise<ExportAnswer>}
 */
export async function send(request, { keepalive = false, fetch: custom } = {}) {
  let timeout;
  let guard;
  try {
    timeout = timeoutSignal(request.timeoutMs);
    const late = new Promise((resolve) => {
      guard = setTimeout(resolve, request.timeoutMs + GRACE_MS, network(`no answer within ${request.timeoutMs} ms (the fetch ignored its timeout)`));
    });
    return await Promise.race([exchange(request, keepalive, custom, timeout.signal), late]);
  } catch (e) {
    return network(describe(e));
  } finally {
    clearTimeout(guard);
    timeout?.release();
  }
}

const network = (error) => ({ status: 0, retryAfterMs: -1, body: "", error });

/** The runtime's own fetch: the global one as it was at the first send (not at load: in
 * Node the first touch of `fetch` loads undici, about 20 ms of a cold start). */
let runtimeFetch;

/** The fetch and the response's reading; may throw (send() turns that into an answer). */
async function exchange(request, keepalive, custom, signal) {
  runtimeFetch ??= globalThis.fetch;
  const f = typeof custom === "function" ? custom : globalThis.fetch;
  if (typeof f !== "function") return network("no fetch in this runtime");
  const init = { method: "POST", headers: request.headers, body: request.body, signal, redirect: "manual" };
  // A Request (what fetch implementations and custom fetch wrappers all take), with keepalive
  // in the second argument, as the Rust transport passed it. The runtime's own fetch gets the
  // URL and options: given a Request with a body it builds another one and pipes the body
  // through a stream (Node: undici's Request and stream frames were on top of the profile).
  const direct = f === runtimeFetch && f !== custom;
  const target = !direct && typeof Request === "function" ? new Request(request.url, init) : request.url;
  const args = target === request.url ? [target, { ...init, keepalive }] : keepalive ? [target, { keepalive }] : [target];
  const response = await (f === custom ? f(...args) : f.apply(globalThis, args));
  if (!isResponse(response)) return network("fetch resolved to something that is not a Response");
  const redirect = redirectReason(response, request.url);
  if (redirect) {
    discard(response);
    return { status: redirect.status, retryAfterMs: -1, body: redirect.reason, error: "" };
  }
  if (response.status < 100 || response.status > 599) return network(`fetch resolved to a response without an HTTP status (${response.status})`);
  let retry = -1;
  try {
    retry = retryAfterMs(response.headers.get("retry-after") ?? undefined);
  } catch {}
  let body = "";
  try {
    body = await readCapped(response, MAX_ANSWER_BYTES);
  } catch {}
  return { status: response.status, retryAfterMs: retry, body, error: "" };
}

/**
 * Whether `response` is a redirect (or the result of one a fetch followed anyway), and then
 * the status to report (a 3xx: failed, not retried) and why. Browsers hide a manual
 * redirect's status and target (an "opaqueredirect" response with status 0); workerd, Deno,
 * Bun and Node give the 3xx and its Location.
 */
function redirectReason(response, url) {
  let type, redirected, location;
  try {
    type = response.type;
    redirected = response.redirected === true;
  } catch {}
  const status = response.status;
  const is3xx = status >= 300 && status <= 399;
  if (!is3xx && type !== "opaqueredirect" && !redirected) return undefined;
  try {
    location = is3xx ? response.headers.get("location") : redirected ? response.url : undefined;
  } catch {}
  const where = typeof location === "string" && location !== "" ? ` to ${target(location, url)}` : "";
  const reason = redirected
    ? `the fetch followed a redirect${where} (it ignored redirect: "manual"); set endpoint to the final URL`
    : `the receiver answered a redirect${where}; set endpoint to the final URL`;
  // 300 stands for a redirect whose status is hidden (opaque) or was followed.
  return { status: is3xx ? status : 300, reason };
}

/** A redirect target for a message: origin and path only (no credentials, no query), cut. */
function target(location, base) {
  let text;
  try {
    const u = new URL(location, base);
    text = u.origin !== "null" ? u.origin + u.pathname : u.protocol;
  } catch {
    text = "an unreadable location";
  }
  return text.length > 120 ? text.slice(0, 120) + "…" : text;
}

/** Drops an answer's body unread (frees the connection); never throws. */
function discard(response) {
  try {
    response.body?.cancel?.().catch?.(() => {});
  } catch {}
}

/** At most `max` bytes of `response`'s body as text (UTF-8); the rest of the stream is
 * cancelled unread. A response-like object without a stream (a polyfill's) is read whole. */
async function readCapped(response, max) {
  const stream = response.body;
  if (!stream || typeof stream.getReader !== "function") {
    if (stream === null) return "";
    const text = String(await response.text());
    return text.length > max ? text.slice(0, max) : text;
  }
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < max) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const chunk = value.byteLength > max - bytes ? value.subarray(0, max - bytes) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    return text; // cut: a character split at the bound is left out
  } finally {
    reader.cancel().catch(() => {});
  }
}
