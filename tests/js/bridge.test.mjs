// js/bridge.js alone, over a fake wasm: the span port's calls cross as the typed exports
// (defineSpan with the session, declareLlm with unknowns as "", NaN and -1), a session the
// core refuses is left out without turning tracing off, and a trap turns it off once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createBridge, NOOP } from "../../js/bridge.js";

/** A fake of the wasm bindings: logs calls; defineSpan refuses a session that is not JSON. */
function fakeWasm() {
  const calls = [];
  let def = 0;
  const memory = new WebAssembly.Memory({ initial: 1 });
  return {
    calls,
    textBuffer: () => 0,
    wasmMemory: () => memory,
    defineSpan(name, kind, metadata, session) {
      calls.push(["defineSpan", name, kind, metadata, session]);
      if (session !== "") {
        try {
          JSON.parse(session);
        } catch {
          throw Object.assign(new Error("trace(): bad session"), { name: "AgensightError", code: "invalid_option" });
        }
      }
      return ++def;
    },
    start: (d, parent, now, len) => (calls.push(["start", d, parent, now, len]), 7),
    declareLlm: (...a) => calls.push(["declareLlm", ...a]),
    traceId: () => {
      throw new WebAssembly.RuntimeError("unreachable");
    },
  };
}

function bridgeOver(wasm) {
  const warnings = [];
  const bridge = createBridge({ warnOnce: (...a) => warnings.push(a.join(" ")) });
  bridge.attach(wasm);
  return { bridge, warnings };
}

test("define carries the session; a refused session is left out and tracing stays on", () => {
  const wasm = fakeWasm();
  const { bridge, warnings } = bridgeOver(wasm);
  assert.equal(bridge.span.define("main", "trace", "", '{"id":"s"}'), 1);
  assert.equal(bridge.span.define("main", "trace", "", "{bad"), 2);
  assert.equal(bridge.span.start(2, 0, 5, ""), 7);
  assert.deepEqual(wasm.calls, [
    ["defineSpan", "main", "trace", "", '{"id":"s"}'],
    ["defineSpan", "main", "trace", "", "{bad"],
    ["defineSpan", "main", "trace", "", ""],
    ["start", 2, 0, 5, 0],
  ]);
  assert.equal(bridge.off, false);
  assert.deepEqual(warnings, []);
});

test("declare crosses as typed arguments, unknowns as '', NaN and -1", () => {
  const wasm = fakeWasm();
  const { bridge } = bridgeOver(wasm);
  bridge.span.declare(7, { system: "openai", operation: "chat", model: "gpt-4o", temperature: 0.2, max_tokens: 64 });
  bridge.span.declare(7, { system: "anthropic", operation: "chat", temperature: "hot" });
  assert.deepEqual(wasm.calls, [
    ["declareLlm", 7, "openai", "chat", "gpt-4o", 0.2, 64],
    ["declareLlm", 7, "anthropic", "chat", "", NaN, -1],
  ]);
});

test("a trap turns tracing off with one warning; later calls answer their nothing value", () => {
  const wasm = fakeWasm();
  const { bridge, warnings } = bridgeOver(wasm);
  assert.equal(bridge.span.traceId(7), undefined);
  assert.equal(bridge.off, true);
  assert.equal(bridge.span.start(1, 0, 5, ""), NOOP);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /tracing stopped after an internal error/);
});
