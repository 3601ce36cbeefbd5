// Tracing for `@google/genai` clients: `models.generateContent`, `models.generateContentStream`
// and `models.embedContent` become `llm` spans (`google_genai.models.generateContent`, ...).
// The client and its Models object are wrapped in Proxies (nothing of the user's objects is
// modified); `traceModels` is also what `instrumentModules` hands out for every new client.
// The SDK's own results are handed back unchanged (a stream: the same items).

import { beginChat, declare, embeddingsResponse, endWith } from "../chat-shape.js";
import { embedRequest, request } from "./shapes.js";
import { traceStream } from "./streaming.js";

const METHODS = {
  generateContent: "google_genai.models.generateContent",
  generateContentStream: "google_genai.models.generateContentStream",
  embedContent: "google_genai.models.embedContent",
};

/** `gen_ai.system`: the OpenTelemetry names of the two APIs the SDK speaks. */
function systemOf(models) {
  try {
    return models?.apiClient?.isVertexAI?.() ? "gcp.vertex_ai" : "gcp.gemini";
  } catch {
    return "gcp.gemini";
  }
}

/** @param {{internal?: {begin: Function}}} api the package's API */
export function createGoogleGenAI(api) {
  const begin = (name, opts) => api.internal?.begin(name, opts) ?? null;
  const tracedModels = new WeakMap(); // Models -> Proxy
  const tracedClients = new WeakMap(); // client -> Proxy

  function start(models, method, params) {
    const system = systemOf(models);
    if (method === "embedContent") {
      const req = embedRequest(params);
      const sp = begin(METHODS[method], { kind: "llm", args: [req] });
      if (sp) declare(sp, { system, operation: "embeddings", model: req.model });
      return sp;
    }
    return beginChat(begin, METHODS[method], { system, request: request(params) });
  }

  function finish(sp, method, params, r) {
    try {
      if (method === "embedContent") {
        const list = Array.isArray(r?.embeddings) ? r.embeddings : [];
        const counted = list.filter((e) => typeof e?.statistics?.tokenCount === "number");
        const tokens = counted.length ? counted.reduce((a, e) => a + e.statistics.tokenCount, 0) : undefined;
        endWith(sp, embeddingsResponse({ model: params?.model, vectors: list.map((e) => e?.values ?? []), inputTokens: tokens }));
      } else endWith(sp, r); // the core reads Gemini responses (src/llm/gemini.rs)
    } catch {
      sp.end(undefined);
    }
  }

  function traced(models, fn, method) {
    return function (params, ...rest) {
      let sp = null;
      try {
        sp = start(models, method, params);
      } catch {}
      if (!sp) return Reflect.apply(fn, models, [params, ...rest]);
      let p;
      try {
        p = sp.run(() => Reflect.apply(fn, models, [params, ...rest]));
      } catch (e) {
        sp.fail(e);
        throw e;
      }
      return Promise.resolve(p).then(
        (r) => {
          if (method !== "generateContentStream") {
            finish(sp, method, params, r);
            return r;
          }
          if (r === null || typeof r !== "object" || typeof r[Symbol.asyncIterator] !== "function") {
            sp.end(undefined);
            return r;
          }
          return traceStream(r, sp);
        },
        (e) => {
          sp.fail(e);
          throw e;
        },
      );
    };
  }

  /** The Models object with its three methods traced (one Proxy per Models object). */
  function traceModels(models) {
    if (models === null || typeof models !== "object") return models;
    let proxy = tracedModels.get(models);
    if (proxy) return proxy;
    const made = new Map();
    proxy = new Proxy(models, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t);
        if (typeof prop === "string" && METHODS[prop] && typeof value === "function") {
          let m = made.get(prop);
          if (!m || m.value !== value) made.set(prop, (m = { value, fn: traced(t, value, prop) }));
          return m.fn;
        }
        return value;
      },
    });
    tracedModels.set(models, proxy);
    return proxy;
  }

  /** The client with `models` traced; everything else is the client's own. */
  function wrapGoogleGenAI(client) {
    if (client === null || typeof client !== "object") {
      throw new TypeError(`wrapGoogleGenAI(): expected a GoogleGenAI client, got ${client === null ? "null" : typeof client}`);
    }
    let proxy = tracedClients.get(client);
    if (proxy) return proxy;
    proxy = new Proxy(client, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t);
        return prop === "models" ? traceModels(value) : value;
      },
    });
    tracedClients.set(client, proxy);
    return proxy;
  }

  return { wrapGoogleGenAI, traceModels };
}
