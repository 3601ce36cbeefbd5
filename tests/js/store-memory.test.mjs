// js/store-memory.js: the memory store (storage "memory", and workerd's local store), bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryStore } from "../../js/store-memory.js";

const line = (i) => JSON.stringify({ type: "span", data: { i } }) + "\n";

test("unbounded by default: keeps every line, clear() empties it", () => {
  const m = memoryStore();
  for (let i = 0; i < 1000; i++) m.write(line(i));
  assert.equal(m.read().split("\n").length - 1, 1000);
  assert.equal(m.dropped, 0);
  m.clear();
  assert.equal(m.read(), "");
});

test("bounded: the oldest whole lines go, the rest stay whole", () => {
  const m = memoryStore({ maxBytes: 200 });
  for (let i = 0; i < 50; i++) m.write(line(i) + line(i + 1000));
  const text = m.read();
  assert.ok(text.length <= 200, `${text.length} characters`);
  const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l).data.i);
  assert.deepEqual(lines.at(-1), 1049, "the newest record is kept");
  assert.ok(text.endsWith("\n"));
  assert.equal(m.dropped + lines.length, 100, "every record is kept or counted as dropped");
});

test("a single batch larger than the bound keeps what fits at its end", () => {
  const m = memoryStore({ maxBytes: 60 });
  m.write(line(1) + line(2) + line(3));
  assert.deepEqual(m.read().trimEnd().split("\n").map((l) => JSON.parse(l).data.i), [3]);
  assert.equal(m.dropped, 2);
});

test("UTF-8 bytes (what the tracer hands over) read back as the same text, bounded alike", () => {
  const bytes = (s) => new TextEncoder().encode(s);
  const m = memoryStore();
  m.write(bytes(line("21 °C") + line("😀")));
  m.write(line(3));
  m.write(bytes(line("ünï")));
  assert.deepEqual(m.read().trimEnd().split("\n").map((l) => JSON.parse(l).data.i), ["21 °C", "😀", 3, "ünï"]);

  const b = memoryStore({ maxBytes: 200 });
  for (let i = 0; i < 50; i++) b.write(bytes(line(i) + line(`${i} °C`)));
  const text = b.read();
  assert.ok(text.length <= 200, `${text.length} characters`);
  const kept = text.trimEnd().split("\n").map((l) => JSON.parse(l).data.i);
  assert.equal(kept.at(-1), "49 °C", "the newest record is kept");
  assert.equal(b.dropped + kept.length, 100, "every record is kept or counted as dropped");
});

test("bounded, in chunks of any size: the same lines as dropping the fewest oldest lines of the whole text after each write", () => {
  // A reference model of the bound on one string, against the store that keeps chunks and
  // cuts at most one per write: what is kept and the counts must agree on every step.
  const bytes = (s) => new TextEncoder().encode(s);
  let seed = 7;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (const max of [60, 200, 1000]) {
    const m = memoryStore({ maxBytes: max });
    let model = "";
    let modelDropped = 0;
    let modelSpans = 0;
    for (let w = 0; w < 300; w++) {
      let text = "";
      for (let k = rand(4); k >= 0; k--) {
        const i = rand(1000);
        text += rand(3) === 0 ? JSON.stringify({ type: "trace", data: { i } }) + "\n" : line(rand(2) ? i : `${i} °C ${"x".repeat(rand(80))}`);
      }
      const put = (piece, asBytes) => {
        m.write(asBytes ? bytes(piece) : piece);
        model += piece;
        if (model.length > max) {
          const nl = model.indexOf("\n", model.length - max - 1);
          const cut = nl === -1 ? model.length : nl + 1;
          for (const l of model.slice(0, cut).split("\n").slice(0, -1)) {
            modelDropped++;
            if (l.startsWith('{"type":"span"')) modelSpans++;
          }
          model = model.slice(cut);
        }
      };
      if (rand(3) === 0) {
        // Text split anywhere (a line across two writes); bytes are whole lines, as the core
        // hands them over.
        const at = rand(text.length);
        put(text.slice(0, at), false);
        put(text.slice(at), false);
      } else put(text, rand(2) === 0);
      if (rand(10) === 0) assert.equal(m.read(), model, `max ${max}, write ${w}`);
    }
    assert.equal(m.read(), model);
    assert.equal(m.dropped, modelDropped);
    assert.deepEqual(m.counts(), { failed: 0, dropped: modelSpans });
  }
});
