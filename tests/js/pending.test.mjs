// js/pending.js alone: the span calls logged while the wasm loads, replayed into a fake span
// port in order, with provisional ids mapped to the real ones, within the bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPendingLog, MAX_PENDING } from "../../js/pending.js";

const NOOP = 0xffffffff;

/** A span port that hands out handles 1, 2, ... and definitions 100, 101, ... and logs calls. */
function fakePort() {
  const calls = [];
  let h = 0;
  let d = 99;
  return {
    calls,
    define: (...a) => (calls.push(["define", ...a]), ++d),
    start: (...a) => (calls.push(["start", ...a]), ++h),
    startRemote: (...a) => (calls.push(["startRemote", ...a]), ++h),
    end: (...a) => (calls.push(["end", ...a]), true),
    endError: (...a) => (calls.push(["endError", ...a]), false),
    streamChunk: (...a) => calls.push(["chunk", ...a]),
    declare: (...a) => calls.push(["declare", ...a]),
  };
}

test("replay: in order, with their own times, parents and definitions mapped", () => {
  const log = createPendingLog();
  const def = log.define("main", "trace", '{"m":1}', '{"id":"s"}');
  const root = log.start(def, 0, 1000, "[1]");
  const cdef = log.define("child", "span", "");
  const child = log.start(cdef, root, 1001, "[]");
  log.declare(child, { system: "openai", operation: "chat" });
  log.chunk(child, '{"delta":"a"}');
  log.endError(child, 1002, "TypeError", "bad", "stack");
  const remote = log.start(cdef, 0, 1003, "", { traceId: "a".repeat(32), spanId: "b".repeat(16) });
  log.end(root, 1004, '"out"');
  assert.ok(root > NOOP && child > NOOP && def > NOOP, "provisional ids are above every u32");
  assert.equal(log.spans, 3);

  const port = fakePort();
  const emitted = log.replay(port);
  assert.equal(emitted, true);
  assert.deepEqual(port.calls, [
    ["define", "main", "trace", '{"m":1}', '{"id":"s"}'],
    ["start", 100, 0, 1000, "[1]"],
    ["define", "child", "span", "", ""],
    ["start", 101, 1, 1001, "[]"],
    ["declare", 2, { system: "openai", operation: "chat" }],
    ["chunk", 2, '{"delta":"a"}'],
    ["endError", 2, 1002, "TypeError", "bad", "stack"],
    ["startRemote", 101, "a".repeat(32), "b".repeat(16), 1003, ""],
    ["end", 1, 1004, '"out"'],
  ]);
  // Spans still open end later through the map.
  assert.deepEqual([log.real(root), log.real(child), log.real(remote), log.real(def)], [1, 2, 3, 100]);
  assert.equal(log.spans, 0);
});

test("the bound: definitions, starts and chunks count; a refused start is dropped and counted, its ends ignored; ends of logged spans always kept", () => {
  assert.equal(MAX_PENDING, 1000);
  const log = createPendingLog(4);
  const def = log.define("f", "span", "");
  const a = log.start(def, 0, 1, "");
  const b = log.start(def, 0, 2, "");
  log.chunk(a, "{}"); // the 4th operation
  const c = log.start(def, 0, 3, ""); // refused
  log.chunk(b, "{}"); // refused too
  assert.equal(c, NOOP);
  log.end(c, 4, "");
  log.end(a, 5, "");
  log.end(b, 6, "");
  assert.equal(log.dropped, 2);
  const port = fakePort();
  log.replay(port);
  assert.deepEqual(port.calls.map((x) => x[0]), ["define", "start", "start", "chunk", "end", "end"]);
});

test("clear(count): what was logged is dropped and counted (a new init() while loading)", () => {
  const log = createPendingLog();
  const def = log.define("f", "span", "");
  log.start(def, 0, 1, "");
  log.start(def, 0, 2, "");
  log.clear(true);
  assert.equal(log.dropped, 2);
  const port = fakePort();
  assert.equal(log.replay(port), false);
  assert.deepEqual(port.calls, []);
});

test("replay: a definition the core evicted meanwhile (start answers REDEFINE, 0) is defined again from the log", () => {
  const log = createPendingLog();
  const def = log.define("job", "trace", '{"req":7}');
  const a = log.start(def, 0, 1000, "[1]");
  const b = log.start(def, 0, 1001, "[2]");
  log.end(a, 1002, "1");
  log.end(b, 1003, "2");
  const port = fakePort();
  // The core evicted definition 100 before the second start (a bound smaller than the log).
  const start = port.start;
  let starts = 0;
  port.start = (d, ...rest) => (++starts === 2 ? (port.calls.push(["start", d, ...rest]), 0) : start(d, ...rest));
  log.replay(port);
  assert.deepEqual(port.calls, [
    ["define", "job", "trace", '{"req":7}', ""],
    ["start", 100, 0, 1000, "[1]"],
    ["start", 100, 0, 1001, "[2]"],
    ["define", "job", "trace", '{"req":7}', ""],
    ["start", 101, 0, 1001, "[2]"],
    ["end", 1, 1002, "1"],
    ["end", 2, 1003, "2"],
  ]);
  assert.deepEqual([log.real(a), log.real(b), log.real(def)], [1, 2, 101]);
});
