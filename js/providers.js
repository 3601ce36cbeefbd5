// Provider client wrappers: `wrapOpenAI(client)` and `wrapAnthropic(client)` return the same
// client, traced. No runtime imports. Only the entries import this module, and make the
// wrappers at their first call (lazy.js), so an app that never calls them leaves it out of its
// bundle (HACKING.md, "What a bundle leaves out").
//
// How (see docs/records.md "LLM client wrappers" for what is recorded):
// - The wrapper is a Proxy over the client; resources on the way to a traced method
//   (`chat`, `chat.completions`, `messages`, ...) are Proxies too, everything else is the
//   client's own (methods bound to the real object, so private fields keep working). Nothing
//   of the user's client is modified: `instanceof`, other methods and properties are as they
//   were.
// - A traced method starts an `llm` span (`openai.chat.completions.create`, ...) whose input
//   is the request, declares the call to the core (provider, operation, request parameters:
//   a failed call still records them), and calls the real method inside the span.
// - The SDK's result is an APIPromise (a Promise subclass with `withResponse()`,
//   `asResponse()`, ...). It is handed back behind a Proxy of itself: awaiting it,
//   `withResponse()` and the other helpers work as before, and the body is parsed only when
//   the caller asks for it (`asResponse()` still gets an unread Response).
// - A whole response is fed to the core as one chunk and ends the span. A stream (`stream:
//   true`) is the SDK's own Stream object, returned as it is: its iterator factory, which
//   `for await`, `tee()` and `toReadableStream()` all go through, is wrapped on that one
//   object, so every chunk is passed on untouched and also fed to the core, which aggregates
//   content, tool calls and usage. The span ends when the stream ends, fails, is closed
//   (`break`, `return()`), aborted, or garbage-collected unread.
// - API errors end the span with the error's name and its message plus status, type, code
//   and request id; the caller gets the very same error object.

import { errorInfo } from "./serialize.js";
import { streamEnd } from "./stream-end.js";

const PROVIDERS = {
  openai: {
    system: "openai",
    label: "wrapOpenAI",
    methods: {
      "chat.completions.create": { name: "openai.chat.completions.create", operation: "chat" },
      "responses.create": { name: "openai.responses.create", operation: "chat" },
      "embeddings.create": { name: "openai.embeddings.create", operation: "embeddings" },
      // SDK helpers that call `this._client.chat.completions.create` / `.responses.create`
      // (once, or once per tool round for runTools): run with a client whose creates are
      // traced under the helper's name.
      "chat.completions.parse": { name: "openai.chat.completions.parse", viaClient: true },
      "chat.completions.stream": { name: "openai.chat.completions.stream", viaClient: true },
      "chat.completions.runTools": { name: "openai.chat.completions.runTools", viaClient: true },
      "responses.parse": { name: "openai.responses.parse", viaClient: true },
      "responses.stream": { name: "openai.responses.stream", viaClient: true },
    },
  },
  anthropic: {
    system: "anthropic",
    label: "wrapAnthropic",
    methods: {
      "messages.create": { name: "anthropic.messages.create", operation: "chat" },
      "messages.stream": { name: "anthropic.messages.stream", operation: "chat", helper: true },
      "beta.messages.create": { name: "anthropic.beta.messages.create", operation: "chat" },
      "beta.messages.stream": { name: "anthropic.beta.messages.stream", operation: "chat", helper: true },
    },
  },
};
for (const p of Object.values(PROVIDERS)) {
  p.key = p.system;
  p.prefixes = prefixesOf(p.methods);
}

function prefixesOf(methods) {
  const prefixes = new Set();
  for (const path of Object.keys(methods)) {
    const parts = path.split(".");
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join("."));
  }
  return prefixes;
}

/** The provider as a helper's client sees it: only the creates, named after the helper. */
const helperProviders = new Map(); // helper span name -> provider
function helperProvider(provider, route) {
  let h = helperProviders.get(route.name);
  if (!h) {
    const methods = {};
    for (const [path, r] of Object.entries(provider.methods)) {
      if (path.endsWith(".create") && !r.viaClient) methods[path] = { ...r, name: route.name };
    }
    h = { ...provider, key: `${provider.system}:${route.name}`, methods, prefixes: prefixesOf(methods) };
    helperProviders.set(route.name, h);
  }
  return h;
}

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * @param {object} p
 * @param {(name: string, opts: {kind?: string, args?: any[]}) => any} p.begin spans.js
 *   `begin` (the API's `internal.begin`): starts a span by hand, or null when nothing is recorded
 */
export function createProviders({ begin }) {
  const wrappers = new WeakMap(); // Proxy -> the real object
  const proxies = new WeakMap(); // real object -> Map(provider:path -> Proxy)

  function wrapClient(client, provider) {
    if (client === null || (typeof client !== "object" && typeof client !== "function")) {
      throw new TypeError(`${provider.label}(): expected a client object, got ${client === null ? "null" : typeof client}`);
    }
    if (wrappers.has(client)) return client;
    return proxyFor(client, "", provider);
  }

  function proxyFor(target, path, provider) {
    const key = `${provider.key}:${path}`;
    let byKey = proxies.get(target);
    const hit = byKey?.get(key);
    if (hit) return hit;
    const members = new Map(); // prop -> { value, made }: one function per member, stable identity
    const made = (prop, value, make) => {
      const m = members.get(prop);
      if (m && m.value === value) return m.made;
      const f = make();
      members.set(prop, { value, made: f });
      return f;
    };
    const proxy = new Proxy(target, {
      get(t, prop) {
        let value = Reflect.get(t, prop, t);
        // A frozen member must be reported as it is (Proxy invariant).
        const d = Reflect.getOwnPropertyDescriptor(t, prop);
        if (d && !d.configurable && d.writable === false) return value;
        if (typeof prop === "string") {
          const p = path ? `${path}.${prop}` : prop;
          const route = provider.methods[p];
          if (route?.viaClient && typeof value === "function") return made(prop, value, () => viaClient(t, value, route, provider));
          if (route && typeof value === "function") return made(prop, value, () => tracedMethod(t, value, route, provider));
          // A resource traced already (instrumentModules' accessors): trace the real one.
          if (wrappers.has(value) && provider.prefixes.has(p)) value = wrappers.get(value);
          if (value !== null && typeof value === "object" && provider.prefixes.has(p)) return proxyFor(value, p, provider);
          if (path === "" && prop === "withOptions" && typeof value === "function") {
            // A copy of the client with other options: traced as well.
            return made(prop, value, () => (...args) => wrapClient(Reflect.apply(value, t, args), provider));
          }
        }
        if (typeof value === "function" && prop !== "constructor") return made(prop, value, () => value.bind(t));
        return value;
      },
      set: (t, prop, value) => Reflect.set(t, prop, value, t),
    });
    wrappers.set(proxy, target);
    if (!byKey) proxies.set(target, (byKey = new Map()));
    byKey.set(key, proxy);
    return proxy;
  }

  function tracedMethod(target, fn, route, provider) {
    return function traced(...args) {
      const params = args[0];
      const sp = begin(route.name, { kind: "llm", args: [params] });
      if (!sp) return Reflect.apply(fn, target, args);
      declare(sp, provider, route, params);
      const hooks = callHooks(sp);
      if (route.helper) return streamHelper(sp, hooks, target, fn, args);
      let result;
      try {
        result = sp.run(() => Reflect.apply(fn, target, args));
      } catch (e) {
        hooks.error(e);
        throw e;
      }
      return observe(result, hooks);
    };
  }

  /**
   * An SDK helper (`parse`, `stream`, `runTools`) run on the real resource, except that its
   * `this._client` is the client whose creates are traced under the helper's name.
   */
  function viaClient(target, fn, route, provider) {
    const helper = helperProvider(provider, route);
    return function traced(...args) {
      const self = new Proxy(target, {
        get(t, prop) {
          const value = Reflect.get(t, prop, t);
          if (prop === "_client" && value !== null && typeof value === "object") return wrapClient(wrappers.get(value) ?? value, helper);
          return typeof value === "function" && prop !== "constructor" ? value.bind(t) : value;
        },
      });
      return Reflect.apply(fn, self, args);
    };
  }

  return {
    /**
     * Traces an OpenAI client (`openai` package, or any client of the same shape):
     * `chat.completions.create` (plain and streamed), `responses.create`, `embeddings.create`,
     * and the SDK's helpers `chat.completions.parse`/`stream`/`runTools`,
     * `responses.parse`/`stream` (one span per request they make, named after the helper).
     * @template T
     * @param {T} client
     * @returns {T}
     */
    wrapOpenAI: (client) => wrapClient(client, PROVIDERS.openai),
    /**
     * Traces an Anthropic client (`@anthropic-ai/sdk`): `messages.create` (plain and streamed),
     * `messages.stream`, and the same under `beta`.
     * @template T
     * @param {T} client
     * @returns {T}
     */
    wrapAnthropic: (client) => wrapClient(client, PROVIDERS.anthropic),
  };
}

/** Tells the core which call this span is, before any response: provider, operation, request
 * (a declaration, not captured data: the user's redact function does not see it). */
function declare(sp, provider, route, params) {
  const d = { system: provider.system, operation: route.operation };
  try {
    if (params !== null && typeof params === "object") {
      if (typeof params.model === "string") d.model = params.model;
      if (typeof params.temperature === "number") d.temperature = params.temperature;
      const max = params.max_tokens ?? params.max_completion_tokens ?? params.max_output_tokens;
      if (typeof max === "number") d.max_tokens = max;
    }
  } catch {
    // A request whose getters throw: the SDK will say so; the declaration stays minimal.
  }
  sp.declare(d);
}

/**
 * What happens to one call's span: its value (a whole response ends the span; a stream hands
 * the ending over to the stream), an error, or a raw Response. Each value is handled once.
 */
function callHooks(sp) {
  let settled = false;
  let seen = false;
  let seenIn;
  let seenOut;
  return {
    value(data) {
      if (seen && data === seenIn) return seenOut;
      let out = data;
      if (!settled) {
        settled = true;
        try {
          if (isAsyncIterable(data)) out = observeStream(data, sp);
          else {
            // The declared span takes its output as the whole response (captured once).
            sp.end(forRecord(data));
          }
        } catch {
          out = data;
        }
      }
      seen = true;
      seenIn = data;
      seenOut = out;
      return out;
    },
    error(e) {
      if (settled) return;
      settled = true;
      sp.fail(apiError(e));
    },
    raw(response) {
      if (settled) return;
      settled = true;
      let status;
      try {
        status = response.status;
      } catch {}
      sp.end({ status, body: "[read by the caller: asResponse()]" });
    },
    get settled() {
      return settled;
    },
    untraced() {
      if (settled) return;
      settled = true;
      sp.end(undefined);
    },
  };
}

function isThenable(v) {
  try {
    return v !== null && (typeof v === "object" || typeof v === "function") && typeof v.then === "function";
  } catch {
    return false;
  }
}

function isAsyncIterable(v) {
  try {
    return v !== null && typeof v === "object" && typeof v[Symbol.asyncIterator] === "function";
  } catch {
    return false;
  }
}

function observe(result, hooks) {
  return isThenable(result) ? tracePromise(result, hooks) : hooks.value(result);
}

/**
 * The SDK's promise behind a Proxy of itself: the same class, the same helpers; what it
 * resolves to passes through `hooks`. Nothing is parsed before the caller asks.
 */
function tracePromise(p, hooks) {
  let settled;
  const settle = () =>
    (settled ??= new Promise((resolve, reject) => {
      p.then(
        (v) => resolve(hooks.value(v)),
        (e) => {
          hooks.error(e);
          reject(e);
        },
      );
    }));
  const bound = new Map();
  return new Proxy(p, {
    get(t, prop) {
      if (prop === "then") return (a, b) => settle().then(a, b);
      if (prop === "catch") return (b) => settle().catch(b);
      if (prop === "finally") return (f) => settle().finally(f);
      const value = Reflect.get(t, prop, t);
      if (prop === "withResponse" && typeof value === "function") {
        return () =>
          Reflect.apply(value, t, []).then(
            (r) => {
              const data = hooks.value(r?.data);
              return data === r?.data ? r : { ...r, data };
            },
            (e) => {
              hooks.error(e);
              throw e;
            },
          );
      }
      if (prop === "_thenUnwrap" && typeof value === "function") {
        // The SDK's `parse` helpers: the response is read by the unwrapped promise, which
        // records it before its transform; its errors end the span.
        const after = { value: (v) => v, error: (e) => hooks.error(e), raw: (r) => hooks.raw(r) };
        return (transform, ...rest) => tracePromise(Reflect.apply(value, t, [(v, ...a) => transform(hooks.value(v), ...a), ...rest]), after);
      }
      if (prop === "asResponse" && typeof value === "function") {
        return () =>
          Reflect.apply(value, t, []).then(
            (r) => {
              hooks.raw(r);
              return r;
            },
            (e) => {
              hooks.error(e);
              throw e;
            },
          );
      }
      if (typeof value === "function" && prop !== "constructor") {
        let f = bound.get(prop);
        if (!f || f.value !== value) bound.set(prop, (f = { value, fn: value.bind(t) }));
        return f.fn;
      }
      return value;
    },
  });
}

/**
 * Feeds every item of the SDK's stream to the span and ends the span with the stream. The
 * stream object itself is returned: only its iterator factory is wrapped.
 */
function observeStream(stream, sp) {
  const span = streamEnd(sp, apiError);
  const end = span.end;
  const wrapIterator = (it) => ({
    async next(...a) {
      let r;
      try {
        r = await it.next(...a);
      } catch (e) {
        end(e, true);
        throw e;
      }
      if (r.done) end();
      else if (!span.ended) sp.chunk(r.value);
      return r;
    },
    async return(v) {
      try {
        return typeof it.return === "function" ? await it.return(v) : { done: true, value: v };
      } catch (e) {
        end(e, true);
        throw e;
      } finally {
        end();
      }
    },
    async throw(e) {
      if (typeof it.throw !== "function") {
        end();
        throw e;
      }
      let r;
      try {
        r = await it.throw(e);
      } catch (x) {
        end(x, true);
        throw x;
      }
      if (r.done) end();
      else if (!span.ended) sp.chunk(r.value);
      return r;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  });
  try {
    // openai and @anthropic-ai/sdk streams: every way of reading (`for await`, `tee()`,
    // `toReadableStream()`) calls the instance's `iterator` factory.
    const d = Object.getOwnPropertyDescriptor(stream, "iterator");
    if (d && typeof d.value === "function" && d.writable) {
      const factory = d.value;
      stream.iterator = function iterator(...args) {
        return wrapIterator(Reflect.apply(factory, this, args));
      };
    } else {
      const factory = stream[Symbol.asyncIterator];
      Object.defineProperty(stream, Symbol.asyncIterator, {
        value: function asyncIterator(...args) {
          return wrapIterator(Reflect.apply(factory, this, args));
        },
        configurable: true,
        writable: true,
      });
    }
  } catch {
    // A frozen stream: hand back a plain async iterable over it.
    const source = stream;
    span.watch(source);
    return { [Symbol.asyncIterator]: () => wrapIterator(source[Symbol.asyncIterator]()) };
  }
  span.watch(stream);
  return stream;
}

/**
 * `messages.stream()`: the SDK helper builds its MessageStream on `this.create(...)`. It runs
 * on the real resource, except that its `create` is the traced one, in this span.
 */
function streamHelper(sp, hooks, target, fn, args) {
  let created = false;
  const inner = new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (prop === "create" && !created && typeof value === "function") {
        return (...a) => {
          created = true;
          let r;
          try {
            r = sp.run(() => Reflect.apply(value, t, a));
          } catch (e) {
            hooks.error(e);
            throw e;
          }
          return observe(r, hooks);
        };
      }
      return typeof value === "function" && prop !== "constructor" ? value.bind(t) : value;
    },
  });
  let result;
  try {
    result = Reflect.apply(fn, inner, args);
  } catch (e) {
    hooks.error(e);
    throw e;
  }
  // A helper that did not go through `create` (another SDK version): nothing to observe.
  if (!created) setTimeout(() => created || hooks.untraced(), 0);
  return result;
}

/**
 * The response as recorded: embedding vectors as their length (the core puts the identifying
 * members and usage first, so a clamped capture keeps them).
 */
function forRecord(data) {
  try {
    if (data === null || typeof data !== "object" || Array.isArray(data)) return data;
    if (data.object === "list" && Array.isArray(data.data)) return { ...data, data: data.data.map(vectorAsLength) };
    return data;
  } catch {
    return data;
  }
}

function vectorAsLength(d) {
  if (d === null || typeof d !== "object" || !hasOwn(d, "embedding")) return d;
  const e = d.embedding;
  let embedding = e;
  if (Array.isArray(e) || ArrayBuffer.isView(e)) embedding = `[${e.length} numbers]`;
  else if (typeof e === "string") embedding = `[base64, ${e.length} characters]`;
  return { ...d, embedding };
}

/**
 * An SDK API error as the span records it: its own name (`RateLimitError`) and message, with
 * the HTTP status, the error type and code and the request id added. Other values as they are.
 */
function apiError(e) {
  try {
    if (e === null || typeof e !== "object") return e;
    const str = (v) => (typeof v === "string" && v ? v : undefined);
    const status = typeof e.status === "number" ? e.status : undefined;
    const type = str(e.type) ?? str(e.error?.error?.type) ?? (e.error?.type !== "error" ? str(e.error?.type) : undefined);
    if (status === undefined && type === undefined) return e;
    const code = str(e.code) ?? str(e.errorCode) ?? str(e.error?.code);
    const requestId = str(e.requestID) ?? str(e.request_id);
    const details = [status !== undefined && `status ${status}`, type && `type ${type}`, code && `code ${code}`, requestId && `request id ${requestId}`].filter(Boolean).join(", ");
    const info = errorInfo(e);
    return { name: info.name, message: `${info.message} (${details})`, stack: info.stack };
  } catch {
    return e;
  }
}
