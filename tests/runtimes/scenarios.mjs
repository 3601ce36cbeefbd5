// The runtime scenario suite: the same code runs in every runtime (Node ESM and CJS, node@24,
// Deno, Bun, workerd, a Chromium page and a web worker) against the installed package, and
// returns a plain JSON report; tests/runtimes/check.mjs asserts on it in Node. No imports and no
// runtime-specific API here: only the package's public API and web-standard globals.

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function chatCompletion(id, content, toolCall) {
  return {
    id,
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-mini-2024-07-18",
    choices: [{ index: 0, message: { role: "assistant", content, ...(toolCall ? { tool_calls: [toolCall] } : {}) }, finish_reason: toolCall ? "tool_calls" : "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
  };
}

const WEATHER_CALL = { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } };

/**
 * Runs every scenario with `api` (the package's exports) and returns what was observed plus
 * the local store read back.
 * @param {object} api
 * @param {{ runtime: string, dir?: string, storage?: string }} options
 */
export async function runScenarios(api, { runtime, dir, storage } = {}) {
  const { init, trace, span, flush, readLocal, exportLocal, currentTraceId, currentSpanId, inject, extract, continueTrace, bindContext } = api;
  const seen = { runtime, exports: Object.keys(api).sort() };
  init({ name: `suite-${runtime}`, session: "default-session", ...(dir ? { dir } : {}), ...(storage ? { storage } : {}) });

  // 0. Does the active span follow `await` here (AsyncLocalStorage) or not (sync stack)?
  seen.contextFollowsAwait = await trace(async () => {
    const before = currentTraceId();
    await tick();
    return before !== undefined && currentTraceId() === before;
  }, "probe")();

  // 1. The docs example, verbatim: with AsyncLocalStorage both LLM calls nest under the trace;
  // with the sync stack the second call (after an await) starts its own trace (documented).
  let n = 0;
  const callLlm = span(
    async (messages) => {
      await tick();
      n++;
      return chatCompletion(`chatcmpl-${runtime}-${n}`, n % 2 === 1 ? null : "It is sunny.", n % 2 === 1 ? WEATHER_CALL : undefined);
    },
    { name: "llm" },
  );
  const docsBody = (llm) => async (question) => {
    const first = await llm([{ role: "user", content: question }]);
    const second = await llm([{ role: "user", content: question }, first.choices[0].message, { role: "tool", tool_call_id: "call_1", content: "sunny" }]);
    return second.choices[0].message.content;
  };
  const docsOptions = (name) => ({ name, session: { id: "xyz123", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } });
  seen.docs = await trace(docsBody(callLlm), docsOptions("multi_agent_chat"))("What's the weather in Paris?");
  // 1b. The same with the explicit way around the sync stack: bindContext before the first await.
  seen.docsBound = await trace(async (q) => docsBody(bindContext(callLlm))(q), docsOptions("multi_agent_chat_bound"))("What's the weather in Paris?");

  // 2. Async nesting: trace in trace in trace, awaits between, and concurrent children.
  const leaf = span(async (i) => {
    await tick();
    return currentSpanId();
  }, "leaf");
  const inner = trace(async () => {
    const ids = await Promise.all([leaf(1), leaf(2)]);
    await tick();
    return ids;
  }, "inner");
  seen.nesting = await trace(async () => {
    const id = currentTraceId();
    const ids = await inner();
    return { id, leafSpanIds: ids };
  }, "outer")();
  seen.outsideAfter = currentTraceId() ?? null;

  // 3. Errors: the very error objects come back; sync stays sync.
  const err = new RangeError("out of range");
  const syncThrow = span(() => {
    throw err;
  }, "sync-throw");
  try {
    syncThrow();
    seen.syncThrow = "no throw";
  } catch (e) {
    seen.syncThrow = e === err ? "same error" : `other: ${e}`;
  }
  const asyncErr = new TypeError("nope");
  const asyncThrow = trace(async () => {
    await tick();
    throw asyncErr;
  }, "async-throw");
  const p = asyncThrow();
  seen.asyncThrowIsPromise = p instanceof Promise;
  try {
    await p;
    seen.asyncThrow = "no rejection";
  } catch (e) {
    seen.asyncThrow = e === asyncErr ? "same error" : `other: ${e}`;
  }
  const stringThrow = span(() => {
    throw "just a string";
  }, "string-throw");
  try {
    stringThrow();
  } catch (e) {
    seen.stringThrow = e;
  }

  // 4. Sessions: init()'s default, a trace's own (for that trace only), then the default again.
  await trace(async () => tick(), "session-default-1")();
  await trace(async () => tick(), { name: "session-own", session: { id: "own-session", name: "own", user_id: "u1" } })();
  await trace(async () => tick(), "session-default-2")();

  // 5. A sync function stays sync: same value, same `this`, name and length kept.
  const obj = { base: 40 };
  obj.add = span(function add(a, b) {
    return this.base + a + b;
  });
  const r = obj.add(1, 1);
  seen.sync = { value: r, isPromise: r instanceof Promise, name: obj.add.name, length: obj.add.length };

  // 6. A streaming async iterable: the span ends when the stream is consumed, or closed early.
  const stream = span(async function* tokens(count) {
    for (let i = 0; i < count; i++) {
      await tick();
      yield `tok${i}`;
    }
  }, "stream");
  const got = [];
  for await (const t of stream(3)) got.push(t);
  const early = [];
  for await (const t of stream(5)) {
    early.push(t);
    if (early.length === 2) break;
  }
  seen.stream = { got, early };

  // 7. W3C trace context: inject inside a trace, extract it, continue a remote trace.
  seen.propagation = await trace(async () => {
    const headers = inject({ "content-type": "application/json" });
    const fromHeaders = typeof Headers === "function" ? inject(new Headers()).get("traceparent") : headers.traceparent;
    return { traceparent: headers.traceparent, fromHeaders, traceId: currentTraceId(), spanId: currentSpanId(), extracted: extract(headers) ?? null };
  }, "propagation")();
  seen.outsideInject = inject({});
  const remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  seen.continued = await continueTrace({ traceparent: remote }, async () => {
    await tick();
    return currentTraceId() ?? null;
  }, { name: "continued" });
  seen.unsampled = await continueTrace({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-00" }, () => trace(() => currentTraceId() ?? null, "unsampled")(), { name: "unsampled-root" });

  seen.flush = await flush();
  seen.local = await readLocal();
  const exported = await exportLocal();
  seen.export = { agensight: exported.agensight, version: exported.version, count: exported.records.length, types: [...new Set(exported.records.map((r) => r.type))].sort() };
  return JSON.parse(JSON.stringify(seen));
}
